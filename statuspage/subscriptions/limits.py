"""Rate limits for the public subscription endpoints (Flask-Limiter).

Counters live in Redis when the broker is Redis (shared by every web process), in memory
otherwise (embedded mode). Keys carry the installation's queue name so installations
sharing one Redis count separately. Behind a reverse proxy, ``STATUSPAGE_PROXY_HOPS``
must count it, or every visitor shares the proxy's budget.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address


def _client_key() -> str:
    return f"{current_app.config['CELERY_QUEUE']}:{get_remote_address()}"


def subscribe_limit() -> str:
    return current_app.config["SUBSCRIBE_RATE_LIMIT"]


limiter = Limiter(key_func=_client_key)
