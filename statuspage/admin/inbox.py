"""The listening inbox in the admin: triage, answers in place, follow-ups after an
incident is resolved, reply templates and response times. Views validate input and call
``statuspage.listening``; the dashboard and the navigation read the template globals at
the end of this module."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField

from statuspage.admin.access import require
from statuspage.admin.forms import (
    ActionForm,
    IncidentForm,
    channel_choices,
    component_choices,
    line_rules,
    text_rules,
)
from statuspage.admin.incidents import opening, opening_page
from statuspage.admin.routes import UNPROCESSABLE, bp, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import ledger
from statuspage.incidents.workflow import Conflict, parse_row_id
from statuspage.listening import inbox as triage
from statuspage.listening import replies, response_times, signals, sources
from statuspage.listening import templates as reply_templates
from statuspage.models import (
    Delivery,
    InboxItem,
    InboxState,
    Incident,
    ReplyTemplate,
    Role,
)

ROW_ID = "int(max=2147483647)"


class AnswerForm(FlaskForm):
    body = TextAreaField(
        "Reply",
        validators=text_rules(replies.EMAIL_LIMIT),
    )


class FollowUpForm(FlaskForm):
    body = TextAreaField(
        "Follow-up text",
        validators=text_rules(replies.EMAIL_LIMIT),
        description="Variables such as {author} and {incident_url} are filled for each item.",
    )


class ReplyTemplateForm(FlaskForm):
    name = StringField("Template name", validators=line_rules())
    body = TextAreaField(
        "Text",
        validators=text_rules(reply_templates.MAX_TEMPLATE),
    )


def _item(item_id: int) -> InboxItem:
    item = db.session.get(InboxItem, item_id)
    if item is None:
        abort(404)
    return item


def _back_to_inbox() -> str:
    """The inbox page a bulk action came from (only ever an inbox URL)."""
    target = request.form.get("next", "")
    inbox_url = url_for("admin.inbox")
    if target.startswith(inbox_url) and "//" not in target and "\\" not in target:
        return target
    return inbox_url


@bp.get("/inbox")
@require(Role.VIEWER)
def inbox() -> ResponseReturnValue:
    filters = triage.Filters.parse(request.args)
    items, more = triage.listing(filters)
    return render_template(
        "admin/inbox/index.html",
        items=items,
        more=more,
        filters=filters,
        channel_names=triage.channel_names(),
        sources_heard=triage.sources_heard(),
        incidents=triage.open_incidents(),
        states=list(InboxState),
        overview=sources.overview(),
        action_form=ActionForm(),
    )


@bp.post("/inbox/bulk")
@require(Role.RESPONDER)
def inbox_bulk() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    ids = [parse_row_id(v) for v in request.form.getlist("items")]
    action = request.form.get("action", "")
    try:
        if None in ids:
            raise ValidationError({"items": "not an item id"})
        chosen = [i for i in ids if i is not None]
        if action == "link":
            incident_id = request.form.get("incident", "")
            replace = request.form.get("replace") == "1"
            moving = [] if replace else triage.linked_elsewhere(chosen, incident_id)
            if moving and (incident := db.session.get(Incident, incident_id)) is not None:
                return render_template(
                    "admin/inbox/confirm_link.html",
                    moving=moving,
                    chosen=chosen,
                    incident=incident,
                    return_to=_back_to_inbox(),
                )
            triage.link(
                actor=current_user, item_ids=chosen, incident_id=incident_id, replace=replace
            )
        else:
            triage.set_state(actor=current_user, item_ids=chosen, state=action)
    except ValidationError as exc:
        flash("Nothing changed: " + "; ".join(exc.errors.values()) + ".", "error")
    except (Conflict, NotFound) as exc:
        flash(f"Nothing changed: {exc}.", "error")
    else:
        flash(f"{len(chosen)} item{'s' if len(chosen) != 1 else ''} updated.", "ok")
    return redirect(_back_to_inbox(), 303)


def _template_text(item: InboxItem) -> str | None:
    """The reply form prefilled from ``?template=``, or None (errors are flashed)."""
    template_id = parse_row_id(request.args.get("template"))
    template = db.session.get(ReplyTemplate, template_id) if template_id else None
    if template is None:
        return None
    try:
        return reply_templates.fill(template.body, item)
    except ValidationError as exc:
        flash(f"Template “{template.name}”: {exc.errors['body']}.", "error")
        return None


def item_page(item: InboxItem, **overrides: Any) -> str:
    context: dict[str, Any] = {
        "item": item,
        "form": AnswerForm(body=_template_text(item)),
        "deliveries": replies.deliveries_of(item),
        "templates": reply_templates.all_templates(),
        "incidents": triage.open_incidents(),
        "cannot_reply": replies.can_reply(item),
        "channel_names": triage.channel_names(),
        "action_form": ActionForm(),
        "states": [InboxState.NEW, InboxState.ACKNOWLEDGED, InboxState.IGNORED],
    }
    context.update(overrides)
    return render_template("admin/inbox/item.html", **context)


@bp.get(f"/inbox/<{ROW_ID}:item_id>")
@require(Role.VIEWER)
def inbox_item(item_id: int) -> ResponseReturnValue:
    return item_page(_item(item_id))


@bp.post(f"/inbox/<{ROW_ID}:item_id>/answer")
@require(Role.RESPONDER)
def answer(item_id: int) -> ResponseReturnValue:
    item = _item(item_id)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            replies.answer(actor=current_user, item_id=item.id, body=form.body.data)
        except ValidationError as exc:
            show_errors(form, exc)
        except Conflict as exc:
            flash(f"Not sent: {exc}.", "error")
        else:
            flash("Reply queued; it goes out on the same channel in a moment.", "ok")
            return redirect(url_for("admin.inbox_item", item_id=item.id))
    return item_page(_item(item_id), form=form), UNPROCESSABLE


@bp.post(f"/inbox/<{ROW_ID}:item_id>/state")
@require(Role.RESPONDER)
def item_state(item_id: int) -> ResponseReturnValue:
    item = _item(item_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        triage.set_state(
            actor=current_user, item_ids=[item.id], state=request.form.get("state", "")
        )
    except ValidationError as exc:
        flash("; ".join(exc.errors.values()), "error")
    return redirect(url_for("admin.inbox_item", item_id=item.id), 303)


@bp.post(f"/inbox/<{ROW_ID}:item_id>/link")
@require(Role.RESPONDER)
def link_item(item_id: int) -> ResponseReturnValue:
    item = _item(item_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        if request.form.get("unlink"):
            triage.unlink(actor=current_user, item_id=item.id)
        else:
            triage.link(
                actor=current_user, item_ids=[item.id], incident_id=request.form.get("incident", "")
            )
    except ValidationError as exc:
        flash("Not linked: " + "; ".join(exc.errors.values()) + ".", "error")
    except Conflict as exc:
        flash(f"Not linked: {exc}.", "error")
    else:
        flash("Linked to the incident." if item.incident_id else "Link removed.", "ok")
    return redirect(url_for("admin.inbox_item", item_id=item.id), 303)


@bp.route(f"/inbox/<{ROW_ID}:item_id>/incident", methods=["GET", "POST"])
@require(Role.RESPONDER)
def incident_from_item(item_id: int) -> ResponseReturnValue:
    """Open a new incident prefilled from the item, and link the item to it."""
    item = _item(item_id)
    suggested = triage.suggested_incident(item)
    form = IncidentForm()
    chosen = (
        component_choices(request.form) if request.method == "POST" else suggested["components"]
    )
    channels = channel_choices(request.form)
    if request.method == "GET":
        form.name.data, form.body.data = suggested["name"], suggested["body"]
    elif form.validate_on_submit():
        try:
            incident = triage.open_incident_from(item_id=item.id, **opening(form, chosen, channels))
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Incident opened and the item linked to it.", "ok")
            return redirect(url_for("admin.incident", incident_id=incident.id))
    page = opening_page("admin/inbox/open_incident.html", form, chosen, channels, item=item)
    return (page, UNPROCESSABLE) if request.method == "POST" else page


@bp.post(f"/inbox/replies/<{ROW_ID}:delivery_id>/retry")
@require(Role.RESPONDER)
def retry_reply(delivery_id: int) -> ResponseReturnValue:
    row = db.session.get(Delivery, delivery_id)
    if row is None or row.reply_id is None:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    back = url_for("admin.inbox_item", item_id=row.target_id)
    try:
        ledger.retry(actor=current_user, delivery_id=delivery_id)
    except Conflict as exc:
        flash(str(exc), "error")
    else:
        flash("Reply queued again.", "ok")
    return redirect(back, 303)


@bp.route("/inbox/follow-up/<incident_id>", methods=["GET", "POST"])
@require(Role.RESPONDER)
def follow_up(incident_id: str) -> ResponseReturnValue:
    """Review the follow-up to every item linked to a resolved incident; send in one go."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        abort(404)
    candidates = replies.follow_up_candidates(incident.id)
    form = FollowUpForm()
    chosen = {parse_row_id(v) for v in request.form.getlist("items")}
    if request.method == "GET":
        template = db.session.get(ReplyTemplate, parse_row_id(request.args.get("template")) or 0)
        form.body.data = template.body if template else replies.FOLLOW_UP_TEXT
        chosen = {i.id for i in candidates if replies.can_reply(i) is None}
    elif form.validate_on_submit():
        try:
            sent = replies.follow_up(
                actor=current_user,
                incident_id=incident.id,
                body=form.body.data,
                item_ids=[i for i in chosen if i is not None],
            )
        except ValidationError as exc:
            for where, message in exc.errors.items():
                form.body.errors = [*form.body.errors, f"{where}: {message}"]
        except Conflict as exc:
            flash(f"Not sent: {exc}.", "error")
        else:
            flash(f"{len(sent)} follow-up{'s' if len(sent) != 1 else ''} queued.", "ok")
            return redirect(url_for("admin.inbox"))
    previews = {}
    for item in candidates:
        try:
            previews[item.id] = replies.compose(
                item, reply_templates.fill(form.body.data or "", item)
            )
        except ValidationError as exc:
            previews[item.id] = f"({exc.errors['body']})"
    page = render_template(
        "admin/inbox/follow_up.html",
        incident=incident,
        candidates=candidates,
        chosen=chosen,
        previews=previews,
        reasons={i.id: replies.can_reply(i) for i in candidates},
        form=form,
        templates=reply_templates.all_templates(),
    )
    return (page, UNPROCESSABLE) if request.method == "POST" else page


