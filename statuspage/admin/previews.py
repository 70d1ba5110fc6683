"""The compose preview: what an update being typed will send, answered as JSON.

The browser posts the form being typed, its CSRF token included, so the fields are read
by the same parsers as the form's own submit; the answer lists the page entry, each
announcing channel's text and the subscribers' email, built by the workers' own code.
"""

from __future__ import annotations

from flask import abort, jsonify, request
from flask.typing import ResponseReturnValue

from statuspage.admin.access import require
from statuspage.admin.forms import channel_choices, component_choices
from statuspage.admin.routes import UNPROCESSABLE, bp
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import preview
from statuspage.lib.clock import now
from statuspage.messages import MessageFacts
from statuspage.models import Incident, Role


def _answer(facts: MessageFacts) -> ResponseReturnValue:
    notify = request.form.get("notify") == "y"
    channels = preview.targets(notify, channel_choices(request.form))
    return jsonify(previews=preview.previews(facts, channels, notify))


def _refused(exc: ValidationError) -> ResponseReturnValue:
    db.session.rollback()
    return jsonify(errors=exc.errors), UNPROCESSABLE


@bp.post("/incidents/<incident_id>/preview")
@require(Role.RESPONDER)
def preview_update(incident_id: str) -> ResponseReturnValue:
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    try:
        facts = preview.update_facts(
            incident,
            status=request.form.get("status"),
            body=request.form.get("body", ""),
            components=component_choices(request.form),
            update_id=request.form.get("update_id"),
            at=now(),
        )
        return _answer(facts)
    except ValidationError as exc:
        return _refused(exc)


@bp.post("/incidents/new/preview")
@require(Role.RESPONDER)
def preview_opening() -> ResponseReturnValue:
    interval = request.form.get("update_interval", "").strip()
    if interval and not (interval.isascii() and interval.isdigit() and len(interval) < 7):
        return _refused(ValidationError({"update_interval": "must be a whole number of minutes"}))
    try:
        facts = preview.opening_facts(
            name=request.form.get("name", ""),
            impact=request.form.get("impact"),
            update_interval=int(interval) if interval else None,
            status=request.form.get("status"),
            body=request.form.get("body", ""),
            components=component_choices(request.form),
            incident_id=request.form.get("incident_id"),
            update_id=request.form.get("update_id"),
            at=now(),
        )
        return _answer(facts)
    except ValidationError as exc:
        return _refused(exc)
