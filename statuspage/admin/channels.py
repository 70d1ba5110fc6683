"""Channel settings (admins only): connect social accounts, chat webhooks and SMTP.

Secrets are write-only here: a form never shows a stored secret, an empty secret field
keeps the stored value, and audit events name which secrets changed, never their values.
"Send test" queues a worker task (the web side never talks to the channels itself); its
result appears on the channel's page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from statuspage.admin.access import require
from statuspage.admin.forms import line_rules
from statuspage.admin.routes import bp
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.lib.crypto import SecretError, new_secret
from statuspage.models import Channel, ChannelKind, Role, Subscriber, SubscriberKind
from statuspage.models.audit import record
from statuspage.models.channels import (
    ALERT_KINDS,
    PUBLISH_KINDS,
    SCHEMAS,
    SUBSCRIBER_KINDS,
    FieldType,
    parse_config,
)
from statuspage.publishing import targets
from statuspage.subscriptions import sms

log = logging.getLogger(__name__)

TEST_TASK = "workers.tasks.test_channel"
URL_FIELDS = {"base_url", "webhook_url", "url", "endpoint_url", "service"}


class ChannelForm(FlaskForm):
    name = StringField("Name", validators=line_rules(255))
    enabled = BooleanField("Enabled", default=True)
    announce_updates = BooleanField("Announce incident updates", default=True)
    operator_alerts = BooleanField("Send operator alerts (update reminders)", default=False)


def _form_class(kind: ChannelKind, stored: set[str]) -> type[ChannelForm]:
    """A form with the kind's schema fields; values are validated by ``parse_config``."""

    class KindForm(ChannelForm):
        pass

    for spec in SCHEMAS[kind]:
        description = spec.help
        if spec.secret:
            kept = "Stored; leave empty to keep it." if spec.name in stored else ""
            description = " ".join(filter(None, [description, kept]))
            field: Any = PasswordField(spec.label, description=description)
        elif spec.type == FieldType.CHOICE:
            field = SelectField(
                spec.label,
                choices=[SelectChoice(c, c) for c in spec.choices],
                default=spec.default,
                description=description,
            )
        else:
            field = StringField(spec.label, default=spec.default, description=description)
        setattr(KindForm, spec.name, field)
    return KindForm


def _kind(value: str) -> ChannelKind | None:
    try:
        return ChannelKind(value)
    except ValueError:
        return None


def _stored_secrets(channel: Channel | None) -> dict[str, Any]:
    if channel is None:
        return {}
    try:
        return channel.secrets
    except SecretError:
        return {}  # the key changed: the operator re-enters the secrets


def _public_view(channel: Channel) -> dict[str, Any]:
    return {
        "kind": str(channel.kind),
        "name": channel.name,
        "enabled": channel.enabled,
        "announce_updates": channel.announce_updates,
        "operator_alerts": channel.operator_alerts,
        "config": dict(channel.config or {}),
    }


def _check_urls(config: dict[str, Any], secrets: dict[str, Any], changed: set[str]) -> None:
    errors = {}
    for name in URL_FIELDS & changed:
        # A bucket's endpoint has its own switch: a private one is an explicit choice.
        setting = "ALLOW_PRIVATE_PUBLISH_TARGETS" if name == "endpoint_url" else None
        allow = bool(current_app.config[setting or "ALLOW_PRIVATE_WEBHOOKS"])
        value = config.get(name) or secrets.get(name)
        reason = http.check_url(value, allow_private=allow) if value else None
        if reason:
            errors[name] = f"this URL {reason}"
    if errors:
        raise ValidationError(errors)


def _save(
    kind: ChannelKind, channel: Channel | None, form: ChannelForm
) -> tuple[Channel, str | None]:
    """Validate and store; returns the channel and a generated secret to show once."""
    current = _stored_secrets(channel)
    config, secrets = parse_config(kind, request.form, current)
    submitted = {k for k in URL_FIELDS if (request.form.get(k) or "").strip()}
    if channel is None or any(channel.config.get(k) != config.get(k) for k in URL_FIELDS):
        submitted |= {k for k in URL_FIELDS if k in config}
    _check_urls(config, secrets, submitted)
    if kind in PUBLISH_KINDS:
        targets.check_config(config)
    generated = None
    if kind == ChannelKind.WEBHOOK and not secrets.get("signing_secret"):
        generated = secrets["signing_secret"] = new_secret()
    before = _public_view(channel) if channel is not None else None
    if channel is None:
        channel = Channel(kind=kind)
        db.session.add(channel)
    channel.name = form.name.data.strip()
    channel.enabled = form.enabled.data
    channel.announce_updates = form.announce_updates.data
    channel.operator_alerts = form.operator_alerts.data and kind in ALERT_KINDS
    channel.config = config
    changed_secrets = sorted(k for k in secrets if current.get(k) != secrets[k])
    if changed_secrets or set(current) != set(secrets):
        channel.secrets = secrets
        channel.consecutive_failures, channel.paused_until = 0, None
    db.session.flush()
    after = {**_public_view(channel), "secrets_changed": changed_secrets}
    action = "channel.create" if before is None else "channel.update"
    record(current_user, action, "channel", str(channel.id), before, after)
    db.session.commit()
    return channel, generated