@bp.route("/inbox/templates", methods=["GET", "POST"])
@bp.route(f"/inbox/templates/<{ROW_ID}:template_id>", methods=["GET", "POST"])
@require(Role.RESPONDER)
def reply_templates_page(template_id: int | None = None) -> ResponseReturnValue:
    existing = db.session.get(ReplyTemplate, template_id) if template_id else None
    if template_id and existing is None:
        abort(404)
    form = ReplyTemplateForm(obj=existing) if request.method == "GET" else ReplyTemplateForm()
    if form.validate_on_submit():
        try:
            reply_templates.save(
                actor=current_user,
                name=form.name.data,
                body=form.body.data,
                template_id=template_id,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Reply template saved.", "ok")
            return redirect(url_for("admin.reply_templates_page"))
    page = render_template(
        "admin/inbox/templates.html",
        form=form,
        editing=existing,
        listing=reply_templates.all_templates(),
        variables=reply_templates.VARIABLES,
        action_form=ActionForm(),
    )
    return (page, UNPROCESSABLE) if request.method == "POST" else page


@bp.post(f"/inbox/templates/<{ROW_ID}:template_id>/delete")
@require(Role.RESPONDER)
def delete_reply_template(template_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        reply_templates.delete(actor=current_user, template_id=template_id)
    except NotFound:
        abort(404)
    flash("Reply template deleted.", "ok")
    return redirect(url_for("admin.reply_templates_page"))


@bp.get("/inbox/response-times")
@require(Role.VIEWER)
def response_times_page() -> ResponseReturnValue:
    report = response_times.report()
    return render_template(
        "admin/inbox/response_times.html",
        report=report,
        chart=response_times.chart(report.days),
        waiting=triage.awaiting_first_response(),
    )


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    return response_times.minutes_label(seconds)


@bp.app_template_global()
def inbox_new_count() -> int:
    """New items, for the navigation link."""
    return triage.new_count()


@bp.app_template_global()
def listening_dashboard() -> dict[str, Any]:
    """What the dashboard shows of listening: bursts, follow-ups due, failing sources."""
    return {
        "signals": signals.current(),
        "window": current_app.config["SIGNAL_WINDOW_MINUTES"],
        "follow_ups": replies.pending_follow_ups(),
        "failing": sources.failing(),
        "channel_names": triage.channel_names(),
    }
