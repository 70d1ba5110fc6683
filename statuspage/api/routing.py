"""The blueprint, its JSON error handling and the dual ``path``/``path.json`` routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RoutingNotFound
from werkzeug.routing import BaseConverter

from statuspage.api.errors import CODES, ApiError, error_response, from_exception
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import csrf, db
from statuspage.incidents.workflow import Conflict
from statuspage.text_rules import storable

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

PAGE = "/pages/<page_id>"
LISTINGS = ("unresolved", "scheduled", "upcoming", "active_maintenance")


class IncidentId(BaseConverter):
    """An incident id: any segment but the names of the incident listings, so a PATCH of
    ``incidents/unresolved`` is answered 405, not as an incident that does not exist."""

    regex = rf"(?!(?:{'|'.join(LISTINGS)})(?:\.json)?$)[^/]+"


@bp.record_once
def _converters(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["incident"] = IncidentId


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CATCH_ALL = "api_v1.unknown"


def route(rule: str, methods: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``rule`` and ``rule.json`` for the same view."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        bp.add_url_rule(rule, view_func=view, methods=methods)
        bp.add_url_rule(rule + ".json", view_func=view, methods=methods, endpoint=view.__name__)
        return view

    return decorator


@bp.before_request
def _storable_input() -> None:
    """NUL bytes and unpaired surrogates would reach the database as errors; refuse them
    at the door (a path with them names nothing, a query with them is malformed)."""
    if any(isinstance(v, str) and not storable(v) for v in (request.view_args or {}).values()):
        raise ApiError(404, "not_found", "no such object")
    for key, value in request.args.items(multi=True):
        if not storable(key) or not storable(value):
            raise ApiError(
                400, "bad_request", "the query string has characters that cannot be stored"
            )


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError) -> Response:
    db.session.rollback()
    return from_exception(exc)


@bp.errorhandler(ValidationError)
def _validation(exc: ValidationError) -> Response:
    db.session.rollback()
    return error_response(422, "unprocessable", str(exc), exc.errors)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    db.session.rollback()
    return error_response(404, "not_found", f"no {exc}")


@bp.errorhandler(Conflict)
def _conflict(exc: Conflict) -> Response:
    db.session.rollback()
    return error_response(409, "conflict", str(exc))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response:
    status = exc.code or 500
    headers = dict(exc.get_headers()) if isinstance(exc, MethodNotAllowed) else {}
    headers.pop("Content-Type", None)
    return error_response(status, CODES.get(status, "error"), exc.description or "", None, headers)


def _allowed() -> set[str]:
    """The methods a route of the API takes at this path (none for an unknown path); the
    catch-all below takes every method and must not count."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(method=method)
        except (RoutingNotFound, MethodNotAllowed):
            continue
        if endpoint != CATCH_ALL:
            allowed.add(method)
    if "GET" in allowed:
        allowed.add("HEAD")
    return allowed


@bp.before_request
def _options() -> Response | None:
    """OPTIONS lists exactly the methods of the path (Flask's own answer would list the
    catch-all's every method)."""
    if request.method != "OPTIONS":
        return None
    allowed = _allowed()
    if not allowed:
        return error_response(404, "not_found", f"no API path {request.path}")
    response = Response(status=204)
    response.headers["Allow"] = ", ".join(sorted(allowed | {"OPTIONS"}))
    return response


@bp.route("/<path:rest>", methods=list(METHODS), endpoint="unknown")
def unknown(rest: str) -> Response:
    """Unknown API paths, and known ones asked with a method they do not take: JSON too."""
    allowed = _allowed()
    if allowed:
        raise MethodNotAllowed(valid_methods=sorted(allowed))
    return error_response(404, "not_found", f"no API path /api/v1/{rest}")
