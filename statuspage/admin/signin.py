"""Signing in and out: password, then the second factor when the user has one, or an
OpenID Connect provider; and the gate that sends a signed-in user to change a password
or set up a second factor before anything else."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage import accounts, oidc, sessions, two_factor
from statuspage.admin.access import require
from statuspage.admin.forms import CodeForm, LoginForm
from statuspage.admin.routes import TOO_MANY, bp
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Role, User

PENDING_KEY = "pending_second_factor"  # (user id, unix time the password was accepted)
PENDING_SECONDS = 300
# Where a user who must first change the password or set up a second factor may go.
GATE_OPEN = {
    "admin.login",
    "admin.login_code",
    "admin.logout",
    "admin.account",
    "admin.change_password",
    "admin.two_factor_setup",
    "admin.two_factor_confirm",
    "admin.sign_out_everywhere",
    "admin.oidc_login",
    "admin.oidc_callback",
}


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _throttled(form: LoginForm | CodeForm, exc: accounts.LoginThrottled, template: str):  # type: ignore[no-untyped-def]
    field = form.password if isinstance(form, LoginForm) else form.code
    field.errors = [f"Too many failed attempts; try again after {exc.retry_at:%H:%M:%S} UTC."]
    return render_template(template, form=form, oidc=oidc.enabled()), TOO_MANY


def continue_sign_in(user: User) -> ResponseReturnValue:
    """The first factor is good: ask for the code, or sign in."""
    if user.has_second_factor:
        sessions.fresh_cookie()
        session[PENDING_KEY] = (user.id, int(now().timestamp()))
        return redirect(url_for("admin.login_code"))
    sessions.start_session(user)
    return redirect(url_for("admin.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data, _client_ip())
        except accounts.LoginThrottled as exc:
            return _throttled(form, exc, "admin/login.html")
        if user is not None:
            return continue_sign_in(user)
        form.password.errors = ["Wrong email or password."]
        return render_template("admin/login.html", form=form, oidc=oidc.enabled()), 401
    status = 400 if request.method == "POST" else 200
    return render_template("admin/login.html", form=form, oidc=oidc.enabled()), status


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, list | tuple) or len(pending) != 2:
        return None
    user_id, since = pending
    if now().timestamp() - since > PENDING_SECONDS:
        return None
    user = db.session.get(User, user_id)
    return user if user is not None and user.is_active and user.has_second_factor else None


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        return redirect(url_for("admin.login"))
    form = CodeForm()
    if form.validate_on_submit():
        retry_at = accounts.code_throttled_until(user, now())
        if retry_at is not None:
            return _throttled(form, accounts.LoginThrottled(retry_at), "admin/login_code.html")
        ok = two_factor.verify(user, form.code.data)
        accounts.record_code_attempt(user, _client_ip(), ok)
        if ok:
            sessions.start_session(user)
            return redirect(url_for("admin.dashboard"))
        form.code.errors = ["That code is not valid; use the current one, or a recovery code."]
        return render_template("admin/login_code.html", form=form), 401
    status = 400 if request.method == "POST" else 200
    return render_template("admin/login_code.html", form=form), status


@bp.post("/logout")
@require(Role.VIEWER)
def logout() -> ResponseReturnValue:
    sessions.end_session()
    return redirect(url_for("admin.login"))


@bp.before_request
def _gate() -> ResponseReturnValue | None:
    """A password someone else chose is changed, and a required second factor set up,
    before the user can do anything else."""
    if request.endpoint in GATE_OPEN or not current_user.is_authenticated:
        return None
    if current_user.must_change_password:
        return redirect(url_for("admin.account"))
    if two_factor.enrolment_required(current_user):
        return redirect(url_for("admin.two_factor_setup"))
    return None


@bp.get("/login/oidc")
def oidc_login() -> ResponseReturnValue:
    if not oidc.enabled():
        return redirect(url_for("admin.login"))
    return oidc.authorize_redirect(current_app.config["BASE_URL"] + url_for("admin.oidc_callback"))


@bp.get("/login/oidc/callback")
def oidc_callback() -> ResponseReturnValue:
    if not oidc.enabled():
        return redirect(url_for("admin.login"))
    try:
        user = oidc.user_from_callback(_client_ip())
    except oidc.SignInRefused as exc:
        form = LoginForm()
        form.email.errors = [str(exc)]
        return render_template("admin/login.html", form=form, oidc=True), 403
    return continue_sign_in(user)
