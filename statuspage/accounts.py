"""Account administration shared by the CLI and the admin."""

from __future__ import annotations

import re

from sqlalchemy import func

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.models import ApiToken, Role, User
from statuspage.models.audit import record

MIN_PASSWORD = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def find_user(email: str) -> User | None:
    return db.session.scalars(
        db.select(User).where(func.lower(User.email) == email.strip().lower())
    ).first()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationError({"password": f"must be at least {MIN_PASSWORD} characters"})


def create_user(email: str, password: str, role: str, actor: User | None = None) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationError({"email": "is not an email address"})
    if role not in tuple(Role):
        raise ValidationError({"role": f"must be one of {', '.join(Role)}"})
    if find_user(email) is not None:
        raise ValidationError({"email": "a user with this email already exists"})
    check_password_strength(password)
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


def create_token(user: User, name: str, actor: User | None = None) -> str:
    """Issue a token and return its plain value, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "must not be empty"})
    token, plain = ApiToken.issue(user, name)
    db.session.flush()
    record(
        actor, "token.create", "api_token", str(token.id), None, {"name": name, "user": user.email}
    )
    db.session.commit()
    return plain
