"""The OpenAPI 3.1 document of the v1 API, built from the same vocabularies the routes
validate with, so the two cannot drift apart. The page id is this installation's."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from statuspage.api.routing import bp
from statuspage.extensions import db
from statuspage.incidents.components import MAX_POSITION
from statuspage.incidents.workflow import (
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    MAX_BODY,
    MAX_DESCRIPTION,
    MAX_INTERVAL,
    MAX_NAME,
    MIN_INTERVAL,
)
from statuspage.models import ComponentStatus, DeliveryState, Impact, IncidentStatus, Page
from statuspage.page_settings import MAX_PAGE_NAME

Schema = dict[str, Any]
PREFIX = "/api/v1/pages/{page_id}"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


TIME = {"type": "string", "format": "date-time"}
NULL_TIME = _nullable(TIME)
TEXT = {"type": "string"}
NULL_TEXT = _nullable(TEXT)
# Statuspage clients send "" or null for "not a maintenance".
OPTIONAL_TIME = {"anyOf": [TIME, {"type": "null"}, {"const": ""}]}
# In requests a null flag means "not given": the default (or the current value) holds.
OPTIONAL_FLAG = _nullable({"type": "boolean"})

# What both opening and changing an incident take.
INCIDENT_FIELDS: Schema = {
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
    "status": {"enum": list(INCIDENT_STATUSES + MAINTENANCE_STATUSES)},
    "impact_override": _nullable({"enum": list(INCIDENT_IMPACTS)}),
    "body": _nullable({"type": "string", "maxLength": MAX_BODY}),
    "component_ids": {"type": "array", "items": TEXT},
    "components": {"type": "object", "additionalProperties": {"enum": list(ComponentStatus)}},
    "deliver_notifications": OPTIONAL_FLAG,
    "scheduled_for": OPTIONAL_TIME,
    "scheduled_until": OPTIONAL_TIME,
}

SCHEMAS: dict[str, Schema] = {
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
    "PageFields": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_PAGE_NAME},
            "time_zone": {"type": "string", "description": "IANA zone name, e.g. Europe/Paris"},
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
    "ComponentFields": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
            "description": _nullable({"type": "string", "maxLength": MAX_DESCRIPTION}),
            "status": {"enum": list(ComponentStatus)},
            "group_id": NULL_TEXT,
            "position": {"type": "integer", "minimum": 0, "maximum": MAX_POSITION},
            "showcase": OPTIONAL_FLAG,
            "only_show_if_degraded": OPTIONAL_FLAG,
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
    "IncidentCreate": {
        "type": "object",
        "description": "A scheduled_for makes the new incident a scheduled maintenance.",
        "properties": {
            **INCIDENT_FIELDS,
            "scheduled_auto_in_progress": OPTIONAL_FLAG,
            "scheduled_auto_completed": OPTIONAL_FLAG,
            "update_interval": _nullable(
                {"type": "integer", "minimum": MIN_INTERVAL, "maximum": MAX_INTERVAL}
            ),
        },
    },
    "IncidentChange": {
        "type": "object",
        "description": "A status, body or component statuses post an update.",
        "properties": {
            **INCIDENT_FIELDS,
            "postmortem_body": _nullable({"type": "string", "maxLength": MAX_BODY}),
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


def _wrapped(key: str, fields: str, required: list[str] | None = None) -> Schema:
    inner: Schema = _ref(fields)
    if required:
        inner = {"allOf": [_ref(fields), {"type": "object", "required": required}]}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"type": "object", "required": [key], "properties": {key: inner}}
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
        422: "Invalid field values; `fields` names each problem",
    }
    return {str(code): _json(ERROR, text[code]) for code in codes}


READ = (400, 401, 403, 404)
WRITE = (400, 401, 403, 404, 415, 422)


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


def document(page_id: str) -> Schema:
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
                    **_errors(401, 403),
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
                body=_wrapped("component", "ComponentFields", ["name"]),
            ),
        },
        f"{PREFIX}/components/{{component_id}}": {
            "parameters": [page_param, component_id],
            "get": _op("getComponent", "Get a component", {"200": component, **_errors(*READ)}),
            "patch": _op(
                "updateComponent",
                "Update a component; a new status is a manual change (admin)",
                {"200": component, **_errors(*WRITE)},
                body=_wrapped("component", "ComponentFields"),
            ),
            "put": _op(
                "replaceComponent",
                "Same as PATCH, as in Statuspage (admin)",
                {"200": component, **_errors(*WRITE)},
                body=_wrapped("component", "ComponentFields"),
            ),
            "delete": _op(
                "deleteComponent",
                "Delete a component no update names (admin)",
                {"204": {"description": "Deleted"}, **_errors(401, 403, 404, 409)},
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
                body=_wrapped("incident", "IncidentCreate", ["name"]),
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
                {"200": incident, **_errors(*WRITE)},
                body=_wrapped("incident", "IncidentChange"),
            ),
            "put": _op(
                "replaceIncident",
                "Same as PATCH, as in Statuspage (responder)",
                {"200": incident, **_errors(*WRITE)},
                body=_wrapped("incident", "IncidentChange"),
            ),
        },
        f"{PREFIX}/incidents/{{incident_id}}/incident_updates/{{update_id}}": {
            "parameters": [page_param, incident_id, update_id],
            "patch": _op(
                "editIncidentUpdate",
                "Correct an update's text; the earlier text is kept as a revision (responder)",
                {"200": _json(_ref("IncidentUpdate"), "The update"), **_errors(*WRITE)},
                body={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["incident_update"],
                                "properties": {
                                    "incident_update": {
                                        "type": "object",
                                        "required": ["body"],
                                        "properties": {
                                            "body": {
                                                "type": "string",
                                                "minLength": 1,
                                                "maxLength": MAX_BODY,
                                            }
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
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
            "put": _op(
                "setUpdateInterval",
                "Set the update interval in minutes (null: the impact's default); it applies "
                "from the next update (responder)",
                {"200": _json(_ref("NextUpdate"), "Promise"), **_errors(*WRITE)},
                body={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["next_update"],
                                "properties": {
                                    "next_update": {
                                        "type": "object",
                                        "required": ["update_interval"],
                                        "properties": {
                                            "update_interval": _nullable(
                                                {
                                                    "type": "integer",
                                                    "minimum": MIN_INTERVAL,
                                                    "maximum": MAX_INTERVAL,
                                                }
                                            )
                                        },
                                    }
                                },
                            }
                        }
                    },
                },
            ),
        },
        f"{PREFIX}/deliveries/{{delivery_id}}/retry": {
            "parameters": [page_param, _param("delivery_id", "Delivery id")],
            "post": _op(
                "retryDelivery",
                "Queue a dead or uncertain delivery again (responder)",
                {"200": _json(_ref("Delivery"), "The delivery"), **_errors(401, 403, 404, 409)},
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
            "schemas": SCHEMAS,
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
    db.session.commit()
    return jsonify(document(page.id))
