"""The signed-in user's own account: password, second factor, sessions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage import accounts, sessions, two_factor
from statuspage.admin.access import require
from statuspage.admin.forms import (
    ActionForm,
    CodeForm,
    ConfirmPasswordForm,
    PasswordChangeForm,
    TimeZoneForm,
)
from statuspage.admin.routes import UNPROCESSABLE, bp, show_errors
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.models import Role
from statuspage.page_settings import time_zones

DISABLE = "disable"  # the second password field on the account page


def _page(status: int = 200, **overrides: object) -> ResponseReturnValue:
    context: dict[str, object] = {
        "password_form": PasswordChangeForm(),
        "zone_form": TimeZoneForm(time_zone=current_user.time_zone or ""),
        "zones": time_zones(),
        "disable_form": ConfirmPasswordForm(prefix=DISABLE),
        "action_form": ActionForm(),
        "sessions": sessions.open_sessions(current_user),
        "this_session": sessions.current_token_hash(),
        "recovery_left": two_factor.unused_recovery_codes(current_user),
        "recovery_codes": None,
    }
    context.update(overrides)
    return render_template("admin/account.html", **context), status


@bp.get("/account")
@require(Role.VIEWER)
def account() -> ResponseReturnValue:
    return _page()


@bp.post("/account/time-zone")
@require(Role.VIEWER)
def change_time_zone() -> ResponseReturnValue:
    form = TimeZoneForm()
    if form.validate_on_submit():
        try:
            accounts.set_time_zone(current_user, form.time_zone.data or "")
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash("Times are now shown and taken in your time zone.", "ok")
            return redirect(url_for("admin.account"))
    return _page(UNPROCESSABLE, zone_form=form)


@bp.post("/account/password")
@require(Role.VIEWER)
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user,
                form.current_password.data,
                form.password.data,
                keep=sessions.current_token_hash(),
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash("Password changed; your other sessions are signed out.", "ok")
            return redirect(url_for("admin.account"))
    return _page(UNPROCESSABLE, password_form=form)


@bp.post("/account/sign-out-everywhere")
@require(Role.VIEWER)
def sign_out_everywhere() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    accounts.sign_out_everywhere(current_user)
    sessions.end_session()
    flash("Signed out everywhere.", "ok")
    return redirect(url_for("admin.login"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@require(Role.VIEWER)
def two_factor_setup() -> ResponseReturnValue:
    """Show a fresh secret as a QR code (GET shows the pending one, POST starts over)."""
    if current_user.has_second_factor:
        return redirect(url_for("admin.account"))
    if request.method == "POST":
        if not ActionForm().validate_on_submit():
            abort(400)
        two_factor.begin_enrolment(current_user)
    secret = two_factor.pending_secret(current_user) or two_factor.begin_enrolment(current_user)
    return _setup_page(secret, CodeForm())


def _setup_page(secret: str, form: CodeForm, status: int = 200) -> ResponseReturnValue:
    uri = two_factor.provisioning_uri(current_user, secret)
    return (
        render_template(
            "admin/two_factor_setup.html",
            form=form,
            secret=secret,
            qr=two_factor.qr_code(uri),
            required=two_factor.enrolment_required(current_user),
        ),
        status,
    )


@bp.post("/account/two-factor/confirm")
@require(Role.VIEWER)
def two_factor_confirm() -> ResponseReturnValue:
    """The first code turns the second factor on; the recovery codes are shown once."""
    secret = two_factor.pending_secret(current_user)
    if secret is None:
        return redirect(url_for("admin.two_factor_setup"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.confirm_enrolment(current_user, form.code.data)
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash("Second factor on. Keep the recovery codes somewhere safe.", "ok")
            return _page(recovery_codes=codes)
    return _setup_page(secret, form, UNPROCESSABLE)


@bp.post("/account/two-factor/recovery-codes")
@require(Role.VIEWER)
def new_recovery_codes() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        codes = two_factor.new_recovery_codes(current_user)
    except ValidationError:
        return redirect(url_for("admin.account"))
    flash("New recovery codes; the old ones no longer work.", "ok")
    return _page(recovery_codes=codes)


@bp.post("/account/two-factor/disable")
@require(Role.VIEWER)
def disable_two_factor() -> ResponseReturnValue:
    form = ConfirmPasswordForm(prefix=DISABLE)
    if not form.validate_on_submit():
        abort(400)
    if not current_user.check_password(form.current_password.data):
        flash("That is not your current password; the second factor stays on.", "error")
        return _page(UNPROCESSABLE)
    if current_user.role in two_factor.required_roles():
        flash("Your role must sign in with a second factor; it stays on.", "error")
        return _page(UNPROCESSABLE)
    two_factor.disable(current_user, current_user)
    flash("Second factor removed.", "ok")
    return redirect(url_for("admin.account"))
