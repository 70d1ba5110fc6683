"""The problem report form. Flask-WTF adds and checks its CSRF token."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from statuspage.listening.inbox import MAX_REPORT


class ReportForm(FlaskForm):
    text = TextAreaField(
        _l("What is wrong?"),
        validators=[DataRequired(_l("Describe what is wrong.")), Length(max=MAX_REPORT)],
        description=_l("What you tried, what happened, and when."),
    )
    component = SelectField(_l("Which part is affected?"), choices=[], validate_choice=False)
    email = EmailField(
        _l("Your email (optional)"),
        validators=[Optional(), Length(max=254)],
        description=_l("Only to follow up on this report; never shown or shared."),
    )
