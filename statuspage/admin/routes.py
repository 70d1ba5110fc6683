"""Operator views: they validate input and call the incident service, nothing more."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import func

from statuspage.admin.access import require
from statuspage.admin.forms import IncidentForm, LoginForm, UpdateForm, component_choices
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import (
    Component,
    ComponentGroup,
    ComponentStatus,
    Delivery,
    Incident,
    IncidentStatus,
    Page,
    Role,
    User,
)
from statuspage.models.audit import record

bp = Blueprint("admin", __name__, url_prefix="/admin")

UNPROCESSABLE = 422
OPEN_STATUSES = (IncidentStatus.INVESTIGATING, IncidentStatus.IDENTIFIED, IncidentStatus.MONITORING)


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> ResponseReturnValue:
    return render_template("admin/error.html", message=f"Form rejected: {error.description}"), 400


def _components_by_group() -> list[tuple[ComponentGroup | None, list[Component]]]:
    components = db.session.scalars(
        db.select(Component).order_by(Component.position, Component.name)
    ).all()
    groups = db.session.scalars(db.select(ComponentGroup).order_by(ComponentGroup.position)).all()
    listing: list[tuple[ComponentGroup | None, list[Component]]] = [
        (g, [c for c in components if c.group_id == g.id]) for g in groups
    ]
    listing.append((None, [c for c in components if c.group_id is None]))
    return [(g, cs) for g, cs in listing if cs]


def _show_errors(form: IncidentForm | UpdateForm, exc: ValidationError) -> None:
    for field, message in exc.errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            flash(f"{field}: {message}", "error")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.scalars(
            db.select(User).where(func.lower(User.email) == form.email.data.strip().lower())
        ).first()
        if user is not None and user.is_active and user.check_password(form.password.data):
            user.last_login_at = now()
            record(user, "user.login", "user", str(user.id))
            db.session.commit()
            login_user(user)
            return redirect(url_for("admin.dashboard"))
        db.session.rollback()
        form.password.errors = ["Wrong email or password."]
        return render_template("admin/login.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
@require(Role.VIEWER)
def logout() -> ResponseReturnValue:
    logout_user()
    return redirect(url_for("admin.login"))


@bp.get("/")
@require(Role.VIEWER)
def dashboard() -> ResponseReturnValue:
    open_incidents = db.session.scalars(
        db.select(Incident)
        .where(Incident.status.in_(OPEN_STATUSES))
        .order_by(Incident.next_update_due.is_(None), Incident.next_update_due)
    ).all()
    recent = db.session.scalars(
        db.select(Incident).order_by(Incident.created_at.desc()).limit(20)
    ).all()
    return render_template(
        "admin/dashboard.html",
        open_incidents=open_incidents,
        recent=recent,
        groups=_components_by_group(),
        page=Page.get(),
        now=now(),
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@require(Role.RESPONDER)
def new_incident() -> ResponseReturnValue:
    form = IncidentForm()
    chosen = component_choices(request.form)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                incident = service.open_incident(
                    actor=current_user,
                    name=form.name.data,
                    impact=form.impact.data,
                    status=form.status.data,
                    body=form.body.data,
                    components=chosen,
                    update_interval=form.update_interval.data,
                    notify=form.notify.data,
                )
            except ValidationError as exc:
                _show_errors(form, exc)
            else:
                flash("Incident opened; it is being published.", "ok")
                return redirect(url_for("admin.incident", incident_id=incident.id))
        return _incident_form(form, chosen), UNPROCESSABLE
    return _incident_form(form, chosen)


def _incident_form(form: IncidentForm, chosen: dict[str, str]) -> str:
    return render_template(
        "admin/incident_new.html",
        form=form,
        groups=_components_by_group(),
        chosen=chosen,
        statuses=list(ComponentStatus),
    )


@bp.route("/incidents/<incident_id>", methods=["GET", "POST"])
@require(Role.VIEWER)
def incident(incident_id: str) -> ResponseReturnValue:
    row = db.session.get(Incident, incident_id)
    if row is None:
        return render_template("admin/error.html", message="No such incident."), 404
    form = UpdateForm(status=row.status)
    chosen = component_choices(request.form)
    if request.method == "POST":
        if not current_user.can(Role.RESPONDER):
            return render_template("admin/error.html", message="Responders only."), 403
        if form.validate_on_submit():
            if form.status.data == IncidentStatus.RESOLVED:
                action = service.resolve
            else:
                action = partial(service.post_update, status=form.status.data)
            try:
                action(
                    actor=current_user,
                    incident_id=row.id,
                    body=form.body.data,
                    components=chosen,
                    notify=form.notify.data,
                )
            except ValidationError as exc:
                _show_errors(form, exc)
            except NotFound:
                return render_template("admin/error.html", message="No such incident."), 404
            else:
                flash("Update posted; it is being published.", "ok")
                return redirect(url_for("admin.incident", incident_id=row.id))
        row = db.session.get(Incident, incident_id)
        return _incident_page(row, form, chosen), UNPROCESSABLE
    return _incident_page(row, form, chosen)


def _incident_page(row: Incident, form: UpdateForm, chosen: dict[str, str]) -> str:
    deliveries = db.session.scalars(
        db.select(Delivery)
        .where(Delivery.update_id.in_([u.id for u in row.updates]))
        .order_by(Delivery.id)
    ).all()
    current = {c.id: str(c.status) for c in row.components}
    return render_template(
        "admin/incident.html",
        incident=row,
        form=form,
        groups=_components_by_group(),
        chosen=chosen or current,
        statuses=list(ComponentStatus),
        deliveries=deliveries,
    )
