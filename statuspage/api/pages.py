"""``/api/v1/pages``: Statuspage's page endpoints, for the one page of this installation."""

from __future__ import annotations

from flask import Response, g, jsonify

from statuspage.api.auth import api_user, require
from statuspage.api.errors import ApiError
from statuspage.api.params import body_object
from statuspage.api.routing import PAGE, route
from statuspage.api.shapes import page_doc
from statuspage.models import Page, Role
from statuspage.page_settings import update_page

FIELDS = ("name", "time_zone")


@route("/pages", ["GET"])
@require(Role.VIEWER)
def list_pages() -> Response:
    return jsonify([page_doc(g.page)])


@route(PAGE, ["GET"])
@require(Role.VIEWER)
def get_page() -> Response:
    return jsonify(page_doc(g.page))


@route(PAGE, ["PATCH", "PUT"])
@require(Role.ADMIN)
def update_page_profile() -> Response:
    """Rename the page or change its time zone; Statuspage's other profile fields are
    accepted and ignored, as an unknown key would be."""
    payload = body_object("page")
    if not any(k in payload for k in FIELDS):
        raise ApiError(422, "unprocessable", "nothing to change", {"page": "no known fields"})
    page: Page = g.page
    name, time_zone = payload.get("name", page.name), payload.get("time_zone", page.time_zone)
    return jsonify(page_doc(update_page(actor=api_user(), name=name, time_zone=time_zone)))
