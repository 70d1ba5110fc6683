"""Login loading and role checks shared by every admin view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from statuspage.extensions import db, login_manager
from statuspage.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

login_manager.login_view = "admin.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.is_active else None


def require(role: Role) -> Callable[[F], F]:
    """Allow the view only to logged-in users with at least ``role``."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
