"""The problem report form. Flask-WTF adds and checks its CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from statuspage.listening.inbox import MAX_REPORT


class ReportForm(FlaskForm):
    text = TextAreaField(
        "What is wrong?",
        validators=[DataRequired("Describe what is wrong."), Length(max=MAX_REPORT)],
        description="What you tried, what happened, and when.",
    )
    component = SelectField("Which part is affected?", choices=[], validate_choice=False)
    email = EmailField(
        "Your email (optional)",
        validators=[Optional(), Length(max=254)],
        description="Only to follow up on this report; never shown or shared.",
    )
