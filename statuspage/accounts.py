"""Account administration shared by the CLI and the admin, and login throttling."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import ApiToken, LoginAttempt, Role, User
from statuspage.models.audit import record

MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Throttling: failures counted in a sliding window, per account and per client address.
# Attempts live in the database, so every web process and the embedded mode agree.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_IP = 20


class LoginThrottled(Exception):
    """Too many recent failures; ``retry_at`` is when the oldest one leaves the window."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many failed logins; try again after {retry_at:%H:%M} UTC")
        self.retry_at = retry_at


def find_user(email: str) -> User | None:
    return db.session.scalars(
        db.select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"must be at least {MIN_PASSWORD} characters"})


def create_user(email: str, password: str, role: str, actor: User | None = None) -> User:
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not _EMAIL.match(email) or len(email) > 255:
        errors["email"] = "is not an email address"
    elif find_user(email) is not None:
        errors["email"] = "a user with this email already exists"
    if role not in tuple(Role):
        errors["role"] = f"must be one of {', '.join(Role)}"
    try:
        check_password_strength(password)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    user = User(email=email, role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", "user", str(user.id), None, {"email": email, "role": role})
    db.session.commit()
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    check_password_strength(password)
    user.set_password(password)
    record(actor, "user.password_reset", "user", str(user.id))
    db.session.commit()


def _active_admins() -> int:
    return db.session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    )


def _get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id}")
    return user


def change_role(user_id: int, role: str, actor: User | None) -> User:
    """Change a role; the last active admin cannot demote themselves out of the system."""
    user = _get_user(user_id)
    if role not in tuple(Role):
        raise ValidationError({"role": f"must be one of {', '.join(Role)}"})
    if user.role == Role.ADMIN and role != Role.ADMIN and user.active and _active_admins() == 1:
        raise ValidationError({"role": "the last active admin must stay an admin"})
    before = {"role": str(user.role)}
    if before["role"] == role:
        return user
    user.role = Role(role)
    record(actor, "user.role", "user", str(user.id), before, {"role": role})
    db.session.commit()
    return user


def set_active(user_id: int, active: bool, actor: User | None) -> User:
    """Deactivating ends the user's sessions and tokens at their next request."""
    user = _get_user(user_id)
    if not active and user.role == Role.ADMIN and user.active and _active_admins() == 1:
        raise ValidationError({"active": "the last active admin cannot be deactivated"})
    if user.active == active:
        return user
    before = {"active": user.active}
    user.active = active
    record(
        actor,
        "user.activate" if active else "user.deactivate",
        "user",
        str(user.id),
        before,
        {"active": active},
    )
    db.session.commit()
    return user


def create_token(user: User, name: str, actor: User | None = None) -> str:
    """Issue a token and return its plain value, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "must not be empty"})
    if len(name) > 255:
        raise ValidationError({"name": "must be at most 255 characters"})
    token, plain = ApiToken.issue(user, name)
    db.session.flush()
    record(
        actor, "token.create", "api_token", str(token.id), None, {"name": name, "user": user.email}
    )
    db.session.commit()
    return plain


def revoke_token(token_id: int, actor: User | None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = now()
        record(
            actor,
            "token.revoke",
            "api_token",
            str(token.id),
            {"name": token.name},
            {"revoked_at": token.revoked_at.isoformat()},
        )
        db.session.commit()
    return token


def _failures_since(column: object, value: str, since: datetime) -> list[datetime]:
    return list(
        db.session.scalars(
            select(LoginAttempt.created_at)
            .where(
                column == value, LoginAttempt.created_at > since, LoginAttempt.succeeded.is_(False)
            )
            .order_by(LoginAttempt.created_at)
        )
    )


def throttled_until(email: str, ip: str, at: datetime) -> datetime | None:
    """When this account or address may try again, or None if it may try now."""
    window_start = at - THROTTLE_WINDOW
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    )
    since = max(window_start, last_success) if last_success else window_start
    for failures, limit in (
        (_failures_since(LoginAttempt.email, email, since), MAX_FAILURES_PER_ACCOUNT),
        (_failures_since(LoginAttempt.ip, ip, window_start), MAX_FAILURES_PER_IP),
    ):
        if len(failures) >= limit:
            return failures[-limit] + THROTTLE_WINDOW
    return None


def authenticate(email: str, password: str, ip: str) -> User | None:
    """Check a login and record the attempt; raises ``LoginThrottled`` while locked out.

    Throttled attempts are recorded too, so hammering a locked account keeps it locked.
    """
    at = now()
    email = email.strip().lower()[:255]
    ip = ip[:64]
    retry_at = throttled_until(email, ip, at)
    user = None if retry_at else find_user(email)
    ok = user is not None and user.is_active and user.check_password(password)
    db.session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, created_at=at))
    if ok:
        assert user is not None
        user.last_login_at = at
        record(user, "user.login", "user", str(user.id))
    elif retry_at is None and user is not None:
        record(user, "user.login_failed", "user", str(user.id))
    db.session.commit()
    if retry_at:
        raise LoginThrottled(retry_at)
    return user if ok else None
