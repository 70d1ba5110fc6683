"""Operators and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from statuspage import passwords
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models.types import UTCDateTime

TOKEN_PREFIX = "sp_"


class Role(StrEnum):
    ADMIN = "admin"
    RESPONDER = "responder"
    VIEWER = "viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.ADMIN: 2}


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(String(16), default=Role.VIEWER)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for a password someone else chose (the first admin, users added in the admin):
    # the next sign-in leads to changing it before anything else.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    # The admin shows and takes times in this IANA zone; None: the page's time zone.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # TOTP: the secret is sealed like channel credentials; enrolment is complete once a
    # code was confirmed. The last accepted time step makes each code usable once.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column()

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None

    def set_password(self, password: str) -> None:
        self.password_hash = passwords.hash_password(password)

    def check_password(self, password: str) -> bool:
        if not passwords.verify(self.password_hash, password):
            return False
        if passwords.hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True

    def can(self, role: Role) -> bool:
        """True when this user's role is at least ``role``."""
        return ROLE_RANK[Role(self.role)] >= ROLE_RANK[role]


def hash_token(token: str) -> str:
    """Tokens are 256-bit random, so a fast hash is as safe as a slow one and keeps auth cheap."""
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token; the plain value is returned once and never stored."""
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls(user=user, name=name, token_hash=hash_token(plain), prefix=plain[:10])
        db.session.add(token)
        return token, plain

    @classmethod
    def find_active(cls, plain: str) -> ApiToken | None:
        token = db.session.scalars(
            db.select(cls).where(cls.token_hash == hash_token(plain), cls.revoked_at.is_(None))
        ).first()
        return token if token is not None and token.user.is_active else None


class UserSession(db.Model):
    """One signed-in browser; the cookie holds the token whose hash is stored here."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """A one-time code that stands in for the TOTP code; stored as a hash, shown once."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginAttempt(db.Model):
    """Every sign-in try, kept in the database so throttling holds across web processes.

    ``factor`` is ``password`` (or an identity provider's answer) or ``code`` (the second
    factor), which is throttled separately.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_email_at", "email", "created_at"),
        Index("ix_login_attempt_ip_at", "ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255))
    ip: Mapped[str] = mapped_column(String(64))
    factor: Mapped[str] = mapped_column(String(16), default="password")
    succeeded: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
