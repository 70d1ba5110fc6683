"""Our additions beside Statuspage's endpoints: an update's deliveries and revisions, the
next-update promise, and retrying a delivery. Plus Statuspage's own edit of a previous
update, which here keeps the earlier text as a revision."""

from __future__ import annotations

from flask import Response, jsonify

from statuspage.api.auth import api_user, require
from statuspage.api.params import as_int, body_object
from statuspage.api.routing import PAGE, route
from statuspage.api.shapes import delivery_doc, next_update_doc, revision_doc, update_doc
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import ledger, service
from statuspage.incidents.workflow import Conflict, parse_row_id
from statuspage.models import Delivery, Incident, IncidentUpdate, Role

UPDATE = f"{PAGE}/incidents/<incident:incident_id>/incident_updates/<update_id>"


def _update(incident_id: str, update_id: str) -> IncidentUpdate:
    update = db.session.get(IncidentUpdate, update_id.removesuffix(".json"))
    if update is None or update.incident_id != incident_id:
        raise NotFound(f"incident update {update_id}")
    return update


def _incident(incident_id: str) -> Incident:
    incident = db.session.get(Incident, incident_id.removesuffix(".json"))
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    return incident


@route(UPDATE, ["PATCH", "PUT"])
@require(Role.RESPONDER)
def edit_update(incident_id: str, update_id: str) -> Response:
    update = _update(incident_id, update_id)
    payload = body_object("incident_update")
    if "body" not in payload:
        raise ValidationError({"body": "must not be empty"})
    edited = service.edit_update(actor=api_user(), update_id=update.id, body=payload["body"])
    return jsonify(update_doc(edited))


@route(f"{UPDATE}/revisions", ["GET"])
@require(Role.VIEWER)
def update_revisions(incident_id: str, update_id: str) -> Response:
    return jsonify([revision_doc(r) for r in _update(incident_id, update_id).revisions])


@route(f"{UPDATE}/deliveries", ["GET"])
@require(Role.VIEWER)
def update_deliveries(incident_id: str, update_id: str) -> Response:
    update = _update(incident_id, update_id)
    return jsonify([delivery_doc(d) for d in ledger.for_updates([update.id])])


@route(f"{PAGE}/incidents/<incident:incident_id>/next_update", ["GET"])
@require(Role.VIEWER)
def next_update(incident_id: str) -> Response:
    return jsonify(next_update_doc(_incident(incident_id)))


@route(f"{PAGE}/incidents/<incident:incident_id>/next_update", ["PUT", "PATCH"])
@require(Role.RESPONDER)
def set_next_update(incident_id: str) -> Response:
    incident = _incident(incident_id)
    payload = body_object("next_update")
    if incident.is_maintenance:
        raise Conflict("update_interval: a maintenance has no update cadence")
    errors: dict[str, str] = {}
    minutes = as_int(payload, "update_interval", errors)
    if "update_interval" not in payload:
        errors["update_interval"] = "is required (null for the impact's default)"
    if errors:
        raise ValidationError(errors)
    incident = service.set_update_interval(
        actor=api_user(), incident_id=incident.id, minutes=minutes
    )
    return jsonify(next_update_doc(incident))


@route(f"{PAGE}/deliveries/<delivery_id>/retry", ["POST"])
@require(Role.RESPONDER)
def retry_delivery(delivery_id: str) -> Response:
    row_id = parse_row_id(delivery_id.removesuffix(".json"))
    row = db.session.get(Delivery, row_id) if row_id is not None else None
    if row is None or row.update_id is None:  # replies to customers retry from the inbox
        raise NotFound(f"delivery {delivery_id}")
    row = ledger.retry(actor=api_user(), delivery_id=row_id)
    return jsonify(delivery_doc(row))
