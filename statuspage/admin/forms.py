"""Admin forms. Flask-WTF adds and checks the CSRF token on each of them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from statuspage.incidents.workflow import INCIDENT_IMPACTS, INCIDENT_STATUSES

COMPONENT_FIELD_PREFIX = "component-"


def _choices(values: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(v, v.replace("_", " ").capitalize()) for v in values]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField("Password", validators=[DataRequired()])


class IncidentForm(FlaskForm):
    name = StringField("Title", validators=[DataRequired(), Length(max=255)])
    impact = SelectField("Impact", choices=_choices(INCIDENT_IMPACTS), default="minor")
    status = SelectField(
        "Status", choices=_choices(INCIDENT_STATUSES[:-1]), default="investigating"
    )
    body = TextAreaField("Message (Markdown)", validators=[DataRequired(), Length(max=20_000)])
    update_interval = IntegerField(
        "Next update within (minutes)",
        validators=[Optional(), NumberRange(min=5, max=1440)],
        description="Leave empty for the default of the impact level.",
    )
    notify = BooleanField("Notify subscribers and social channels", default=True)


class UpdateForm(FlaskForm):
    status = SelectField("Status", choices=_choices(INCIDENT_STATUSES))
    body = TextAreaField("Message (Markdown)", validators=[DataRequired(), Length(max=20_000)])
    notify = BooleanField("Notify subscribers and social channels", default=True)


def component_choices(form_data: MultiDict[str, str]) -> dict[str, str]:
    """The components a form marks as affected, as {component id: new status}.

    Ids come from the submitted field names, so an unknown id reaches the domain service
    and is refused there with a clear error instead of being silently dropped.
    """
    return {
        key[len(COMPONENT_FIELD_PREFIX) :]: value
        for key, value in form_data.items()
        if key.startswith(COMPONENT_FIELD_PREFIX) and value
    }
