"""Operator views: they validate input and call the domain services, nothing more.

This module holds the blueprint and the dashboard; each area of the admin (sign-in in
``signin.py``) has its own module registering on ``bp``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from statuspage.admin.access import require
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import cadence
from statuspage.incidents.workflow import CLOSED_STATUSES
from statuspage.lib.clock import now
from statuspage.models import Component, ComponentGroup, Incident, Page, Role
from statuspage.publishing.quarantine import read_problems
from statuspage.readiness import checklist
from statuspage.text_rules import storable

bp = Blueprint("admin", __name__, url_prefix="/admin")

UNPROCESSABLE = 422
TOO_MANY = 429


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError) -> ResponseReturnValue:
    return render_template("admin/error.html", message=f"Form rejected: {error.description}"), 400


@bp.errorhandler(400)
def bad_request(error: Exception) -> ResponseReturnValue:
    if isinstance(error, CSRFError):
        return csrf_error(error)
    return render_template("admin/error.html", message="The request could not be read."), 400


@bp.errorhandler(403)
def forbidden(_error: Exception) -> ResponseReturnValue:
    return render_template("admin/error.html", message="Your role does not allow this."), 403


@bp.errorhandler(404)
def not_found(_error: Exception) -> ResponseReturnValue:
    return render_template("admin/error.html", message="Not found."), 404


@bp.before_request
def _storable_input() -> None:
    """NUL bytes in a path or form would reach the database as errors; refuse them here."""
    values = [*(request.view_args or {}).values(), *request.args.values(), *request.form.keys()]
    values += request.form.values()
    if any(isinstance(v, str) and not storable(v) for v in values):
        abort(400)


@bp.app_context_processor
def _banner() -> dict[str, Any]:
    """Every admin page shows the incidents whose next update is due soon or overdue, and
    the records the public page leaves out because they cannot be rendered."""
    if not has_request_context() or request.blueprint != "admin":
        return {}
    if not current_user.is_authenticated:
        return {}
    at = now()
    return {
        "attention": [(i, cadence.state(i, at)) for i in cadence.attention(at)],
        "unpublished": read_problems(Path(current_app.config["PUBLISH_DIR"])),
        "now": at,
    }


def components_by_group() -> list[tuple[ComponentGroup | None, list[Component]]]:
    components = db.session.scalars(
        db.select(Component).order_by(Component.position, Component.name)
    ).all()
    groups = db.session.scalars(
        db.select(ComponentGroup).order_by(ComponentGroup.position, ComponentGroup.name)
    ).all()
    listing: list[tuple[ComponentGroup | None, list[Component]]] = [
        (g, [c for c in components if c.group_id == g.id]) for g in groups
    ]
    listing.append((None, [c for c in components if c.group_id is None]))
    return [(g, cs) for g, cs in listing if cs]


def show_errors(form: FlaskForm, exc: ValidationError) -> None:
    """Put domain errors next to their fields; the rest go to the flash area."""
    for field, message in exc.errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = [*target.errors, message]
        else:
            flash(f"{field}: {message}", "error")


@bp.get("/")
@require(Role.VIEWER)
def dashboard() -> ResponseReturnValue:
    """Open incidents first, the one whose update is due soonest at the top."""
    open_incidents = db.session.scalars(
        db.select(Incident)
        .where(Incident.status.not_in(CLOSED_STATUSES), Incident.scheduled_for.is_(None))
        .order_by(Incident.next_update_due.is_(None), Incident.next_update_due)
    ).all()
    maintenances = db.session.scalars(
        db.select(Incident)
        .where(Incident.status.not_in(CLOSED_STATUSES), Incident.scheduled_for.is_not(None))
        .order_by(Incident.scheduled_for)
    ).all()
    recent = db.session.scalars(
        db.select(Incident).order_by(Incident.created_at.desc()).limit(20)
    ).all()
    at = now()
    page = Page.get()
    db.session.commit()  # the first visit creates the page row; keep its id
    return render_template(
        "admin/dashboard.html",
        open_incidents=[(i, cadence.state(i, at)) for i in open_incidents],
        maintenances=maintenances,
        recent=recent,
        groups=components_by_group(),
        page=page,
        setup=checklist(),
    )
