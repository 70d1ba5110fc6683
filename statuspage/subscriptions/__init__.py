"""Email and webhook subscriptions: the public subscribe form and API, double opt-in,
per-component choices and unsubscribe links that need no login."""

from __future__ import annotations

from flask import Flask

from statuspage.subscriptions.limits import limiter
from statuspage.subscriptions.routes import bp


def init_app(app: Flask) -> None:
    limiter.init_app(app)
    app.register_blueprint(bp)


__all__ = ["bp", "init_app"]
