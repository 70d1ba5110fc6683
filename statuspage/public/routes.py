"""Public routes behind the snapshot middleware (``statuspage.public.site``).

The middleware answers every URL the snapshot holds without entering Flask; a request
reaches these views only when the snapshot lacks the file. They never touch the database,
so the answer is the same while the database, broker or workers are down: 503 before
the first publish, 404 afterwards.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound

from statuspage.i18n import LANGUAGES, current, speaking
from statuspage.public.site import PAGE_CACHE
from statuspage.publishing.snapshot import current_dir

bp = Blueprint("public", __name__)


def _absent(lang: str | None = None, **_: object) -> Response:
    """Under a language prefix (``/de/…``) in that language, as the path says; elsewhere
    in the language the browser asks for (the page's default needs the database)."""
    if lang is None:
        return _answer({"Vary": "Accept-Language", "Content-Language": current().code})
    with speaking(lang) as language:
        return _answer({"Content-Language": language.code})


@bp.app_errorhandler(NotFound)
def _unrouted(error: NotFound) -> ResponseReturnValue:
    """A URL no route knows gets the admin's or the published site's own not-found page,
    so a mistyped link still looks like the product; a view's own 404 is left as it is."""
    if request.url_rule is not None:
        return error
    if request.path.startswith("/admin/"):
        return render_template("admin/error.html", message="Not found."), 404
    return _absent()


def _answer(spoken: dict[str, str]) -> Response:
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
# Everything under a language's prefix is the published site's: what reaches the app there
# is absent from the snapshot.
_PREFIX = f"/<any({', '.join(LANGUAGES)}):lang>"
bp.add_url_rule(f"{_PREFIX}/", "language_index", _absent, methods=["GET"])
bp.add_url_rule(f"{_PREFIX}/<path:rest>", "language_page", _absent, methods=["GET"])
