"""Public subscription forms. Flask-WTF adds and checks the CSRF token on each."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, TelField, URLField
from wtforms.validators import DataRequired, Length


class SubscribeForm(FlaskForm):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])


class SmsSubscribeForm(FlaskForm):
    phone = TelField(
        _l("Mobile number, with its country code"),
        validators=[DataRequired(), Length(max=32)],
    )


class EndpointSubscribeForm(FlaskForm):
    """A webhook endpoint or a Slack incoming webhook (``method``), checked by the service."""

    method = HiddenField()
    url = URLField(_l("URL"), validators=[DataRequired(), Length(max=1024)])


class ManageForm(FlaskForm):
    """Components come from checkboxes named ``components``; the form carries the token."""
