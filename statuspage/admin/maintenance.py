"""Scheduling maintenance windows and moving them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage.admin.access import require
from statuspage.admin.forms import CancelMaintenanceForm, MaintenanceForm, RescheduleForm
from statuspage.admin.incidents import incident_page
from statuspage.admin.routes import UNPROCESSABLE, bp, components_by_group, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import maintenance
from statuspage.models import Impact, Incident, Role


@bp.route("/maintenance", methods=["GET", "POST"])
@require(Role.RESPONDER)
def maintenances() -> ResponseReturnValue:
    form = MaintenanceForm()
    chosen = request.form.getlist("components")
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                row = maintenance.schedule(
                    actor=current_user,
                    name=form.name.data,
                    body=form.body.data,
                    scheduled_for=form.scheduled_for.data,
                    scheduled_until=form.scheduled_until.data,
                    components=chosen,
                    auto_in_progress=form.auto_in_progress.data,
                    auto_completed=form.auto_completed.data,
                    notify=form.notify.data,
                )
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                flash("Maintenance scheduled; it is being published.", "ok")
                return redirect(url_for("admin.incident", incident_id=row.id))
        return _page(form, chosen), UNPROCESSABLE
    return _page(form, chosen)


@bp.post("/maintenance/<incident_id>/reschedule")
@require(Role.RESPONDER)
def reschedule(incident_id: str) -> ResponseReturnValue:
    """Move the window and announce the move on every channel the window was announced on."""
    row = db.session.get(Incident, incident_id)
    if row is None or not row.is_maintenance:
        abort(404)
    form = RescheduleForm()
    if form.validate_on_submit():
        start, end = form.scheduled_for.data, form.scheduled_until.data
        try:
            maintenance.reschedule(
                actor=current_user,
                incident_id=row.id,
                scheduled_for=start,
                scheduled_until=end,
                announcement=(form.announcement.data or "").strip()
                or maintenance.moved_message(start, end),
                notify=form.notify.data,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        except NotFound:
            abort(404)
        else:
            flash("Window moved; the move is being announced.", "ok")
            return redirect(url_for("admin.incident", incident_id=row.id))
    return incident_page(row, reschedule_form=form), UNPROCESSABLE


@bp.post("/maintenance/<incident_id>/cancel")
@require(Role.RESPONDER)
def cancel(incident_id: str) -> ResponseReturnValue:
    """Call off a window before it begins; calendars that imported it show it cancelled."""
    row = db.session.get(Incident, incident_id)
    if row is None or not row.is_maintenance:
        abort(404)
    form = CancelMaintenanceForm()
    if form.validate_on_submit():
        try:
            maintenance.cancel(
                actor=current_user,
                incident_id=row.id,
                announcement=(form.announcement.data or "").strip() or None,
                notify=form.notify.data,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        except NotFound:
            abort(404)
        else:
            flash("Maintenance cancelled; the cancellation is being announced.", "ok")
            return redirect(url_for("admin.incident", incident_id=row.id))
    return incident_page(row, cancel_form=form), UNPROCESSABLE


def _page(form: MaintenanceForm, chosen: list[str]) -> str:
    listing = db.session.scalars(
        db.select(Incident)
        .where(Incident.impact == Impact.MAINTENANCE)
        .order_by(Incident.scheduled_for.desc())
        .limit(50)
    ).all()
    return render_template(
        "admin/maintenance.html",
        form=form,
        groups=components_by_group(),
        chosen=set(chosen),
        listing=listing,
    )
