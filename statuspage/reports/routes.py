"""The public problem report form. No account is needed; it is rate limited per client
address with the subscription form's limiter, CSRF protected, and its body is capped."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from statuspage import i18n
from statuspage.branding import brand
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.listening import inbox
from statuspage.models import Component, Page
from statuspage.reports.forms import ReportForm
from statuspage.subscriptions.limits import limiter

bp = Blueprint("reports", __name__)
bp.before_request(i18n.page_language)

MAX_BODY = 64 * 1024  # a report is a few paragraphs; anything far larger is not one


def report_limit() -> str:
    return current_app.config["REPORT_RATE_LIMIT"]


@bp.url_value_preprocessor
def _cap_body(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    """Cap the body before anything reads it: URL value preprocessors run before the app's
    ``before_request`` hooks, and the CSRF check there already parses the form."""
    request.max_content_length = MAX_BODY


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'",
    )
    return response


def _page(template: str, status: int = 200, **values: Any) -> ResponseReturnValue:
    page = Page.get()
    return render_template(f"reports/{template}", page=page, brand=brand(page), **values), status


def _message(status: int, title: str, message: str) -> ResponseReturnValue:
    return _page("message.html", status, title=title, message=message)


def _components() -> list[tuple[str, str]]:
    rows = db.session.scalars(
        db.select(Component).where(Component.showcase.is_(True)).order_by(Component.position)
    )
    return [("", _("Not sure, or something else"))] + [(c.id, c.display_name) for c in rows]


@bp.route("/report", methods=["GET", "POST"])
@limiter.limit(report_limit, methods=["POST"])
def report() -> ResponseReturnValue:
    form = ReportForm()
    form.component.choices = _components()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                inbox.add_report(
                    text=form.text.data,
                    component_id=form.component.data or None,
                    email=form.email.data,
                )
            except ValidationError as exc:
                for name, message in exc.errors.items():
                    field = getattr(form, name, form.text)
                    field.errors = [*field.errors, message]
            else:
                return redirect(url_for("reports.thanks"), 303)
        return _page("report.html", 422, form=form)
    return _page("report.html", form=form)


@bp.get("/report/thanks")
def thanks() -> ResponseReturnValue:
    return _message(
        200,
        _("Thank you"),
        _("Your report reached the team. If you left an email address, we will follow up there."),
    )


@bp.errorhandler(CSRFError)
def _expired(_error: CSRFError) -> ResponseReturnValue:
    return _message(
        400,
        _("Form expired"),
        _("The form was not sent from this page or has expired; reload it."),
    )


@bp.errorhandler(413)
def _too_large(_error: Exception) -> ResponseReturnValue:
    return _message(413, _("Report too large"), _("Please keep a report to a few paragraphs."))


@bp.errorhandler(429)
def _too_many(_error: Exception) -> ResponseReturnValue:
    return _message(429, _("Too many reports"), _("Please try again in a few minutes."))
