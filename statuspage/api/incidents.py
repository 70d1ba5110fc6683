"""``/api/v1/pages/{page_id}/incidents``: Statuspage's incident endpoints.

A body with ``scheduled_for`` creates a scheduled maintenance. A PATCH with a new
``status``, ``body`` or component statuses posts an update; resolving returns the
affected components to operational unless the request says otherwise.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, g, jsonify
from sqlalchemy import or_

from statuspage.api.auth import api_user, require
from statuspage.api.errors import ApiError
from statuspage.api.params import as_bool, as_int, body_object, query_int, query_text
from statuspage.api.routing import PAGE, route
from statuspage.api.shapes import incident_doc
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import maintenance, service, workflow
from statuspage.incidents.workflow import CLOSED_STATUSES, MAX_BODY, Conflict
from statuspage.models import Component, ComponentStatus, Impact, Incident, IncidentStatus, Role
from statuspage.text_rules import check_line, check_text, storable

# Statuspage's wording when an update is posted without a message.
DEFAULT_BODIES = {
    IncidentStatus.INVESTIGATING: "We are currently investigating this issue.",
    IncidentStatus.IDENTIFIED: "The issue has been identified and a fix is being implemented.",
    IncidentStatus.MONITORING: "A fix has been implemented and we are monitoring the results.",
    IncidentStatus.RESOLVED: "This incident has been resolved.",
    IncidentStatus.SCHEDULED: "Scheduled maintenance.",
    IncidentStatus.IN_PROGRESS: maintenance.IN_PROGRESS_BODY,
    IncidentStatus.VERIFYING: "Verification is currently underway for the maintenance items.",
    IncidentStatus.COMPLETED: maintenance.COMPLETED_BODY,
}
# Statuspage derives an incident's impact from its worst component when none is given.
IMPACT_OF = {
    ComponentStatus.MAJOR_OUTAGE: Impact.CRITICAL,
    ComponentStatus.PARTIAL_OUTAGE: Impact.MAJOR,
    ComponentStatus.DEGRADED_PERFORMANCE: Impact.MINOR,
}
IMPACT_RANK = [Impact.NONE, Impact.MINOR, Impact.MAJOR, Impact.CRITICAL]
MAX_LIMIT = 1000
ALL_STATUSES = workflow.INCIDENT_STATUSES + workflow.MAINTENANCE_STATUSES


def _component_statuses(payload: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """``component_ids`` names components; ``components`` maps ids to new statuses. A named
    component without a status keeps its current one."""
    ids = payload.get("component_ids")
    ids = [] if ids is None else ids
    statuses = payload.get("components")
    statuses = {} if statuses is None else statuses
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        errors["component_ids"] = "must be a list of component ids"
        ids = []
    if not isinstance(statuses, dict) or not all(isinstance(v, str) for v in statuses.values()):
        errors["components"] = "must map component ids to statuses"
        statuses = {}
    chosen: dict[str, str] = {}
    current = {}
    if ids:
        wanted = [i for i in ids if storable(i)]
        rows = db.session.scalars(db.select(Component).where(Component.id.in_(wanted)))
        current = {c.id: str(c.status) for c in rows}
    for component_id in ids:
        chosen[component_id] = current.get(component_id, "")
        if component_id not in current:
            errors[f"components.{component_id}"] = "no such component"
    chosen.update(statuses)
    return chosen


def _impact(payload: dict[str, Any], components: dict[str, str]) -> str:
    override = payload.get("impact_override")
    if override not in (None, ""):
        return override
    worst = Impact.NONE
    for status in components.values():
        try:
            impact = IMPACT_OF.get(ComponentStatus(status), Impact.NONE)
        except ValueError:
            continue
        if IMPACT_RANK.index(impact) > IMPACT_RANK.index(worst):
            worst = impact
    return worst


def _given(payload: dict[str, Any], name: str) -> Any:
    """A field's value, or None when it is not given: absent, null or "" (Statuspage
    clients send "" for an empty form field)."""
    value = payload.get(name)
    return value if value not in (None, "") else None


def _filled(payload: dict[str, Any], name: str) -> Any:
    """A text's value, or None when it says nothing: absent, null or only white space."""
    value = payload.get(name)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


@route(f"{PAGE}/incidents", ["GET"])
@require(Role.VIEWER)
def list_incidents() -> Response:
    """Newest first; ``q`` searches names, ``limit`` and ``page`` page through."""
    limit = query_int("limit", 100, 1, MAX_LIMIT)
    page = query_int("page", 1, 1, 1_000_000)
    per_page = query_int("per_page", limit, 1, MAX_LIMIT)
    q = query_text("q")
    query = db.select(Incident).order_by(Incident.created_at.desc(), Incident.id)
    if q:
        query = query.where(Incident.name.ilike(f"%{q}%"))
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return jsonify([incident_doc(i, g.page.id) for i in rows])


def _listing(*conditions: Any, order: Any) -> Response:
    rows = db.session.scalars(db.select(Incident).where(*conditions).order_by(order)).all()
    return jsonify([incident_doc(i, g.page.id) for i in rows])


