"""Monitoring alerts in: Alertmanager, Grafana and generic JSON become draft incidents or
automatic component statuses by rules an admin sets."""

from statuspage.integrations.routes import bp

__all__ = ["bp"]
