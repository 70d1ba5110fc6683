"""Time to first post in the admin: per incident (with the operator's own start time when
no alert gave one) and the 30-day median on the dashboard."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.validators import DataRequired

from statuspage.admin.access import require
from statuspage.admin.forms import ZonedDateTimeField
from statuspage.admin.routes import bp
from statuspage.errors import NotFound, ValidationError
from statuspage.incidents import first_post
from statuspage.models import Incident, Role


class ProblemStartForm(FlaskForm):
    problem_started_at = ZonedDateTimeField("Problem started", validators=[DataRequired()])


@bp.post("/incidents/<incident_id>/problem-start")
@require(Role.RESPONDER)
def problem_start(incident_id: str) -> ResponseReturnValue:
    form = ProblemStartForm()
    if not form.validate_on_submit():
        flash("Give the time the problem started, as YYYY-MM-DD HH:MM in your time zone.", "error")
    else:
        started = form.problem_started_at.data
        try:
            first_post.set_problem_start(
                actor=current_user, incident_id=incident_id, started=started
            )
        except NotFound:
            return redirect(url_for("admin.dashboard"))
        except ValidationError as exc:
            for message in exc.errors.values():
                flash(f"Problem start {message}.", "error")
        else:
            flash("Problem start recorded.", "ok")
    return redirect(url_for("admin.incident", incident_id=incident_id))


@bp.app_template_global()
def first_post_of(incident: Incident) -> dict[str, object]:
    """What the incident page shows of its time to first post, and the form to set it."""
    form = ProblemStartForm()
    if incident.problem_started_at is not None:
        form.problem_started_at.data = incident.problem_started_at.replace(tzinfo=None)
    return {"seconds": first_post.seconds(incident), "form": form}


@bp.app_template_global()
def first_post_recent() -> first_post.Summary:
    return first_post.recent()