@route(f"{PAGE}/incidents/unresolved", ["GET"])
@require(Role.VIEWER)
def unresolved_incidents() -> Response:
    return _listing(
        Incident.impact != Impact.MAINTENANCE,
        Incident.status.not_in(CLOSED_STATUSES),
        order=Incident.created_at.desc(),
    )


@route(f"{PAGE}/incidents/scheduled", ["GET"])
@require(Role.VIEWER)
def scheduled_incidents() -> Response:
    return _listing(Incident.impact == Impact.MAINTENANCE, order=Incident.scheduled_for.desc())


@route(f"{PAGE}/incidents/upcoming", ["GET"])
@require(Role.VIEWER)
def upcoming_incidents() -> Response:
    return _listing(
        Incident.impact == Impact.MAINTENANCE,
        Incident.status == IncidentStatus.SCHEDULED,
        order=Incident.scheduled_for,
    )


@route(f"{PAGE}/incidents/active_maintenance", ["GET"])
@require(Role.VIEWER)
def active_maintenance() -> Response:
    return _listing(
        Incident.impact == Impact.MAINTENANCE,
        or_(*(Incident.status == s for s in maintenance.ACTIVE)),
        order=Incident.scheduled_for,
    )


def _create_checks(payload: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Type-check every documented field, including those one kind of incident ignores."""
    checked: dict[str, Any] = {
        "notify": as_bool(payload, "deliver_notifications", errors),
        "auto_start": as_bool(payload, "scheduled_auto_in_progress", errors),
        "auto_complete": as_bool(payload, "scheduled_auto_completed", errors),
        "interval": as_int(payload, "update_interval", errors),
    }
    for name in ("scheduled_for", "scheduled_until"):
        try:
            checked[name] = maintenance.parse_when(name, payload.get(name))
        except ValidationError as exc:
            errors.update(exc.errors)
    checks: list[tuple[Any, tuple[Any, ...]]] = [
        (partial(check_text, required=False), ("body", payload.get("body"), MAX_BODY)),
    ]
    if checked["interval"] is not None:
        checks.append((workflow.check_interval, (checked["interval"],)))
    if _given(payload, "impact_override") is not None:
        checks.append((workflow.parse_impact, (payload["impact_override"],)))
    if _given(payload, "status") is not None:
        checks.append((workflow.parse_status, (payload["status"], ALL_STATUSES)))
    statuses = payload.get("components")
    for component_id, value in statuses.items() if isinstance(statuses, dict) else ():
        checks.append((workflow.parse_component_status, (component_id, value)))
    for fn, args in checks:
        try:
            fn(*args)
        except ValidationError as exc:
            errors.update(exc.errors)
    return checked


@route(f"{PAGE}/incidents", ["POST"])
@require(Role.RESPONDER)
def create_incident() -> tuple[Response, int]:
    payload = body_object("incident")
    errors: dict[str, str] = {}
    components = _component_statuses(payload, errors)
    checked = _create_checks(payload, errors)
    notify = checked["notify"] if checked["notify"] is not None else True
    status = _given(payload, "status")
    if checked.get("scheduled_for") is not None:
        if status not in (None, IncidentStatus.SCHEDULED):
            errors["status"] = "a new maintenance starts as scheduled"
        if errors:
            raise ValidationError(errors)
        incident = maintenance.schedule(
            actor=api_user(),
            name=payload.get("name"),
            body=_filled(payload, "body") or DEFAULT_BODIES[IncidentStatus.SCHEDULED],
            scheduled_for=checked["scheduled_for"],
            scheduled_until=checked.get("scheduled_until"),
            components=list(components),
            auto_in_progress=checked["auto_start"] is not False,
            auto_completed=checked["auto_complete"] is not False,
            notify=notify,
        )
        return jsonify(incident_doc(incident, g.page.id)), 201
    if errors:
        raise ValidationError(errors)
    status = status or IncidentStatus.INVESTIGATING
    incident = service.open_incident(
        actor=api_user(),
        name=payload.get("name"),
        impact=_impact(payload, components),
        status=status,
        body=_filled(payload, "body") or DEFAULT_BODIES.get(status, ""),
        components=components,
        update_interval=checked["interval"],
        notify=notify,
    )
    return jsonify(incident_doc(incident, g.page.id)), 201


def _get(incident_id: str) -> Incident:
    incident = db.session.get(Incident, incident_id.removesuffix(".json"))
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    return incident


@route(f"{PAGE}/incidents/<incident:incident_id>", ["GET"])
@require(Role.VIEWER)
def get_incident(incident_id: str) -> Response:
    return jsonify(incident_doc(_get(incident_id), g.page.id))


def _prevalidate(
    incident: Incident,
    payload: dict[str, Any],
    status: str | None,
    components: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Check every part of a PATCH before any is applied: the parts commit one by one,
    so a bad last part must not leave the first ones written."""
    body = payload.get("body")
    checks: list[tuple[Any, tuple[Any, ...]]] = [
        (partial(check_text, required=False), ("body", body, workflow.MAX_BODY)),
    ]
    if "name" in payload:
        checks.append((check_line, ("name", payload["name"], workflow.MAX_NAME)))
    if _given(payload, "impact_override") is not None:
        checks.append((workflow.parse_impact, (payload["impact_override"],)))
    if status is not None:
        checks.append((workflow.parse_status, (status, ALL_STATUSES)))
    for component_id, value in components.items():
        checks.append((workflow.parse_component_status, (component_id, value)))
    postmortem = payload.get("postmortem_body")
    checks.append(
        (partial(check_text, required=False), ("postmortem_body", postmortem, workflow.MAX_BODY))
    )
    for fn, args in checks:
        try:
            fn(*args)
        except ValidationError as exc:
            errors.update(exc.errors)


def _fits_state(
    incident: Incident, payload: dict[str, Any], status: str | None, when: dict[str, Any]
) -> None:
    """Well-formed changes the incident's kind or state does not take: a 409, since the
    same request suits another incident (the document cannot tell them apart)."""
    kind = "maintenance" if incident.is_maintenance else "incident"
    allowed = (
        workflow.MAINTENANCE_STATUSES if incident.is_maintenance else workflow.INCIDENT_STATUSES
    )
    if status is not None and status not in allowed:
        raise Conflict(f"status: an {kind} takes {', '.join(allowed)}")
    if incident.is_maintenance and _given(payload, "impact_override") is not None:
        raise Conflict("impact_override: a maintenance has no impact level")
    if status is None and incident.status == IncidentStatus.POSTMORTEM and _posts_update(payload):
        raise Conflict("status: the incident has a postmortem; an update needs a status")
    if any(when.values()):
        if not incident.is_maintenance:
            raise Conflict("scheduled_for: only a maintenance has a window")
        if not incident.is_open:
            raise Conflict("scheduled_for: the maintenance is already completed")
        start = when.get("scheduled_for") or incident.scheduled_for
        end = when.get("scheduled_until") or incident.scheduled_until
        if end <= start and not all(when.get(k) for k in ("scheduled_for", "scheduled_until")):
            raise Conflict("scheduled_until: the window would end before it starts")
    if _filled(payload, "postmortem_body") is not None:
        closing = status in workflow.CLOSED_STATUSES
        if incident.is_maintenance or (incident.is_open and not closing):
            raise Conflict("postmortem_body: only a resolved incident has a postmortem")


def _posts_update(payload: dict[str, Any]) -> bool:
    """A status, a message or components make a PATCH post an update."""
    named = payload.get("components") or payload.get("component_ids")
    return bool(_given(payload, "status") or _filled(payload, "body") or named)


@route(f"{PAGE}/incidents/<incident:incident_id>", ["PATCH", "PUT"])
@require(Role.RESPONDER)
def update_incident(incident_id: str) -> Response:
    incident = _get(incident_id)
    payload = body_object("incident")
    errors: dict[str, str] = {}
    components = _component_statuses(payload, errors)
    notify = as_bool(payload, "deliver_notifications", errors)
    when = {}
    for name in ("scheduled_for", "scheduled_until"):
        if name in payload:
            try:
                when[name] = maintenance.parse_when(name, payload[name])
            except ValidationError as exc:
                errors.update(exc.errors)
    status, body = _given(payload, "status"), _filled(payload, "body")
    _prevalidate(incident, payload, status, components, errors)
    if errors:
        raise ValidationError(errors)
    _fits_state(incident, payload, status, when)
    actor = api_user()
    did_something = False
    if "name" in payload or _given(payload, "impact_override"):
        service.update_details(
            actor=actor,
            incident_id=incident.id,
            name=payload.get("name"),
            impact=_given(payload, "impact_override"),
        )
        did_something = True
    if any(when.values()):
        maintenance.reschedule(
            actor=actor,
            incident_id=incident.id,
            scheduled_for=when.get("scheduled_for") or incident.scheduled_for,
            scheduled_until=when.get("scheduled_until") or incident.scheduled_until,
        )
        did_something = True
    if _posts_update(payload):
        new_status = status or str(incident.status)
        text = body or DEFAULT_BODIES.get(new_status, "")
        if new_status in (IncidentStatus.RESOLVED, IncidentStatus.COMPLETED) and incident.is_open:
            service.resolve(
                actor=actor,
                incident_id=incident.id,
                body=text,
                components=components,
                notify=notify if notify is not None else True,
            )
        else:
            service.post_update(
                actor=actor,
                incident_id=incident.id,
                status=new_status,
                body=text,
                components=components,
                notify=notify if notify is not None else True,
            )
        did_something = True
    if _filled(payload, "postmortem_body") is not None:
        service.publish_postmortem(
            actor=actor, incident_id=incident.id, body=payload["postmortem_body"]
        )
        did_something = True
    if not did_something:
        raise ApiError(422, "unprocessable", "nothing to change", {"incident": "no known fields"})
    db.session.expire_all()
    return jsonify(incident_doc(_get(incident.id), g.page.id))
