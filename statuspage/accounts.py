"""Account administration shared by the CLI and the admin, and sign-in throttling."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from statuspage import passwords, sessions
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import ApiToken, LoginAttempt, Role, User
from statuspage.models.audit import record

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Throttling lives in the database, so every web process and the embedded mode agree.
# Failures of one address on one account make that pair wait, longer after each failure
# (2 s after the third, doubling to 15 min); another address is not slowed, so nobody can
# keep an operator out by failing on purpose. One address failing on many accounts is
# stopped after 20 failures in 15 minutes. Second-factor codes are limited per account:
# whoever is guessing them already has the password.
PAIR_WINDOW = timedelta(days=1)
FREE_FAILURES = 2
MAX_DELAY = timedelta(minutes=15)
IP_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_IP = 20
CODE_WINDOW = timedelta(minutes=15)
MAX_CODE_FAILURES = 5
PASSWORD, CODE = "password", "code"


class LoginThrottled(Exception):
    """Too many recent failures; ``retry_at`` is when the next try is accepted."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"too many failed sign-ins; try again after {retry_at:%H:%M:%S} UTC")
        self.retry_at = retry_at


def find_user(email: str) -> User | None:
    return db.session.scalars(
        db.select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()


def create_user(
    email: str,
    password: str,
    role: str,
    actor: User | None = None,
    *,
    must_change_password: bool = False,
) -> User:
    email = email.strip().lower()
    errors: dict[str, str] = {}
    if not _EMAIL.match(email) or len(email) > 255:
        errors["email"] = "is not an email address"
    elif find_user(email) is not None:
        errors["email"] = "a user with this email already exists"
    if role not in tuple(Role):
        errors["role"] = f"must be one of {', '.join(Role)}"
    try:
        passwords.check_strength(password, hints=(email,))
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    user = User(email=email, role=Role(role), must_change_password=must_change_password)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    record(actor, "user.create", "user", str(user.id), None, {"email": email, "role": role})
    db.session.commit()
    return user


def set_password(user: User, password: str, actor: User | None = None) -> None:
    """Reset a password (CLI or admin): every session of the user ends."""
    passwords.check_strength(password, hints=(user.email,))
    user.set_password(password)
    user.must_change_password = False
    sessions.end_all_sessions(user)
    record(actor, "user.password_reset", "user", str(user.id))
    db.session.commit()


def change_password(user: User, current: str, new: str, *, keep: str | None) -> None:
    """A user changes their own password: the current one is required, and every other
    session (all but the one whose token hash is ``keep``) ends."""
    if not user.check_password(current):
        raise ValidationError({"current_password": "is not your current password"})
    if new == current:
        raise ValidationError({"password": "must differ from the current password"})
    passwords.check_strength(new, hints=(user.email,))
    user.set_password(new)
    user.must_change_password = False
    sessions.end_all_sessions(user, keep=keep)
    record(user, "user.password_change", "user", str(user.id))
    db.session.commit()


def set_time_zone(user: User, zone: str) -> None:
    """The zone the admin shows and takes times in for ``user``; empty: the page's."""
    from statuspage.page_settings import is_time_zone  # it imports the incident service

    zone = (zone or "").strip()
    if zone and not is_time_zone(zone):
        raise ValidationError(
            {"time_zone": "is not a known time zone (IANA name, e.g. Europe/Paris)"}
        )
    record(
        user,
        "user.time_zone",
        "user",
        str(user.id),
        {"time_zone": user.time_zone},
        {"time_zone": zone or None},
    )
    user.time_zone = zone or None
    db.session.commit()


def sign_out_everywhere(user: User) -> int:
    """End every session of ``user``, this one included; returns how many ended."""
    ended = sessions.end_all_sessions(user)
    record(user, "user.sign_out_everywhere", "user", str(user.id), None, {"sessions": ended})
    db.session.commit()
    return ended


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
    sessions.end_all_sessions(user)
    record(actor, "user.role", "user", str(user.id), before, {"role": role})
    db.session.commit()
    return user


def set_active(user_id: int, active: bool, actor: User | None) -> User:
    """Deactivating ends the user's sessions at once and refuses their tokens."""
    user = _get_user(user_id)
    if not active and user.role == Role.ADMIN and user.active and _active_admins() == 1:
        raise ValidationError({"active": "the last active admin cannot be deactivated"})
    if user.active == active:
        return user
    before = {"active": user.active}
    user.active = active
    sessions.end_all_sessions(user)
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


def _failures(since: datetime, *conditions: object) -> list[datetime]:
    return list(
        db.session.scalars(
            select(LoginAttempt.created_at)
            .where(*conditions, LoginAttempt.created_at > since, LoginAttempt.succeeded.is_(False))
            .order_by(LoginAttempt.created_at)
        )
    )


def pair_delay(failures: int) -> timedelta:
    """How long an (address, account) pair waits after its ``failures``-th failure."""
    if failures <= FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


def throttled_until(email: str, ip: str, at: datetime) -> datetime | None:
    """When this address may next try a password on this account, or None for now."""
    pair = (LoginAttempt.email == email, LoginAttempt.ip == ip, LoginAttempt.factor == PASSWORD)
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.created_at)).where(*pair, LoginAttempt.succeeded.is_(True))
    )
    since = max(at - PAIR_WINDOW, last_success) if last_success else at - PAIR_WINDOW
    failures = _failures(since, *pair)
    if failures and failures[-1] + pair_delay(len(failures)) > at:
        return failures[-1] + pair_delay(len(failures))
    from_ip = _failures(at - IP_WINDOW, LoginAttempt.ip == ip)
    if len(from_ip) >= MAX_FAILURES_PER_IP:
        return from_ip[-MAX_FAILURES_PER_IP] + IP_WINDOW
    return None


