"""The audit log: who did what, when, with the state before and after."""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue

from statuspage.admin.access import require
from statuspage.admin.forms import AuditFilterForm
from statuspage.admin.routes import bp
from statuspage.extensions import db
from statuspage.incidents.workflow import parse_row_id
from statuspage.models import AuditEvent, Role

PAGE_SIZE = 100


@bp.get("/audit")
@require(Role.ADMIN)
def audit() -> ResponseReturnValue:
    form = AuditFilterForm(request.args)
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc())
    status = 200
    if not form.validate():
        status = 422
    else:
        if form.actor.data:
            query = query.where(AuditEvent.actor_label.ilike(f"%{form.actor.data.strip()}%"))
        if form.action.data:
            query = query.where(AuditEvent.action.ilike(f"{form.action.data.strip()}%"))
        if form.object_type.data:
            query = query.where(AuditEvent.object_type == form.object_type.data.strip())
        if form.object_id.data:
            query = query.where(AuditEvent.object_id == form.object_id.data.strip())
        if form.since.data:
            query = query.where(AuditEvent.created_at >= form.since.data)
        if form.until.data:
            query = query.where(AuditEvent.created_at <= form.until.data)
        if (before_id := parse_row_id(form.before_id.data)) is not None:
            query = query.where(AuditEvent.id < before_id)
    events = db.session.scalars(query.limit(PAGE_SIZE + 1)).all() if status == 200 else []
    more = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    older = dict(request.args, before_id=str(events[-1].id)) if more else None
    return render_template("admin/audit.html", form=form, events=events, older=older), status
