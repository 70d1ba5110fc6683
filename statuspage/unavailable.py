"""Clear answers while the database is down. The public site is served from its published
snapshot and stays up; every request that needs the database gets a 503 with Retry-After:
the admin a page in its own style, the write API its JSON error with code "unavailable",
the public forms a page in their layout, the subscription API its JSON error. The answer
is rendered without touching the database (no session, no signed-in user, no page row),
and the request's transaction is rolled back, so nothing is half-written.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from statuspage.api.errors import error_response
from statuspage.extensions import db, login_manager

log = logging.getLogger(__name__)

RETRY_AFTER = 30  # seconds; a database restart or failover usually takes about this long
MESSAGE = "The database is unavailable; the public page is still up."
# What a lost or refused database connection raises (SQLite: a file that cannot be opened
# or stays locked; PostgreSQL: refused, reset or timed-out connections).
DOWN = (OperationalError, InterfaceError, PoolTimeout)


def init_app(app: Flask) -> None:
    for error in DOWN:
        app.register_error_handler(error, _unavailable)


def _page_name() -> str:
    """The page's name as last published (the database cannot be asked)."""
    summary = Path(current_app.config["PUBLISH_DIR"]) / "current" / "api/v2/summary.json"
    try:
        return str(json.loads(summary.read_text())["page"]["name"])
    except (OSError, ValueError, KeyError, TypeError):
        return "Status"


def _render(template: str, **values: object) -> str:
    """Straight from the environment, as someone signed out: the context processors would
    look up the signed-in user and what the admin's banners show."""
    anonymous = login_manager.anonymous_user()
    return current_app.jinja_env.get_template(template).render(current_user=anonymous, **values)


def _unavailable(exc: Exception) -> Response:
    log.warning("database unavailable for %s %s: %s", request.method, request.path, exc)
    try:
        db.session.rollback()
    except DOWN:
        pass  # the connection is gone, and with it anything it had not committed
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    path = request.path
    if path.startswith("/api/v1/"):
        return error_response(503, "unavailable", MESSAGE, headers=headers)
    if path.startswith("/api/"):
        response = jsonify({"error": MESSAGE, "code": "unavailable", "fields": {}})
    elif path.startswith("/admin"):
        response = Response(_render("admin/unavailable.html", message=MESSAGE))
    else:
        page = {"name": _page_name()}
        response = Response(_render("unavailable.html", page=page, message=MESSAGE))
    response.status_code = 503
    response.headers.update(headers)
    return response
