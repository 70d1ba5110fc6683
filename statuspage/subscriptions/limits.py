"""Rate limits for the public subscription endpoints (Flask-Limiter).

Counters live in Redis when the broker is Redis, and otherwise in a SQLite file in the
data directory (``statuspage.ratelimit_store``): either way every web process adds to the
same count. Keys carry the installation's queue name so installations sharing one Redis
count separately. Behind a reverse proxy, ``STATUSPAGE_PROXY_HOPS`` must count it, or
every visitor shares the proxy's budget.
"""

from __future__ import annotations

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from statuspage import ratelimit_store  # noqa: F401  (registers the sqlite:// counters)


def _client_key() -> str:
    return f"{current_app.config['CELERY_QUEUE']}:{get_remote_address()}"


def subscribe_limit() -> str:
    return current_app.config["SUBSCRIBE_RATE_LIMIT"]


limiter = Limiter(key_func=_client_key)
