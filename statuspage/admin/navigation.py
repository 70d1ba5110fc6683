"""The admin's navigation: one list, so a new page is one line here and its module's
views highlight their entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request
from flask_login import current_user

from statuspage.admin.routes import bp
from statuspage.models import Role


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    role: Role
    modules: tuple[str, ...]  # views defined in these admin modules mark the entry current


NAV = (
    NavItem("Dashboard", "admin.dashboard", Role.VIEWER, ("routes", "incidents", "first_post")),
    NavItem("Inbox", "admin.inbox", Role.VIEWER, ("inbox",)),
    NavItem("Maintenance", "admin.maintenances", Role.RESPONDER, ("maintenance",)),
    NavItem("Templates", "admin.templates", Role.RESPONDER, ("incident_templates",)),
    NavItem("Components", "admin.components", Role.ADMIN, ("components",)),
    NavItem("Subscribers", "admin.subscribers", Role.ADMIN, ("subscribers",)),
    NavItem("Channels", "admin.channels", Role.ADMIN, ("channels",)),
    NavItem("Integrations", "admin.integrations", Role.ADMIN, ("integrations",)),
    NavItem("Third parties", "admin.upstreams", Role.ADMIN, ("upstreams",)),
    NavItem("Users", "admin.users", Role.ADMIN, ("users",)),
    NavItem("Audit log", "admin.audit", Role.ADMIN, ("audit",)),
    NavItem("Settings", "admin.settings", Role.ADMIN, ("settings",)),
)


def current_module() -> str | None:
    view = current_app.view_functions.get(request.endpoint or "")
    return view.__module__.rsplit(".", 1)[-1] if view else None


@bp.app_template_global()
def admin_nav() -> list[dict[str, Any]]:
    """The entries the signed-in user's role may open, the current one marked."""
    here = current_module()
    return [
        {"item": item, "current": here in item.modules}
        for item in NAV
        if current_user.is_authenticated and current_user.can(item.role)
    ]
