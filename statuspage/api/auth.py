"""Token authentication: ``Authorization: OAuth <token>`` (Statuspage's scheme) or
``Bearer <token>``. The token acts with its owner's role; a revoked token, or one whose
owner was deactivated, is refused like an unknown one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from statuspage.api.errors import ApiError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import ApiToken, Page, Role, User

F = TypeVar("F", bound=Callable[..., Any])
SCHEMES = ("oauth", "bearer")
CHALLENGE = {"WWW-Authenticate": 'OAuth realm="statuspage", Bearer realm="statuspage"'}
# Writing last_used_at on every request would make reads cost a write; a minute is precise
# enough to tell an operator whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)


def _token_from_header() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() not in SCHEMES or not value.strip():
        return None
    return value.strip()


def _authenticate() -> User:
    plain = _token_from_header()
    token = ApiToken.find_active(plain) if plain else None
    if token is None:
        raise ApiError(
            401, "unauthorized", "missing, unknown or revoked API token", headers=CHALLENGE
        )
    at = now()
    if token.last_used_at is None or at - token.last_used_at > LAST_USED_PRECISION:
        token.last_used_at = at
        db.session.commit()
    return token.user


def api_user() -> User:
    return g.api_user


def require(role: Role) -> Callable[[F], F]:
    """Authenticate the token, check its role, then check the page id in the path (the
    list of pages has none)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, page_id: str | None = None, **kwargs: Any) -> Any:
            user = _authenticate()
            if not user.can(role):
                raise ApiError(
                    403, "forbidden", f"this needs the {role} role; the token has {user.role}"
                )
            page = Page.get()
            db.session.commit()
            if page_id is not None and page_id.removesuffix(".json") != page.id:
                raise ApiError(404, "not_found", f"no page {page_id}")
            g.api_user = user
            g.page = page
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
