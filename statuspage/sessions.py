"""Admin sign-in sessions, kept server-side so that they can be ended.

The session cookie carries only a random session token; its hash names a ``UserSession``
row. A request is signed in while that row is open, belongs to an active user, was used
within the idle timeout and started within the absolute lifetime. Logging out ends the
row, so a copied cookie stops working; changing a password, a role or deactivating a user
ends all of that user's rows.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from sqlalchemy import or_, update

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import User, UserSession
from statuspage.models.accounts import hash_token

SESSION_KEY = "sid"
# A session's last use is written at most this often: enough for an idle timeout counted
# in minutes, without a database write on every admin request.
TOUCH_EVERY = timedelta(seconds=60)


def idle_timeout() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def max_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh cookie: whatever the browser carried before (including
    the CSRF secret) is dropped, so nothing chosen by someone else survives sign-in."""
    from flask_login import login_user

    token = secrets.token_urlsafe(32)
    at = now()
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=hash_token(token),
            created_at=at,
            last_seen_at=at,
            ip=(request.remote_addr or "")[:64],
            user_agent=(request.user_agent.string or "")[:255],
        )
    )
    _prune(user.id, at)
    db.session.commit()
    fresh_cookie()
    session.permanent = True
    session[SESSION_KEY] = token
    login_user(user)


def resume(user_id: int) -> User | None:
    """The user whose open, unexpired session the cookie names, or None."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    row = db.session.scalars(
        db.select(UserSession).where(
            UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None)
        )
    ).first()
    at = now()
    if row is None or row.user_id != user_id or not row.user.is_active:
        return None
    if at - row.last_seen_at > idle_timeout() or at - row.created_at > max_lifetime():
        row.ended_at = at
        db.session.commit()
        return None
    if at - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = at
        db.session.commit()
    return row.user


def current_token_hash() -> str | None:
    token = session.get(SESSION_KEY)
    return hash_token(token) if isinstance(token, str) else None


def end_session() -> None:
    """End the session this request carries and forget the cookie's contents."""
    from flask_login import logout_user

    token_hash = current_token_hash()
    if token_hash is not None:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == token_hash, UserSession.ended_at.is_(None))
            .values(ended_at=now())
        )
        db.session.commit()
    logout_user()
    fresh_cookie()


def fresh_cookie() -> None:
    """Drop everything the cookie carried, the CSRF secret included."""
    session.clear()
    # Flask-WTF caches this request's token in g; drop it with the old secret.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)


def end_all_sessions(user: User, *, keep: str | None = None) -> int:
    """End every open session of ``user`` except the one whose token hash is ``keep``;
    the caller commits. Returns how many were ended."""
    query = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)
    )
    if keep is not None:
        query = query.where(UserSession.token_hash != keep)
    return db.session.execute(query.values(ended_at=now())).rowcount or 0


def open_sessions(user: User) -> list[UserSession]:
    at = now()
    return list(
        db.session.scalars(
            db.select(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.ended_at.is_(None),
                UserSession.last_seen_at > at - idle_timeout(),
                UserSession.created_at > at - max_lifetime(),
            )
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def _prune(user_id: int, at: datetime) -> None:
    """Forget this user's sessions that ended or expired more than a day ago."""
    old = at - timedelta(days=1)
    db.session.execute(
        db.delete(UserSession).where(
            UserSession.user_id == user_id,
            or_(
                UserSession.ended_at < old,
                UserSession.last_seen_at < old - idle_timeout(),
                UserSession.created_at < old - max_lifetime(),
            ),
        )
    )
