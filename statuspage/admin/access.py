"""Login loading and role checks shared by every admin view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user, login_required

from statuspage import sessions
from statuspage.extensions import login_manager
from statuspage.models import Role, User

F = TypeVar("F", bound=Callable[..., Any])

login_manager.login_view = "admin.login"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    """Signed in only while the session the cookie names is open (see sessions.py)."""
    return sessions.resume(int(user_id))


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
