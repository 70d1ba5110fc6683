"""Alert integrations (admins): create one and see its URL once, rotate its secret, delete
it, edit its rules, read the payloads it refused. Drafts (responders): review, edit,
publish with one click, discard, and resolve when the alerts say it is over."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from statuspage.admin.access import require
from statuspage.admin.forms import ActionForm, IncidentForm, component_choices
from statuspage.admin.routes import UNPROCESSABLE, bp, components_by_group, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import templates as incident_templates
from statuspage.incidents.workflow import INCIDENT_IMPACTS, MAX_NAME, Conflict
from statuspage.integrations import drafts, registry
from statuspage.integrations.rules import format_matchers
from statuspage.models import (
    AlertRule,
    ComponentStatus,
    DraftState,
    IncidentDraft,
    IntakeLogEntry,
    Integration,
    IntegrationKind,
    ReceivedAlert,
    Role,
    RuleMode,
)


class IntegrationForm(FlaskForm):
    kind = SelectField("Sender", choices=[SelectChoice(k.value, k.label) for k in IntegrationKind])
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME)])


class RuleForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME)])
    matchers = TextAreaField(
        "Matchers",
        validators=[DataRequired()],
        description='One per line, as in Alertmanager: service="api", severity=~"critical|page".',
    )
    mode = SelectField(
        "When an alert matches", choices=[SelectChoice(m.value, m.label) for m in RuleMode]
    )
    component_status = SelectField(
        "Component status",
        choices=[SelectChoice(s.value, s.label) for s in list(ComponentStatus)[1:]],
    )
    impact = SelectField(
        "Impact", choices=[SelectChoice(i, i.capitalize()) for i in INCIDENT_IMPACTS]
    )
    template_id = SelectField("Draft text from template", choices=[])


class DraftNotifyForm(FlaskForm):
    notify = BooleanField("Notify subscribers and social channels when published")


def _rule_form(rule: Any = None) -> RuleForm:
    form = RuleForm(obj=rule) if rule is not None and request.method == "GET" else RuleForm()
    if rule is not None and request.method == "GET":
        form.matchers.data = format_matchers(rule.matchers)
        form.template_id.data = str(rule.template_id or "")
    form.template_id.choices = [SelectChoice("", "A plain default")] + [
        SelectChoice(str(t.id), t.name) for t in incident_templates.all_templates()
    ]
    return form


def _not_found(what: str) -> ResponseReturnValue:
    return render_template("admin/error.html", message=f"No such {what}."), 404


@bp.route("/integrations", methods=["GET", "POST"])
@require(Role.ADMIN)
def integrations() -> ResponseReturnValue:
    form = IntegrationForm()
    if form.validate_on_submit():
        try:
            integration, secret = registry.create(
                actor=current_user, kind=form.kind.data, name=form.name.data
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            return _show_secret(integration, secret)
    rows = db.session.scalars(select(Integration).order_by(Integration.name)).all()
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_template(
        "admin/integrations/index.html", integrations=rows, form=form, drafts=drafts.open_drafts()
    ), status


def _show_secret(integration: Integration, secret: str) -> ResponseReturnValue:
    """The URL and token, in this response only: stored hashed, never shown again."""
    return render_template(
        "admin/integrations/secret.html",
        integration=integration,
        url=registry.intake_url(secret),
        bearer_url=registry.bearer_url(),
        secret=secret,
    )


@bp.get("/integrations/<int:integration_id>")
@require(Role.ADMIN)
def integration(integration_id: int) -> ResponseReturnValue:
    row = db.session.get(Integration, integration_id)
    if row is None:
        return _not_found("integration")
    log = db.session.scalars(
        select(IntakeLogEntry)
        .where(IntakeLogEntry.integration_id == row.id)
        .order_by(IntakeLogEntry.id.desc())
    ).all()
    alerts = db.session.scalars(
        select(ReceivedAlert)
        .where(ReceivedAlert.integration_id == row.id)
        .order_by(ReceivedAlert.last_received_at.desc())
        .limit(20)
    ).all()
    return render_template(
        "admin/integrations/integration.html",
        integration=row,
        log=log,
        alerts=alerts,
        action_form=ActionForm(),
        bearer_url=registry.bearer_url(),
    )


@bp.post("/integrations/<int:integration_id>/rotate")
@require(Role.ADMIN)
def rotate_integration(integration_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return _not_found("form")
    try:
        row, secret = registry.rotate(actor=current_user, integration_id=integration_id)
    except NotFound:
        return _not_found("integration")
    return _show_secret(row, secret)


@bp.post("/integrations/<int:integration_id>/delete")
@require(Role.ADMIN)
def delete_integration(integration_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return _not_found("form")
    try:
        registry.delete(actor=current_user, integration_id=integration_id)
    except NotFound:
        return _not_found("integration")
    flash("Integration deleted; its URL no longer accepts alerts.", "ok")
    return redirect(url_for("admin.integrations"))


def _rule_fields(form: RuleForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "matchers": form.matchers.data,
        "mode": form.mode.data,
        "component_status": form.component_status.data,
        "impact": form.impact.data,
        "template_id": int(form.template_id.data) if form.template_id.data.isdigit() else None,
        "component_ids": request.form.getlist("component_ids"),
    }


def _rule_page(form: RuleForm, integration: Integration, rule: Any, chosen: list[str]) -> str:
    return render_template(
        "admin/integrations/rule.html",
        form=form,
        integration=integration,
        rule=rule,
        groups=components_by_group(),
        chosen=chosen,
        action_form=ActionForm(),
    )


@bp.route("/integrations/<int:integration_id>/rules/new", methods=["GET", "POST"])
@require(Role.ADMIN)
def new_rule(integration_id: int) -> ResponseReturnValue:
    row = db.session.get(Integration, integration_id)
    if row is None:
        return _not_found("integration")
    form = _rule_form()
    if form.validate_on_submit():
        try:
            registry.save_rule(actor=current_user, integration_id=row.id, fields=_rule_fields(form))
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Rule saved.", "ok")
            return redirect(url_for("admin.integration", integration_id=row.id))
    chosen = request.form.getlist("component_ids")
    status = UNPROCESSABLE if request.method == "POST" else 200
    return _rule_page(form, row, None, chosen), status


@bp.route("/integrations/rules/<int:rule_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
def rule(rule_id: int) -> ResponseReturnValue:
    row = db.session.get(AlertRule, rule_id)
    if row is None:
        return _not_found("rule")
    form = _rule_form(row)
    if form.validate_on_submit():
        try:
            registry.save_rule(actor=current_user, rule_id=row.id, fields=_rule_fields(form))
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Rule saved.", "ok")
            return redirect(url_for("admin.integration", integration_id=row.integration_id))
    chosen = (
        request.form.getlist("component_ids") if request.method == "POST" else row.component_ids
    )
    status = UNPROCESSABLE if request.method == "POST" else 200
    return _rule_page(form, row.integration, row, chosen), status


@bp.post("/integrations/rules/<int:rule_id>/delete")
@require(Role.ADMIN)
def delete_rule(rule_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return _not_found("form")
    try:
        integration_id = registry.delete_rule(actor=current_user, rule_id=rule_id)
    except NotFound:
        return _not_found("rule")
    flash("Rule deleted.", "ok")
    return redirect(url_for("admin.integration", integration_id=integration_id))


def _draft_form(draft: IncidentDraft) -> IncidentForm:
    if request.method == "POST":
        return IncidentForm()
    return IncidentForm(
        data={
            "name": draft.name,
            "impact": draft.impact,
            "status": draft.status,
            "body": draft.body,
            "notify": draft.notify,
        }
    )


def _draft_fields(form: IncidentForm) -> dict[str, Any]:
    return {
        "name": form.name.data,
        "impact": form.impact.data,
        "status": form.status.data,
        "body": form.body.data,
        "notify": form.notify.data,
        "components": component_choices(request.form),
    }


@bp.route("/drafts/<draft_id>", methods=["GET", "POST"])
@require(Role.VIEWER)
def draft(draft_id: str) -> ResponseReturnValue:
    row = db.session.get(IncidentDraft, draft_id)
    if row is None:
        return _not_found("draft")
    form = _draft_form(row)
    chosen = component_choices(request.form) if request.method == "POST" else row.components
    if request.method == "POST":
        if not current_user.can(Role.RESPONDER):
            return render_template(
                "admin/error.html", message="Your role does not allow this."
            ), 403
        if form.validate_on_submit():
            publishing = request.form.get("action") == "publish"
            try:
                if publishing:
                    drafts.publish(actor=current_user, draft_id=row.id, fields=_draft_fields(form))
                else:
                    drafts.save(actor=current_user, draft_id=row.id, fields=_draft_fields(form))
            except ValidationError as exc:
                show_errors(form, exc)
            except Conflict as exc:
                flash(str(exc), "error")
                return redirect(url_for("admin.draft", draft_id=row.id))
            else:
                if publishing:
                    flash("Published; the incident is being told everywhere.", "ok")
                    return redirect(url_for("admin.incident", incident_id=row.id))
                flash("Draft saved.", "ok")
                return redirect(url_for("admin.draft", draft_id=row.id))
        return _draft_page(row, form, chosen), UNPROCESSABLE
    return _draft_page(row, form, chosen)


def _draft_page(row: IncidentDraft, form: IncidentForm, chosen: dict[str, str]) -> str:
    return render_template(
        "admin/integrations/draft.html",
        draft=row,
        form=form,
        groups=components_by_group(),
        chosen=chosen,
        statuses=list(ComponentStatus),
        action_form=ActionForm(),
        open_state=DraftState.OPEN,
        incident=drafts.incident_of(row),
    )


@bp.post("/drafts/<draft_id>/publish")
@require(Role.RESPONDER)
def publish_draft(draft_id: str) -> ResponseReturnValue:
    """The one click: publish the draft as it stands."""
    if not ActionForm().validate_on_submit():
        return _not_found("form")
    try:
        drafts.publish(actor=current_user, draft_id=draft_id)
    except NotFound:
        return _not_found("draft")
    except (Conflict, ValidationError) as exc:
        flash(f"Not published: {exc}", "error")
        return redirect(url_for("admin.draft", draft_id=draft_id))
    flash("Published; the incident is being told everywhere.", "ok")
    return redirect(url_for("admin.incident", incident_id=draft_id))


@bp.post("/drafts/<draft_id>/discard")
@require(Role.RESPONDER)
def discard_draft(draft_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return _not_found("form")
    try:
        drafts.discard(actor=current_user, draft_id=draft_id)
    except NotFound:
        return _not_found("draft")
    except Conflict as exc:
        flash(str(exc), "error")
    else:
        flash("Draft discarded; nothing was published.", "ok")
    return redirect(url_for("admin.integrations_drafts"))


@bp.post("/drafts/<draft_id>/resolve")
@require(Role.RESPONDER)
def resolve_from_alerts(draft_id: str) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return _not_found("form")
    try:
        incident = drafts.resolve_incident(actor=current_user, draft_id=draft_id)
    except NotFound:
        return _not_found("draft")
    except Conflict as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.draft", draft_id=draft_id))
    flash("Incident resolved.", "ok")
    return redirect(url_for("admin.incident", incident_id=incident.id))


@bp.get("/drafts")
@require(Role.VIEWER)
def integrations_drafts() -> ResponseReturnValue:
    return render_template(
        "admin/integrations/drafts.html",
        drafts=drafts.open_drafts(),
        proposals=drafts.proposals(),
    )


@bp.app_template_global()
def drafts_waiting() -> dict[str, list[IncidentDraft]]:
    """Open drafts and proposed resolutions, for the dashboard."""
    return {"drafts": drafts.open_drafts(), "proposals": drafts.proposals()}