def authenticate(email: str, password: str, ip: str) -> User | None:
    """Check a password and record the attempt; raises ``LoginThrottled`` while the
    address must wait. An unknown or deactivated address costs the same argon2
    verification as a known one. A user with a second factor is returned without the
    attempt counting as a success: only the code completes the sign-in.
    """
    at = now()
    email = email.strip().lower()[:255]
    ip = ip[:64]
    retry_at = throttled_until(email, ip, at)
    if retry_at is not None:
        db.session.add(LoginAttempt(email=email, ip=ip, succeeded=False, created_at=at))
        db.session.commit()
        raise LoginThrottled(retry_at)
    user = find_user(email)
    if user is not None and user.is_active:
        ok = user.check_password(password)
    else:
        ok = passwords.verify(None, password)  # always False, at the same cost
    complete = ok and user is not None and not user.has_second_factor
    if not ok or complete:
        db.session.add(LoginAttempt(email=email, ip=ip, succeeded=ok, created_at=at))
    if complete:
        assert user is not None
        user.last_login_at = at
        record(user, "user.login", "user", str(user.id))
    elif not ok and user is not None:
        record(user, "user.login_failed", "user", str(user.id))
    db.session.commit()
    return user if ok else None


def code_throttled_until(user: User, at: datetime) -> datetime | None:
    failures = _failures(
        at - CODE_WINDOW, LoginAttempt.email == user.email, LoginAttempt.factor == CODE
    )
    if len(failures) >= MAX_CODE_FAILURES:
        return failures[-MAX_CODE_FAILURES] + CODE_WINDOW
    return None


def record_code_attempt(user: User, ip: str, ok: bool) -> None:
    """Record a second-factor attempt; a good one completes the sign-in."""
    at = now()
    db.session.add(
        LoginAttempt(email=user.email, ip=ip[:64], factor=CODE, succeeded=ok, created_at=at)
    )
    if ok:
        user.last_login_at = at
        record(user, "user.login", "user", str(user.id))
        # The password step of this pair counts as good now too.
        db.session.add(LoginAttempt(email=user.email, ip=ip[:64], succeeded=True, created_at=at))
    else:
        record(user, "user.login_failed", "user", str(user.id), None, {"factor": CODE})
    db.session.commit()
