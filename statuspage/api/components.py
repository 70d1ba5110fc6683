"""``/api/v1/pages/{page_id}/components``: Statuspage's component endpoints."""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from statuspage.api.auth import api_user, require
from statuspage.api.errors import ApiError
from statuspage.api.params import as_bool, as_int, body_object, query_int
from statuspage.api.routing import PAGE, route
from statuspage.api.shapes import component_doc
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import components as service
from statuspage.models import Component, Role

FIELDS = ("name", "description", "status", "group_id", "showcase", "only_show_if_degraded")
MAX_PER_PAGE = 1000


def _fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The component fields we manage; other Statuspage fields (e.g. automation_email)
    are accepted and ignored, as an unknown key would be."""
    errors: dict[str, str] = {}
    fields = {k: payload[k] for k in FIELDS if k in payload}
    for flag in ("showcase", "only_show_if_degraded"):
        if flag in payload:
            fields[flag] = as_bool(payload, flag, errors)
            if fields[flag] is None and flag not in errors:
                del fields[flag]
    if "position" in payload:
        fields["position"] = as_int(payload, "position", errors)
    if errors:
        raise ValidationError(errors)
    return fields


def _get(component_id: str) -> Component:
    component = db.session.get(Component, component_id.removesuffix(".json"))
    if component is None:
        raise NotFound(f"component {component_id}")
    return component


@route(f"{PAGE}/components", ["GET"])
@require(Role.VIEWER)
def list_components() -> Response:
    page = query_int("page", 1, 1, 1_000_000)
    per_page = query_int("per_page", 100, 1, MAX_PER_PAGE)
    rows = db.session.scalars(
        db.select(Component)
        .order_by(Component.position, Component.name, Component.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return jsonify([component_doc(c, g.page.id) for c in rows])


@route(f"{PAGE}/components", ["POST"])
@require(Role.ADMIN)
def create_component() -> tuple[Response, int]:
    component = service.create_component(actor=api_user(), fields=_fields(body_object("component")))
    return jsonify(component_doc(component, g.page.id)), 201


@route(f"{PAGE}/components/<component_id>", ["GET"])
@require(Role.VIEWER)
def get_component(component_id: str) -> Response:
    return jsonify(component_doc(_get(component_id), g.page.id))


@route(f"{PAGE}/components/<component_id>", ["PATCH", "PUT"])
@require(Role.ADMIN)
def update_component(component_id: str) -> Response:
    component = _get(component_id)
    fields = _fields(body_object("component"))
    if not fields:
        raise ApiError(422, "unprocessable", "nothing to change", {"component": "no known fields"})
    component = service.update_component(actor=api_user(), component_id=component.id, fields=fields)
    return jsonify(component_doc(component, g.page.id))


@route(f"{PAGE}/components/<component_id>", ["DELETE"])
@require(Role.ADMIN)
def delete_component(component_id: str) -> Response:
    service.delete_component(actor=api_user(), component_id=_get(component_id).id)
    return Response(status=204)
