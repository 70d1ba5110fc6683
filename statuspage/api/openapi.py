"""The OpenAPI 3.1 document of the v1 API, built from the same vocabularies and text rules
the routes validate with, so the two cannot drift apart: a request the document allows is
taken, unless it collides with the data (a window that ends before it starts, a change
the incident's state refuses: 409). The page id, component and group ids and time zones
are this installation's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, jsonify
from sqlalchemy import select

from statuspage.api.routing import bp
from statuspage.extensions import db
from statuspage.incidents.components import MAX_POSITION
from statuspage.incidents.maintenance import YEAR_PATTERN
from statuspage.incidents.workflow import (
    CLOSED_STATUSES,
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    MAX_BODY,
    MAX_DESCRIPTION,
    MAX_INTERVAL,
    MAX_NAME,
    MIN_INTERVAL,
)
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    DeliveryState,
    Impact,
    IncidentStatus,
    Page,
)
from statuspage.page_settings import MAX_PAGE_NAME, time_zones
from statuspage.text_rules import FILLED_TEXT_PATTERN, LINE_PATTERN, TEXT_PATTERN

Schema = dict[str, Any]
PREFIX = "/api/v1/pages/{page_id}"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _given(schema: Schema) -> Schema:
    """A request field that null or "" leaves unset (Statuspage clients send both)."""
    return {"anyOf": [schema, {"type": "null"}, {"const": ""}]}


def _name(limit: int) -> Schema:
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": LINE_PATTERN}


def _text(limit: int, pattern: str = TEXT_PATTERN) -> Schema:
    return {"type": "string", "maxLength": limit, "pattern": pattern}


TIME = {"type": "string", "format": "date-time"}
NULL_TIME = _nullable(TIME)
TEXT = {"type": "string"}
NULL_TEXT = _nullable(TEXT)
# In requests: RFC 3339 with seconds and an offset, in the years a window may take.
WHEN = {"type": "string", "format": "date-time", "pattern": YEAR_PATTERN}
# In requests a null flag means "not given": the default (or the current value) holds.
OPTIONAL_FLAG = _nullable({"type": "boolean"})
INTERVAL = {"type": "integer", "minimum": MIN_INTERVAL, "maximum": MAX_INTERVAL}
STATUSES = list(INCIDENT_STATUSES + MAINTENANCE_STATUSES)
OPENING_STATUSES = [s for s in INCIDENT_STATUSES if s not in CLOSED_STATUSES]
NOTHING: Schema = {"not": {}}


@dataclass(frozen=True)
class Known:
    """What this installation holds that a request may name: a request naming anything
    else is refused, so the document lists them."""

    components: list[str]
    groups: list[str]
    time_zones: list[str]

    @classmethod
    def load(cls) -> Known:
        return cls(
            components=list(db.session.scalars(select(Component.id).order_by(Component.id))),
            groups=list(db.session.scalars(select(ComponentGroup.id).order_by(ComponentGroup.id))),
            time_zones=time_zones(),
        )

    def component_id(self) -> Schema:
        return {"enum": self.components} if self.components else NOTHING

    def group_id(self) -> Schema:
        return {"enum": self.groups} if self.groups else NOTHING


def _set(*fields: tuple[str, Schema]) -> list[Schema]:
    """``anyOf`` alternatives: at least one of ``fields`` set to a value that changes
    something (a request that changes nothing is refused)."""
    return [{"required": [name], "properties": {name: schema}} for name, schema in fields]


def request_schemas(known: Known) -> dict[str, Schema]:
    """The bodies the write routes take, with everything they refuse spelt out: lengths,
    the text rules, the ids and zones this installation knows, and what makes a change."""
    filled = _text(MAX_BODY, FILLED_TEXT_PATTERN)
    component = {
        "name": _name(MAX_NAME),
        "description": _nullable(_text(MAX_DESCRIPTION)),
        "status": {"enum": list(ComponentStatus)},
        "group_id": _given(known.group_id()),
        "position": {"type": "integer", "minimum": 0, "maximum": MAX_POSITION},
        "showcase": OPTIONAL_FLAG,
        "only_show_if_degraded": OPTIONAL_FLAG,
    }
    incident = {
        "name": _name(MAX_NAME),
        "status": _given({"enum": STATUSES}),
        "impact_override": _given({"enum": list(INCIDENT_IMPACTS)}),
        # Blank or null: the status's standard wording.
        "body": _nullable(_text(MAX_BODY)),
        "component_ids": _nullable({"type": "array", "items": known.component_id()}),
        "components": _nullable(
            {
                "type": "object",
                "propertyNames": known.component_id(),
                "additionalProperties": {"enum": list(ComponentStatus)},
            }
        ),
        "deliver_notifications": OPTIONAL_FLAG,
        "scheduled_for": _given(WHEN),
        "scheduled_until": _given(WHEN),
    }
    page = {"name": _name(MAX_PAGE_NAME), "time_zone": {"enum": known.time_zones}}
    return {
        "PageFields": {
            "type": "object",
            "properties": page,
            "anyOf": [{"required": [name]} for name in page],
        },
        "ComponentCreate": {"type": "object", "required": ["name"], "properties": component},
        "ComponentChange": {
            "type": "object",
            "properties": component,
            "anyOf": _set(
                *((name, component[name]) for name in ("name", "description", "status")),
                ("group_id", component["group_id"]),
                ("position", component["position"]),
                ("showcase", {"type": "boolean"}),
                ("only_show_if_degraded", {"type": "boolean"}),
            ),
        },
        "IncidentCreate": {
            "type": "object",
            "required": ["name"],
            "properties": {
                **incident,
                "scheduled_auto_in_progress": OPTIONAL_FLAG,
                "scheduled_auto_completed": OPTIONAL_FLAG,
                "update_interval": _nullable(INTERVAL),
            },
            "oneOf": [
                {
                    "description": "An incident",
                    "properties": {
                        "scheduled_for": {"enum": [None, ""]},
                        "status": _given({"enum": OPENING_STATUSES}),
                    },
                },
                {
                    "description": "A maintenance; scheduled_until must be after scheduled_for",
                    "required": ["scheduled_for", "scheduled_until"],
                    "properties": {
                        "scheduled_for": WHEN,
                        "scheduled_until": WHEN,
                        "status": _given({"const": IncidentStatus.SCHEDULED.value}),
                    },
                },
            ],
        },
        "IncidentChange": {
            "type": "object",
            "description": (
                "A status, body or component statuses post an update. A maintenance takes "
                "the maintenance statuses and a new window, an incident the others and a "
                "postmortem once resolved: a change the incident cannot take is a 409."
            ),
            "properties": {**incident, "postmortem_body": _nullable(_text(MAX_BODY))},
            "anyOf": _set(
                ("name", incident["name"]),
                ("impact_override", {"enum": list(INCIDENT_IMPACTS)}),
                ("status", {"enum": STATUSES}),
                ("body", filled),
                ("components", {"type": "object", "minProperties": 1}),
                ("component_ids", {"type": "array", "minItems": 1}),
                ("scheduled_for", WHEN),
                ("scheduled_until", WHEN),
                ("postmortem_body", filled),
            ),
        },
        "UpdateBody": {
            "type": "object",
            "required": ["body"],
            "properties": {"body": {**filled, "minLength": 1}},
        },
        "NextUpdateChange": {
            "type": "object",
            "required": ["update_interval"],
            "properties": {"update_interval": _nullable(INTERVAL)},
        },
    }


RESPONSE_SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "required": ["error", "code", "status", "fields"],
        "properties": {
            "error": TEXT,
            "code": TEXT,
            "status": {"type": "integer"},
            "fields": {"type": "object", "additionalProperties": TEXT},
        },
    },
    "Page": {
        "type": "object",
        "required": ["id", "name", "url", "time_zone", "created_at", "updated_at"],
        "properties": {
            "id": TEXT,
            "created_at": TIME,
            "updated_at": TIME,
            "name": TEXT,
            "url": TEXT,
            "domain": NULL_TEXT,
            "time_zone": TEXT,
            **{
                flag: {"type": "boolean"}
                for flag in (
                    "hidden_from_search",
                    "allow_page_subscribers",
                    "allow_incident_subscribers",
                    "allow_email_subscribers",
                    "allow_sms_subscribers",
                    "allow_rss_atom_feeds",
                    "allow_webhook_subscribers",
                )
            },
        },
    },
    "Component": {
        "type": "object",
        "required": ["id", "page_id", "name", "status", "position", "created_at", "updated_at"],
        "properties": {
            "id": TEXT,
            "page_id": TEXT,
            "group_id": NULL_TEXT,
            "created_at": TIME,
            "updated_at": TIME,
            "group": {"type": "boolean"},
            "name": TEXT,
            "description": NULL_TEXT,
            "position": {"type": "integer"},
            "status": {"enum": list(ComponentStatus)},
            "showcase": {"type": "boolean"},
            "only_show_if_degraded": {"type": "boolean"},
            "automation_email": NULL_TEXT,
            "start_date": _nullable({"type": "string", "format": "date"}),
        },
    },
    "AffectedComponent": {
        "type": "object",
        "required": ["code", "name", "old_status", "new_status"],
        "properties": {
            "code": TEXT,
            "name": TEXT,
            "old_status": {"enum": list(ComponentStatus)},
            "new_status": {"enum": list(ComponentStatus)},
        },
    },
    "IncidentUpdate": {
        "type": "object",
        "required": ["id", "incident_id", "status", "body", "created_at", "updated_at"],
        "properties": {
            "id": TEXT,
            "incident_id": TEXT,
            "status": {"enum": list(IncidentStatus)},
            "body": TEXT,
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": {"type": "array", "items": _ref("AffectedComponent")},
            "deliver_notifications": {"type": "boolean"},
            "custom_tweet": NULL_TEXT,
            "tweet_id": NULL_TEXT,
            "twitter_updated_at": NULL_TIME,
            "wants_twitter_update": {"type": "boolean"},
        },
    },
    "Incident": {
        "type": "object",
        "required": ["id", "name", "status", "impact", "page_id", "incident_updates", "components"],
        "properties": {
            "id": TEXT,
            "name": TEXT,
            "status": {"enum": list(IncidentStatus)},
            "impact": {"enum": list(Impact)},
            "impact_override": _nullable({"enum": list(INCIDENT_IMPACTS)}),
            "created_at": TIME,
            "updated_at": TIME,
            "started_at": TIME,
            "monitoring_at": NULL_TIME,
            "resolved_at": NULL_TIME,
            "shortlink": TEXT,
            "page_id": TEXT,
            "incident_updates": {"type": "array", "items": _ref("IncidentUpdate")},
            "components": {"type": "array", "items": _ref("Component")},
            "postmortem_body": NULL_TEXT,
            "postmortem_body_last_updated_at": NULL_TIME,
            "postmortem_ignored": {"type": "boolean"},
            "postmortem_published_at": NULL_TIME,
            "postmortem_notified_subscribers": {"type": "boolean"},
            "postmortem_notified_twitter": {"type": "boolean"},
            "backfilled": {"type": "boolean"},
            "scheduled_for": NULL_TIME,
            "scheduled_until": NULL_TIME,
            "scheduled_remind_prior": {"type": "boolean"},
            "scheduled_reminded_at": NULL_TIME,
            "scheduled_auto_in_progress": {"type": "boolean"},
            "scheduled_auto_completed": {"type": "boolean"},
            "metadata": {"type": "object"},
        },
    },
    "Revision": {
        "type": "object",
        "required": ["id", "incident_update_id", "body", "replaced_at"],
        "properties": {
            "id": {"type": "integer"},
            "incident_update_id": TEXT,
            "body": TEXT,
            "replaced_at": TIME,
        },
    },
    "Delivery": {
        "type": "object",
        "required": ["id", "incident_update_id", "target_kind", "state", "attempts"],
        "properties": {
            "id": {"type": "integer"},
            "incident_update_id": TEXT,
            "target_kind": TEXT,
            "target_id": {"type": "integer"},
            "state": {"enum": list(DeliveryState)},
            "attempts": {"type": "integer"},
            "created_at": TIME,
            "next_attempt_at": TIME,
            "sent_at": NULL_TIME,
            "latency_seconds": _nullable({"type": "number"}),
            "last_error": NULL_TEXT,
            "external_id": NULL_TEXT,
            "external_url": NULL_TEXT,
        },
    },
    "NextUpdate": {
        "type": "object",
        "required": ["incident_id", "next_update_due", "update_interval", "state"],
        "properties": {
            "incident_id": TEXT,
            "next_update_due": NULL_TIME,
            "update_interval": _nullable({"type": "integer"}),
            "reminded_at": NULL_TIME,
            "overdue_at": NULL_TIME,
            "state": _nullable({"enum": ["due soon", "overdue"]}),
        },
    },
}


def _wrapped(key: str, fields: str) -> Schema:
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": [key], "properties": {key: _ref(fields)}}
            }
        },
    }


def _json(schema: Schema, description: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR = _ref("Error")


def _errors(*codes: int) -> dict[str, Schema]:
    text = {
        400: "Malformed request (not JSON, no wrapper object, bad query parameter)",
        401: "Missing, unknown or revoked token",
        403: "The token's role does not allow this",
        404: "No such page or object",
        409: "The object's state does not allow this",
        415: "The body is neither JSON nor form fields",
        413: "The body is larger than the write API takes",
        422: "Invalid field values; `fields` names each problem",
        503: "The database is unavailable; retry after the Retry-After seconds",
    }
    return {str(code): _json(ERROR, text[code]) for code in codes}


READ = (400, 401, 403, 404, 503)
WRITE = (400, 401, 403, 404, 413, 415, 422, 503)


def _param(name: str, description: str, schema: Schema | None = None) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _query(name: str, low: int, high: int) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": low, "maximum": high},
    }


def _op(
    op_id: str,
    summary: str,
    responses: dict[str, Schema],
    *,
    body: Schema | None = None,
    params: list[Schema] | None = None,
) -> Schema:
    op: Schema = {"operationId": op_id, "summary": summary, "responses": responses}
    if body:
        op["requestBody"] = body
    if params:
        op["parameters"] = params
    return op


def _patch_and_put(name: str, summary: str, responses: Schema, body: Schema) -> Schema:
    """A change the route takes by PATCH and, as Statuspage's do, by PUT."""
    return {
        "patch": _op(f"edit{name}", summary, responses, body=body),
        "put": _op(f"replace{name}", f"{summary}; same as PATCH", responses, body=body),
    }