def _render_form(
    kind: ChannelKind, form: ChannelForm, channel: Channel | None, status: int = 200
) -> ResponseReturnValue:
    fields = [getattr(form, spec.name) for spec in SCHEMAS[kind]]
    return (
        render_template(
            "admin/channels/form.html",
            kind=kind,
            form=form,
            fields=fields,
            channel=channel,
            can_alert=kind in ALERT_KINDS,
            announces=kind not in PUBLISH_KINDS and kind not in SUBSCRIBER_KINDS,
            now=now(),
        ),
        status,
    )


def _show_errors(form: ChannelForm, exc: ValidationError) -> None:
    for name, message in exc.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, message]
        else:
            flash(f"{name}: {message}", "error")


@bp.get("/channels")
@require(Role.ADMIN)
def channels() -> ResponseReturnValue:
    rows = db.session.scalars(db.select(Channel).order_by(Channel.kind, Channel.name)).all()
    counts = dict(
        db.session.execute(
            db.select(Subscriber.kind, func.count())
            .where(Subscriber.confirmed_at.is_not(None))
            .group_by(Subscriber.kind)
        ).all()
    )
    pending = db.session.scalar(
        db.select(func.count()).select_from(Subscriber).where(Subscriber.confirmed_at.is_(None))
    )
    return render_template(
        "admin/channels/index.html",
        channels=rows,
        kinds=list(ChannelKind),
        email_subscribers=counts.get(SubscriberKind.EMAIL, 0),
        webhook_subscribers=counts.get(SubscriberKind.WEBHOOK, 0),
        sms_subscribers=counts.get(SubscriberKind.SMS, 0),
        texts={
            c.id: (sms.sent_this_month(c), sms.cap_of(c))
            for c in rows
            if c.kind == ChannelKind.TWILIO
        },
        pending_subscribers=pending,
        now=now(),
    )


@bp.route("/channels/new/<kind>", methods=["GET", "POST"])
@require(Role.ADMIN)
def new_channel(kind: str) -> ResponseReturnValue:
    parsed = _kind(kind)
    if parsed is None:
        return render_template("admin/error.html", message="No such channel kind."), 404
    form = _form_class(parsed, set())(name=parsed.label)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                channel, generated = _save(parsed, None, form)
            except ValidationError as exc:
                db.session.rollback()
                _show_errors(form, exc)
            else:
                return _saved(channel, generated)
        return _render_form(parsed, form, None, 422)
    return _render_form(parsed, form, None)


def _saved(channel: Channel, generated: str | None) -> ResponseReturnValue:
    if generated:
        # Shown in this response only: never stored in clear, never put in a cookie.
        return render_template("admin/channels/secret.html", channel=channel, secret=generated)
    flash(f"Channel “{channel.name}” saved.", "ok")
    return redirect(url_for("admin.channel", channel_id=channel.id))


@bp.route("/channels/<int:channel_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
def channel(channel_id: int) -> ResponseReturnValue:
    row = db.session.get(Channel, channel_id)
    if row is None:
        return render_template("admin/error.html", message="No such channel."), 404
    kind = ChannelKind(row.kind)
    form_class = _form_class(kind, set(_stored_secrets(row)))
    if request.method == "POST":
        form = form_class()
        if form.validate_on_submit():
            try:
                saved, generated = _save(kind, row, form)
            except ValidationError as exc:
                db.session.rollback()
                _show_errors(form, exc)
            else:
                return _saved(saved, generated)
        return _render_form(kind, form, row, 422)
    form = form_class(data={**_public_view(row), **(row.config or {})})
    return _render_form(kind, form, row)


@bp.post("/channels/<int:channel_id>/test")
@require(Role.ADMIN)
def test_channel(channel_id: int) -> ResponseReturnValue:
    row = db.session.get(Channel, channel_id)
    if row is None:
        return render_template("admin/error.html", message="No such channel."), 404
    record(current_user, "channel.test", "channel", str(row.id))
    db.session.commit()
    try:
        current_app.extensions["celery"].send_task(TEST_TASK, args=[row.id, current_user.email])
    except Exception as exc:
        log.warning("test for channel %s not queued (%s)", row.id, type(exc).__name__)
        flash("The task queue is unreachable; try again in a moment.", "error")
    else:
        flash("Test queued; the result appears below in a few seconds.", "ok")
    return redirect(url_for("admin.channel", channel_id=row.id))


@bp.post("/channels/<int:channel_id>/delete")
@require(Role.ADMIN)
def delete_channel(channel_id: int) -> ResponseReturnValue:
    row = db.session.get(Channel, channel_id)
    if row is None:
        return render_template("admin/error.html", message="No such channel."), 404
    record(current_user, "channel.delete", "channel", str(row.id), _public_view(row), None)
    db.session.delete(row)
    db.session.commit()
    flash(f"Channel “{row.name}” removed.", "ok")
    return redirect(url_for("admin.channels"))
