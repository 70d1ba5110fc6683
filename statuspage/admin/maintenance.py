"""Scheduling maintenance windows."""

from __future__ import annotations

from datetime import UTC

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage.admin.access import require
from statuspage.admin.forms import MaintenanceForm
from statuspage.admin.routes import UNPROCESSABLE, bp, components_by_group, show_errors
from statuspage.errors import ValidationError
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
                    # The form's times are UTC, as its labels say.
                    scheduled_for=form.scheduled_for.data.replace(tzinfo=UTC),
                    scheduled_until=form.scheduled_until.data.replace(tzinfo=UTC),
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
