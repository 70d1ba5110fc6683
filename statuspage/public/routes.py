"""Public routes: they serve the last published snapshot and never touch the database,
so the page stays up while the database, broker or workers are down."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, send_file

from statuspage.publishing.snapshot import current_dir

bp = Blueprint("public", __name__)

_ID = re.compile(r"^[0-9a-z]{12}$")
CACHE_CONTROL = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"


def _serve(relative: str, mimetype: str) -> Response:
    root = current_dir(Path(current_app.config["PUBLISH_DIR"]))
    if root is None:
        return Response(
            render_template("public/unpublished.html"), status=503, headers={"Retry-After": "5"}
        )
    path = root / relative
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True)
    response.headers["Cache-Control"] = CACHE_CONTROL
    if mimetype == "application/json":
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/")
def index() -> Response:
    return _serve("index.html", "text/html")


@bp.get("/incidents/<incident_id>")
def incident(incident_id: str) -> Response:
    if not _ID.match(incident_id):
        abort(404)
    return _serve(f"incidents/{incident_id}.html", "text/html")


@bp.get("/api/v2/<path:name>")
def api_v2(name: str) -> Response:
    if ".." in name.split("/") or not name.endswith(".json"):
        abort(404)
    return _serve(f"api/v2/{name}", "application/json")