def document(page_id: str, known: Known) -> Schema:
    page_param = _param("page_id", "This installation's page id", {"enum": [page_id]})
    component_id = _param("component_id", "Component id")
    incident_id = _param("incident_id", "Incident id")
    update_id = _param("update_id", "Incident update id")
    components = _json({"type": "array", "items": _ref("Component")}, "Components")
    component = _json(_ref("Component"), "The component")
    incidents = _json({"type": "array", "items": _ref("Incident")}, "Incidents")
    incident = _json(_ref("Incident"), "The incident")
    listing = {"200": incidents, **_errors(*READ)}
    page = _json(_ref("Page"), "The page")
    paths: Schema = {
        "/api/v1/pages": {
            "get": _op(
                "listPages",
                "The pages this token reaches: this installation's one page",
                {
                    "200": _json({"type": "array", "items": _ref("Page")}, "Pages"),
                    **_errors(401, 403, 503),
                },
            ),
        },
        PREFIX: {
            "parameters": [page_param],
            "get": _op("getPage", "Get the page profile", {"200": page, **_errors(*READ)}),
            "patch": _op(
                "updatePage",
                "Rename the page or set its time zone (admin)",
                {"200": page, **_errors(*WRITE)},
                body=_wrapped("page", "PageFields"),
            ),
            "put": _op(
                "replacePage",
                "Same as PATCH, as in Statuspage (admin)",
                {"200": page, **_errors(*WRITE)},
                body=_wrapped("page", "PageFields"),
            ),
        },
        f"{PREFIX}/components": {
            "parameters": [page_param],
            "get": _op(
                "listComponents",
                "List components",
                {"200": components, **_errors(*READ)},
                params=[_query("page", 1, 1_000_000), _query("per_page", 1, 1000)],
            ),
            "post": _op(
                "createComponent",
                "Create a component (admin)",
                {"201": component, **_errors(*WRITE)},
                body=_wrapped("component", "ComponentCreate"),
            ),
        },
        f"{PREFIX}/components/{{component_id}}": {
            "parameters": [page_param, component_id],
            "get": _op("getComponent", "Get a component", {"200": component, **_errors(*READ)}),
            "patch": _op(
                "updateComponent",
                "Update a component; a new status is a manual change (admin)",
                {"200": component, **_errors(*WRITE)},
                body=_wrapped("component", "ComponentChange"),
            ),
            "put": _op(
                "replaceComponent",
                "Same as PATCH, as in Statuspage (admin)",
                {"200": component, **_errors(*WRITE)},
                body=_wrapped("component", "ComponentChange"),
            ),
            "delete": _op(
                "deleteComponent",
                "Delete a component no update names (admin)",
                {"204": {"description": "Deleted"}, **_errors(401, 403, 404, 409, 503)},
            ),
        },
        f"{PREFIX}/incidents": {
            "parameters": [page_param],
            "get": _op(
                "listIncidents",
                "List incidents and maintenances, newest first",
                listing,
                params=[
                    {
                        "name": "q",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 255},
                    },
                    _query("limit", 1, 1000),
                    _query("page", 1, 1_000_000),
                    _query("per_page", 1, 1000),
                ],
            ),
            "post": _op(
                "createIncident",
                "Open an incident, or schedule a maintenance (responder)",
                {"201": incident, **_errors(*WRITE)},
                body=_wrapped("incident", "IncidentCreate"),
            ),
        },
        f"{PREFIX}/incidents/unresolved": {
            "parameters": [page_param],
            "get": _op("listUnresolvedIncidents", "Open incidents", listing),
        },
        f"{PREFIX}/incidents/scheduled": {
            "parameters": [page_param],
            "get": _op("listScheduledIncidents", "All scheduled maintenances", listing),
        },
        f"{PREFIX}/incidents/upcoming": {
            "parameters": [page_param],
            "get": _op("listUpcomingIncidents", "Maintenances not yet started", listing),
        },
        f"{PREFIX}/incidents/active_maintenance": {
            "parameters": [page_param],
            "get": _op("listActiveMaintenances", "Maintenances in progress", listing),
        },
        f"{PREFIX}/incidents/{{incident_id}}": {
            "parameters": [page_param, incident_id],
            "get": _op("getIncident", "Get an incident", {"200": incident, **_errors(*READ)}),
            "patch": _op(
                "updateIncident",
                "Rename, post an update (status/body/components), reschedule, or attach a "
                "postmortem (responder)",
                {"200": incident, **_errors(*WRITE, 409)},
                body=_wrapped("incident", "IncidentChange"),
            ),
            "put": _op(
                "replaceIncident",
                "Same as PATCH, as in Statuspage (responder)",
                {"200": incident, **_errors(*WRITE, 409)},
                body=_wrapped("incident", "IncidentChange"),
            ),
        },
        f"{PREFIX}/incidents/{{incident_id}}/incident_updates/{{update_id}}": {
            "parameters": [page_param, incident_id, update_id],
            **_patch_and_put(
                "IncidentUpdate",
                "Correct an update's text; the earlier text is kept as a revision (responder)",
                {"200": _json(_ref("IncidentUpdate"), "The update"), **_errors(*WRITE)},
                _wrapped("incident_update", "UpdateBody"),
            ),
        },
        f"{PREFIX}/incidents/{{incident_id}}/incident_updates/{{update_id}}/revisions": {
            "parameters": [page_param, incident_id, update_id],
            "get": _op(
                "listUpdateRevisions",
                "Earlier texts of an edited update",
                {
                    "200": _json({"type": "array", "items": _ref("Revision")}, "Revisions"),
                    **_errors(*READ),
                },
            ),
        },
        f"{PREFIX}/incidents/{{incident_id}}/incident_updates/{{update_id}}/deliveries": {
            "parameters": [page_param, incident_id, update_id],
            "get": _op(
                "listUpdateDeliveries",
                "Where an update went: state, attempts, latency, errors",
                {
                    "200": _json({"type": "array", "items": _ref("Delivery")}, "Deliveries"),
                    **_errors(*READ),
                },
            ),
        },
        f"{PREFIX}/incidents/{{incident_id}}/next_update": {
            "parameters": [page_param, incident_id],
            "get": _op(
                "getNextUpdate",
                "The incident's next-update promise",
                {"200": _json(_ref("NextUpdate"), "Promise"), **_errors(*READ)},
            ),
            **_patch_and_put(
                "UpdateInterval",
                "Set the update interval in minutes (null: the impact's default); it applies "
                "from the next update; a maintenance has none (responder)",
                {"200": _json(_ref("NextUpdate"), "Promise"), **_errors(*WRITE, 409)},
                _wrapped("next_update", "NextUpdateChange"),
            ),
        },
        f"{PREFIX}/deliveries/{{delivery_id}}/retry": {
            "parameters": [page_param, _param("delivery_id", "Delivery id")],
            "post": _op(
                "retryDelivery",
                "Queue a dead or uncertain delivery again (responder)",
                {
                    "200": _json(_ref("Delivery"), "The delivery"),
                    **_errors(401, 403, 404, 409, 503),
                },
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "statuspage write API",
            "version": "1",
            "description": (
                "Compatible with Statuspage's v1 management API: the same paths (also with a "
                "`.json` suffix), wrapped `component`/`incident` bodies (JSON or Rails-style "
                "form fields), and `Authorization: OAuth <token>` or `Bearer <token>`. "
                "Errors always have the `Error` shape."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": {**RESPONSE_SCHEMAS, **request_schemas(known)},
            "securitySchemes": {
                "oauthToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`OAuth <token>`, as Statuspage clients send it",
                },
                "bearerToken": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"oauthToken": []}, {"bearerToken": []}],
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    page = Page.get()
    known = Known.load()
    db.session.commit()
    return jsonify(document(page.id, known))
