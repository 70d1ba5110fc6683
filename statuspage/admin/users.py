"""Operator accounts and their API tokens (admins only)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from statuspage import accounts, two_factor
from statuspage.admin.access import require
from statuspage.admin.forms import ActionForm, RoleForm, TokenForm, UserForm
from statuspage.admin.routes import UNPROCESSABLE, bp, show_errors
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.models import ApiToken, Role, User


def _page(**overrides: object) -> str:
    users = db.session.scalars(db.select(User).order_by(User.email)).all()
    tokens = db.session.scalars(db.select(ApiToken).order_by(ApiToken.created_at.desc())).all()
    context: dict[str, object] = {
        "users": users,
        "tokens": tokens,
        "user_form": UserForm(),
        "role_form": RoleForm(),
        "token_form": TokenForm(),
        "action_form": ActionForm(),
        "new_token": None,
    }
    context.update(overrides)
    return render_template("admin/users.html", **context)


@bp.get("/users")
@require(Role.ADMIN)
def users() -> ResponseReturnValue:
    return _page()


@bp.post("/users")
@require(Role.ADMIN)
def create_user() -> ResponseReturnValue:
    form = UserForm()
    if form.validate_on_submit():
        try:
            accounts.create_user(
                form.email.data,
                form.password.data,
                form.role.data,
                current_user,
                must_change_password=True,
            )
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            flash(f"User {form.email.data} created.", "ok")
            return redirect(url_for("admin.users"))
    return _page(user_form=form), UNPROCESSABLE


def _act(action) -> ResponseReturnValue:  # type: ignore[no-untyped-def]
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        message = action()
    except NotFound:
        abort(404)
    except ValidationError as exc:
        db.session.rollback()
        flash("; ".join(exc.errors.values()), "error")
        return _page(), UNPROCESSABLE
    flash(message, "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int(max=2147483647):user_id>/role")
@require(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the listed roles.", "error")
        return _page(), UNPROCESSABLE

    def action() -> str:
        user = accounts.change_role(user_id, form.role.data, current_user)
        return f"{user.email} is now {user.role}."

    return _act(action)


@bp.post("/users/<int(max=2147483647):user_id>/deactivate")
@require(Role.ADMIN)
def deactivate_user(user_id: int) -> ResponseReturnValue:
    return _act(lambda: f"{accounts.set_active(user_id, False, current_user).email} deactivated.")


@bp.post("/users/<int(max=2147483647):user_id>/activate")
@require(Role.ADMIN)
def activate_user(user_id: int) -> ResponseReturnValue:
    return _act(lambda: f"{accounts.set_active(user_id, True, current_user).email} reactivated.")


@bp.post("/users/<int(max=2147483647):user_id>/tokens")
@require(Role.ADMIN)
def create_token(user_id: int) -> ResponseReturnValue:
    """The plain token is rendered in this one response and never again."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = TokenForm()
    if form.validate_on_submit():
        try:
            plain = accounts.create_token(user, form.name.data, current_user)
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            response = _page(new_token=(user, plain))
            return response, 201, {"Cache-Control": "no-store"}
    return _page(token_form=form), UNPROCESSABLE


@bp.post("/tokens/<int(max=2147483647):token_id>/revoke")
@require(Role.ADMIN)
def revoke_token(token_id: int) -> ResponseReturnValue:
    return _act(lambda: f"Token {accounts.revoke_token(token_id, current_user).name} revoked.")


@bp.post("/users/<int(max=2147483647):user_id>/two-factor/remove")
@require(Role.ADMIN)
def remove_two_factor(user_id: int) -> ResponseReturnValue:
    """For a user who lost both the app and the recovery codes."""

    def action() -> str:
        user = db.session.get(User, user_id)
        if user is None:
            raise NotFound(f"user {user_id}")
        two_factor.disable(user, current_user)
        return f"Second factor of {user.email} removed."

    return _act(action)
