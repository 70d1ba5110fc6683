"""Incident views: open, update, edit, resolve, postmortem, and the delivery ledger."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage.admin.access import require
from statuspage.admin.forms import (
    ActionForm,
    CancelMaintenanceForm,
    EditUpdateForm,
    IncidentForm,
    PostmortemForm,
    RescheduleForm,
    ResolveForm,
    UpdateForm,
    channel_choices,
    component_choices,
)
from statuspage.admin.routes import UNPROCESSABLE, bp, components_by_group, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import ledger, service
from statuspage.incidents import templates as incident_templates
from statuspage.incidents.workflow import Conflict, parse_row_id
from statuspage.lib.clock import now
from statuspage.models import (
    Channel,
    ComponentStatus,
    Delivery,
    Incident,
    IncidentTemplate,
    IncidentUpdate,
    Role,
)
from statuspage.models.channels import SUBSCRIBER_KINDS
from statuspage.models.types import PUBLIC_ID


def _template_from_query() -> IncidentTemplate | None:
    template_id = parse_row_id(request.args.get("template"))
    return db.session.get(IncidentTemplate, template_id) if template_id else None


@bp.route("/incidents/new", methods=["GET", "POST"])
@require(Role.RESPONDER)
def new_incident() -> ResponseReturnValue:
    form = IncidentForm()
    chosen = component_choices(request.form)
    channels = channel_choices(request.form)
    if request.method == "GET" and (template := _template_from_query()) is not None:
        form.name.data, form.body.data = template.title, template.body
        if template.status in [c.value for c in form.status.choices]:
            form.status.data = template.status
    if request.method == "POST":
        if (done := db.session.get(Incident, form.incident_id.data or "")) is not None:
            flash("That incident was already opened.", "ok")  # the form, submitted again
            return redirect(url_for("admin.incident", incident_id=done.id))
        if form.validate_on_submit():
            fresh = (
                form.incident_id.data if PUBLIC_ID.fullmatch(form.incident_id.data or "") else None
            )
            try:
                incident = service.open_incident(
                    **opening(form, chosen, channels),
                    incident_id=fresh,
                    update_id=form.update_id.data or None,
                )
            except ValidationError as exc:
                show_errors(form, exc)
            else:
                flash("Incident opened; it is being published.", "ok")
                return redirect(url_for("admin.incident", incident_id=incident.id))
        return _incident_form(form, chosen, channels), UNPROCESSABLE
    return _incident_form(form, chosen, channels)


def announcing_channels() -> list[Channel]:
    """Channels an operator can pick per update (SMTP and Twilio carry subscriber mail and
    texts, not posts)."""
    return [c for c in Channel.announcing() if c.kind not in SUBSCRIBER_KINDS]


def opening(
    form: IncidentForm, chosen: dict[str, str], channels: list[int] | None
) -> dict[str, Any]:
    """What an open-incident form asks the incident service for."""
    return {
        "actor": current_user,
        "name": form.name.data,
        "impact": form.impact.data,
        "status": form.status.data,
        "body": form.body.data,
        "components": chosen,
        "update_interval": form.update_interval.data,
        "notify": form.notify.data,
        "channels": channels,
    }


def opening_page(
    template: str,
    form: IncidentForm,
    chosen: dict[str, str],
    channels: list[int] | None,
    **extra: object,
) -> str:
    """An open-incident form with its component and channel pickers."""
    return render_template(
        template,
        form=form,
        groups=components_by_group(),
        chosen=chosen,
        channels=announcing_channels(),
        chosen_channels=channels,
        statuses=list(ComponentStatus),
        **extra,
    )


def _incident_form(form: IncidentForm, chosen: dict[str, str], channels: list[int] | None) -> str:
    return opening_page(
        "admin/incident_new.html",
        form,
        chosen,
        channels,
        templates=incident_templates.all_templates(),
    )


def _load(incident_id: str) -> Incident:
    row = db.session.get(Incident, incident_id)
    if row is None:
        abort(404)
    return row


def _update_form(row: Incident) -> UpdateForm:
    form = UpdateForm(status=row.status)
    if row.is_maintenance:
        form.for_maintenance()
    if request.method == "GET" and (template := _template_from_query()) is not None:
        form.body.data = template.body
        if template.status in [c.value for c in form.status.choices]:
            form.status.data = template.status
    return form


@bp.route("/incidents/<incident_id>", methods=["GET", "POST"])
@require(Role.VIEWER)
def incident(incident_id: str) -> ResponseReturnValue:
    row = _load(incident_id)
    form = _update_form(row)
    chosen = component_choices(request.form)
    channels = channel_choices(request.form)
    if request.method == "POST":
        if not current_user.can(Role.RESPONDER):
            abort(403)
        done = db.session.get(IncidentUpdate, form.update_id.data or "")
        if done is not None and done.incident_id == row.id:
            flash("That update was already posted.", "ok")  # the form, submitted again
            return redirect(url_for("admin.incident", incident_id=row.id))
        if form.validate_on_submit():
            try:
                service.post_update(
                    actor=current_user,
                    incident_id=row.id,
                    status=form.status.data,
                    body=form.body.data,
                    components=chosen,
                    notify=form.notify.data,
                    channels=channels,
                    update_id=form.update_id.data or None,
                )
            except ValidationError as exc:
                show_errors(form, exc)
            except NotFound:
                abort(404)
            else:
                flash("Update posted; it is being published.", "ok")
                return redirect(url_for("admin.incident", incident_id=row.id))
        page = incident_page(_load(incident_id), form=form, chosen=chosen, chosen_channels=channels)
        return page, UNPROCESSABLE
    return incident_page(row, form=form, chosen=chosen)


def incident_page(row: Incident, **overrides: object) -> str:
    deliveries = ledger.for_updates([u.id for u in row.updates])
    context: dict[str, object] = {
        "incident": row,
        "form": _update_form(row),
        "chosen": {},
        "resolve_form": ResolveForm(),
        "edit_form": EditUpdateForm(),
        "postmortem_form": PostmortemForm(postmortem_body=row.postmortem_body),
        "reschedule_form": RescheduleForm(
            scheduled_for=row.scheduled_for, scheduled_until=row.scheduled_until
        ),
        "cancel_form": CancelMaintenanceForm(),
        "action_form": ActionForm(),
        "groups": components_by_group(),
        "statuses": list(ComponentStatus),
        "deliveries": deliveries,
        "targets": ledger.targets(deliveries),
        "templates": incident_templates.all_templates(),
        "editing": None,
        "channels": announcing_channels(),
        "chosen_channels": None,
        "no_news": service.no_news_text(row, now()),
    }
    context.update(overrides)
    return render_template("admin/incident.html", **context)


@bp.post("/incidents/<incident_id>/resolve")
@require(Role.RESPONDER)
def resolve(incident_id: str) -> ResponseReturnValue:
    """One action: the closing message, components back to operational."""
    row = _load(incident_id)
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            service.resolve(actor=current_user, incident_id=row.id, body=form.resolution.data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Resolved; components are back to operational.", "ok")
            return redirect(url_for("admin.incident", incident_id=row.id))
    return incident_page(row, resolve_form=form), UNPROCESSABLE


@bp.post("/incidents/<incident_id>/no-news")
@require(Role.RESPONDER)
def no_news(incident_id: str) -> ResponseReturnValue:
    """One click keeps the promise: "still investigating; next update by HH:MM"."""
    row = _load(incident_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        update = service.post_no_news(actor=current_user, incident_id=row.id)
    except Conflict as exc:
        flash(f"Not posted: {exc}.", "error")
        return redirect(url_for("admin.incident", incident_id=row.id)), 303
    flash(f"Posted “{update.body}”", "ok")
    return redirect(url_for("admin.incident", incident_id=row.id))


@bp.route("/updates/<update_id>/edit", methods=["GET", "POST"])
@require(Role.RESPONDER)
def edit_update(update_id: str) -> ResponseReturnValue:
    """Correct published text; the old text stays visible as a revision."""
    update = db.session.get(IncidentUpdate, update_id)
    if update is None:
        abort(404)
    form = (
        EditUpdateForm(corrected_body=update.body) if request.method == "GET" else EditUpdateForm()
    )
    if form.validate_on_submit():
        try:
            service.edit_update(
                actor=current_user, update_id=update.id, body=form.corrected_body.data
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Update corrected; the page shows it as edited.", "ok")
            return redirect(url_for("admin.incident", incident_id=update.incident_id))
    status = UNPROCESSABLE if request.method == "POST" else 200
    return incident_page(update.incident, edit_form=form, editing=update.id), status


@bp.post("/incidents/<incident_id>/postmortem")
@require(Role.RESPONDER)
def postmortem(incident_id: str) -> ResponseReturnValue:
    row = _load(incident_id)
    form = PostmortemForm()
    if form.validate_on_submit():
        try:
            service.publish_postmortem(
                actor=current_user, incident_id=row.id, body=form.postmortem_body.data
            )
        except ValidationError as exc:
            show_errors(form, exc)
        except Conflict as exc:
            flash(f"Not published: {exc}.", "error")
        else:
            flash("Postmortem published.", "ok")
            return redirect(url_for("admin.incident", incident_id=row.id))
    return incident_page(row, postmortem_form=form), UNPROCESSABLE


@bp.post("/deliveries/<int(max=2147483647):delivery_id>/retry")
@require(Role.RESPONDER)
def retry_delivery(delivery_id: int) -> ResponseReturnValue:
    row = db.session.get(Delivery, delivery_id)
    if row is None or row.update is None:  # replies to customers retry from the inbox
        abort(404)
    back = url_for("admin.incident", incident_id=row.update.incident_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        ledger.retry(actor=current_user, delivery_id=delivery_id)
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(back), 303
    flash(f"Delivery {delivery_id} queued again.", "ok")
    return redirect(back)
