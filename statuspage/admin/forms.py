"""Admin forms. Flask-WTF adds and checks the CSRF token on each of them."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from statuspage import passwords
from statuspage.admin.display import from_operator_zone, operator_zone, zone_hint
from statuspage.i18n import LANGUAGES
from statuspage.incidents import intervals
from statuspage.incidents.templates import TEMPLATE_STATUSES
from statuspage.incidents.workflow import (
    INCIDENT_IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    MAX_BODY,
    MAX_DESCRIPTION,
    MAX_INTERVAL,
    MAX_NAME,
    MIN_INTERVAL,
)
from statuspage.models import ComponentStatus, Impact, Role
from statuspage.models.types import new_public_id
from statuspage.page_settings import MAX_PAGE_NAME
from statuspage.text_rules import PlainLine, PlainText

COMPONENT_FIELD_PREFIX = "component-"


def line_rules(limit: int = MAX_NAME) -> list[Any]:
    """A name field's validators: the rules of ``statuspage.text_rules`` shown on the field."""
    return [DataRequired(), Length(max=limit), PlainLine(limit)]


def text_rules(limit: int = MAX_BODY) -> list[Any]:
    return [DataRequired(), Length(max=limit), PlainText(limit)]


def optional_text_rules(limit: int) -> list[Any]:
    return [Length(max=limit), PlainText(limit, required=False)]


def _choices(values: tuple[str, ...]) -> list[SelectChoice]:
    return [SelectChoice(v, v.replace("_", " ").capitalize()) for v in values]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=255)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)]
    )


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code",
        validators=[DataRequired(), Length(max=32)],
    )


class ConfirmPasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)]
    )


class PasswordChangeForm(ConfirmPasswordForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired(), Length(min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH)],
        description=f"At least {passwords.MIN_LENGTH} characters; common passwords are refused.",
    )


class BrandingForm(FlaskForm):
    logo = FileField("Logo (PNG or SVG, at most 512 KiB; SVGs are cleaned of scripts and links)")
    remove_logo = BooleanField("Remove the logo")
    favicon = FileField("Favicon (PNG, ICO or SVG, at most 100 KiB)")
    remove_favicon = BooleanField("Remove the favicon")
    brand_colour = StringField(
        "Brand colour (e.g. #0969da; white text must read on it at WCAG AA contrast)"
    )
    footer_links = TextAreaField("Footer links (one “Label | https://…” per line, at most 8)")
    custom_css = TextAreaField(
        "Custom CSS (at most 20,000 characters; no @import, and url() only for data: images)"
    )


class TwoFactorRolesForm(FlaskForm):
    roles = SelectMultipleField(
        "Roles that must sign in with a second factor",
        choices=_choices(tuple(Role)),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )


class IncidentForm(FlaskForm):
    name = StringField("Title", validators=line_rules())
    impact = SelectField("Impact", choices=_choices(INCIDENT_IMPACTS), default="minor")
    status = SelectField(
        "Status", choices=_choices(INCIDENT_STATUSES[:-1]), default="investigating"
    )
    body = TextAreaField("Message (Markdown)", validators=text_rules())
    update_interval = IntegerField(
        "Next update within (minutes)",
        validators=[Optional(), NumberRange(min=MIN_INTERVAL, max=MAX_INTERVAL)],
        description="Leave empty for the default of the impact level.",
    )
    notify = BooleanField("Notify subscribers and social channels", default=True)
    # Chosen when the form is shown, so the preview links to the incident and update that
    # posting makes, and a second submit of the same form is known.
    incident_id = HiddenField(default=new_public_id)
    update_id = HiddenField(default=new_public_id)


class UpdateForm(FlaskForm):
    status = SelectField("Status", choices=_choices(INCIDENT_STATUSES))
    body = TextAreaField("Message (Markdown)", validators=text_rules())
    notify = BooleanField("Notify subscribers and social channels", default=True)
    update_id = HiddenField(default=new_public_id)

    def for_maintenance(self) -> UpdateForm:
        self.status.choices = _choices(MAINTENANCE_STATUSES[1:])
        return self


