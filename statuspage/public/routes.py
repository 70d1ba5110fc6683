"""Public routes behind the snapshot middleware (``statuspage.public.site``).

The middleware answers every URL the snapshot holds without entering Flask; a request
reaches these views only when the snapshot lacks the file. They never touch the database,
so the answer is the same while the database, broker or workers are down: 503 before
the first publish, 404 afterwards.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template

from statuspage.i18n import current
from statuspage.public.site import PAGE_CACHE
from statuspage.publishing.snapshot import current_dir

bp = Blueprint("public", __name__)


def _absent(*_: object, **__: object) -> Response:
    """In the language the browser asks for (the page's default needs the database)."""
    spoken = {"Vary": "Accept-Language", "Content-Language": current().code}
    if current_dir(Path(current_app.config["PUBLISH_DIR"])) is None:
        return Response(
            render_template("public/unpublished.html"),
            status=503,
            headers={"Retry-After": "5", **spoken},
        )
    return Response(
        render_template("public/not_found.html"),
        status=404,
        headers={"Cache-Control": PAGE_CACHE, **spoken},
    )


# Endpoint names stay stable for url_for: the snapshot holds the files these URLs name.
for rule, endpoint in [
    ("/", "index"),
    ("/incidents/<incident_id>", "incident"),
    ("/history", "history"),
    ("/history/<month>", "history_month"),
    ("/history.rss", "history_rss"),
    ("/history.atom", "history_atom"),
    ("/components/<component_id>/<name>", "component_file"),
    ("/badge.svg", "badge"),
    ("/widget.json", "widget"),
    ("/api/v2/<path:name>", "api_v2"),
]:
    bp.add_url_rule(rule, endpoint, _absent, methods=["GET"])
