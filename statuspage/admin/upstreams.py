"""Third-party components (admins): follow a vendor's page, pick its components, set the
cadence and whether a change opens a draft, see polling failures, stop following."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, URLField
from wtforms.validators import DataRequired, Length, NumberRange

from statuspage.admin.access import require
from statuspage.admin.forms import ActionForm
from statuspage.admin.routes import UNPROCESSABLE, bp, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.models import Role, Upstream
from statuspage.upstreams import follow


class AddUpstreamForm(FlaskForm):
    summary_url = URLField(
        "summary.json URL",
        validators=[DataRequired(), Length(max=1024)],
        description="e.g. https://www.githubstatus.com/api/v2/summary.json",
    )


class UpstreamSettingsForm(FlaskForm):
    poll_seconds = IntegerField(
        "Read every (seconds)",
        validators=[DataRequired(), NumberRange(min=follow.MIN_POLL, max=follow.MAX_POLL)],
    )
    open_drafts = BooleanField("A change opens a draft incident")
    notify_subscribers = BooleanField("Drafts from this page notify subscribers when published")


@bp.route("/upstreams", methods=["GET", "POST"])
@require(Role.ADMIN)
def upstreams() -> ResponseReturnValue:
    form = AddUpstreamForm()
    if form.validate_on_submit():
        try:
            row = follow.add(actor=current_user, url=form.summary_url.data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(f"Following {row.name}; choose which of its components to show.", "ok")
            return redirect(url_for("admin.upstream", upstream_id=row.id))
    rows = db.session.scalars(select(Upstream).order_by(Upstream.name)).all()
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_template("admin/upstreams/index.html", upstreams=rows, form=form), status


@bp.route("/upstreams/<int:upstream_id>", methods=["GET", "POST"])
@require(Role.ADMIN)
def upstream(upstream_id: int) -> ResponseReturnValue:
    row = db.session.get(Upstream, upstream_id)
    if row is None:
        return render_template("admin/error.html", message="No such upstream."), 404
    form = UpstreamSettingsForm(obj=row) if request.method == "GET" else UpstreamSettingsForm()
    if form.validate_on_submit():
        chosen = {int(v) for v in request.form.getlist("followed") if v.isdigit()}
        try:
            follow.configure(
                actor=current_user,
                upstream_id=row.id,
                followed=chosen,
                poll_seconds=form.poll_seconds.data,
                open_drafts=form.open_drafts.data,
                notify_subscribers=form.notify_subscribers.data,
            )
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash("Saved; the public page shows the chosen components.", "ok")
            return redirect(url_for("admin.upstream", upstream_id=row.id))
    status = UNPROCESSABLE if request.method == "POST" else 200
    return render_template(
        "admin/upstreams/upstream.html", upstream=row, form=form, action_form=ActionForm()
    ), status


@bp.post("/upstreams/<int:upstream_id>/delete")
@require(Role.ADMIN)
def delete_upstream(upstream_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return render_template("admin/error.html", message="Form rejected."), 400
    try:
        follow.remove(actor=current_user, upstream_id=upstream_id)
    except NotFound:
        return render_template("admin/error.html", message="No such upstream."), 404
    flash("No longer following that page.", "ok")
    return redirect(url_for("admin.upstreams"))


@bp.app_template_global()
def failing_upstreams() -> list[Upstream]:
    return list(
        db.session.scalars(select(Upstream).where(Upstream.failures > 0).order_by(Upstream.name))
    )