class EditUpdateForm(FlaskForm):
    corrected_body = TextAreaField("Corrected text", validators=text_rules())


class ResolveForm(FlaskForm):
    resolution = TextAreaField(
        "Resolution message",
        validators=text_rules(),
        default="This incident has been resolved.",
    )


class PostmortemForm(FlaskForm):
    postmortem_body = TextAreaField(
        "Postmortem (Markdown)",
        validators=text_rules(),
    )


class ActionForm(FlaskForm):
    """A button that only carries the CSRF token."""


class ZonedDateTimeField(DateTimeLocalField):
    """A time typed in the operator's time zone (named in the hint), held as UTC."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("format", "%Y-%m-%dT%H:%M")
        super().__init__(label, **kwargs)
        self.description = zone_hint()

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = from_operator_zone(self.data)

    def _value(self) -> str:
        if self.raw_data:
            return " ".join(self.raw_data)
        if self.data is None:
            return ""
        return self.data.astimezone(operator_zone()).strftime(self.format[0])


class MaintenanceForm(FlaskForm):
    name = StringField("Title", validators=line_rules())
    body = TextAreaField("Message (Markdown)", validators=text_rules())
    scheduled_for = ZonedDateTimeField("Starts", validators=[DataRequired()])
    scheduled_until = ZonedDateTimeField("Ends", validators=[DataRequired()])
    auto_in_progress = BooleanField("Start automatically at the start time", default=True)
    auto_completed = BooleanField("Complete automatically at the end time", default=True)
    notify = BooleanField("Notify subscribers and social channels", default=True)


class RescheduleForm(FlaskForm):
    scheduled_for = ZonedDateTimeField("Starts", validators=[DataRequired()])
    scheduled_until = ZonedDateTimeField("Ends", validators=[DataRequired()])
    announcement = TextAreaField(
        "Announcement (Markdown; empty: the new window, said plainly)",
        validators=optional_text_rules(MAX_BODY),
    )
    notify = BooleanField("Notify subscribers and social channels", default=True)


class CancelMaintenanceForm(FlaskForm):
    announcement = TextAreaField(
        "Announcement (Markdown; empty: “This maintenance has been cancelled.”)",
        validators=optional_text_rules(MAX_BODY),
    )
    notify = BooleanField("Notify subscribers and social channels", default=True)


class PageForm(FlaskForm):
    name = StringField(
        "Page name (shown on the page, in feeds, posts and emails)",
        validators=line_rules(MAX_PAGE_NAME),
    )
    default_language = SelectField(
        "Default language (of the page at /, feeds, posts and emails; readers may choose another)",
        choices=[SelectChoice(code, lang.name) for code, lang in LANGUAGES.items()],
        validate_choice=False,  # the page settings service names a wrong one
    )
    # Checked against the zone database by the page settings service.
    time_zone = StringField(
        "Time zone (IANA name, reported by the API)", validators=[DataRequired()]
    )


class CadenceForm(FlaskForm):
    """Minutes between promised updates for each impact and status (fields added below)."""

    overdue_repeat_minutes = IntegerField(
        "Repeat an overdue alert every (minutes)",
        validators=[InputRequired(), NumberRange(MIN_INTERVAL, MAX_INTERVAL)],
        description="Operators hear of an unkept promise again at this interval until an "
        "update is posted.",
    )

    @classmethod
    def rows(cls) -> list[tuple[Impact, list[str]]]:
        """Field names by impact, for the settings table."""
        return [
            (impact, [intervals.field_name(impact, s) for s in intervals.PROMISING])
            for impact in reversed(INCIDENT_IMPACTS)
        ]


for _impact in INCIDENT_IMPACTS:
    for _status in intervals.PROMISING:
        setattr(
            CadenceForm,
            intervals.field_name(_impact, _status),
            IntegerField(
                f"{_impact.capitalize()} impact, {_status.label.lower()}",
                validators=[InputRequired(), NumberRange(MIN_INTERVAL, MAX_INTERVAL)],
            ),
        )


class NoticesForm(FlaskForm):
    # Parsed by statuspage.incidents.notices, which names what it cannot read.
    offsets = StringField(
        "Advance notices before a maintenance starts",
        validators=[Length(max=100)],
        description="Times before the start, such as “24h, 1h” (d, h and m; empty for none). "
        "Subscribers and the announcing channels are reminded at each.",
    )


class TemplateForm(FlaskForm):
    name = StringField("Template name", validators=line_rules())
    title = StringField("Incident title", validators=line_rules())
    status = SelectField("Status", choices=_choices(TEMPLATE_STATUSES))
    body = TextAreaField("Message (Markdown)", validators=text_rules())


class ComponentForm(FlaskForm):
    name = StringField("Name", validators=line_rules())
    description = TextAreaField(
        "Description",
        validators=optional_text_rules(MAX_DESCRIPTION),
    )
    group_id = SelectField("Group", choices=[], validate_choice=False)
    position = IntegerField("Position", validators=[Optional(), NumberRange(min=0)])
    status = SelectField("Status", choices=_choices(tuple(ComponentStatus)))
    showcase = BooleanField("Show on the page", default=True)
    only_show_if_degraded = BooleanField("Only show when not operational")


class StatusForm(FlaskForm):
    status = SelectField("Status", choices=_choices(tuple(ComponentStatus)))


class GroupForm(FlaskForm):
    name = StringField("Name", validators=line_rules())
    description = TextAreaField(
        "Description",
        validators=optional_text_rules(MAX_DESCRIPTION),
    )
    position = IntegerField("Position", validators=[Optional(), NumberRange(min=0)])


class UserForm(FlaskForm):
    email = EmailField("Email", validators=line_rules(255))
    role = SelectField("Role", choices=_choices(tuple(Role)), default="responder")
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=passwords.MIN_LENGTH, max=passwords.MAX_LENGTH)],
        description="The user changes it at first sign-in.",
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=_choices(tuple(Role)))


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=line_rules(255))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    actor = StringField("Actor", validators=[Optional(), Length(max=255)])
    action = StringField("Action", validators=[Optional(), Length(max=64)])
    object_type = StringField("Object type", validators=[Optional(), Length(max=32)])
    object_id = StringField("Object id", validators=[Optional(), Length(max=64)])
    since = ZonedDateTimeField("From", validators=[Optional()])
    until = ZonedDateTimeField("To", validators=[Optional()])
    before_id = HiddenField()


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


CHANNELS_SHOWN = "channels-shown"


def channel_choices(form_data: MultiDict[str, str]) -> list[int] | None:
    """The announcing channels ticked on a form, or None when the form offered no choice
    (then every announcing channel is notified). Ids that are not numbers are kept out and
    reported by the service as unknown channels."""
    if CHANNELS_SHOWN not in form_data:
        return None
    return [int(v) if v.isascii() and v.isdigit() else -1 for v in form_data.getlist("channels")]


class TimeZoneForm(FlaskForm):
    time_zone = StringField(
        "Your time zone",
        validators=[Optional(), Length(max=64)],
        description="An IANA name such as Europe/Paris. Empty: the page's time zone.",
    )


class SubscriberFilterForm(FlaskForm):
    """Choices of ``component`` are the installation's components, set by the view."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    q = StringField("Address contains", validators=[Optional(), Length(max=254)])
    component = SelectField("Hears about", default="")
    state = SelectField(
        "State",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("confirmed", "Confirmed"),
            SelectChoice("waiting", "Waiting to confirm"),
        ],
        default="",
    )
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class SubscriberImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired("choose a CSV file")],
        description=(
            "Columns kind, address, components (one name per line), confirmed_at. "
            "Rows with confirmed_at stay confirmed; the others are sent a confirmation."
        ),
    )
