"""Email, webhook and SMS subscriptions: the public subscribe form and API, double opt-in,
per-component choices and unsubscribe links that need no login.

The routes are imported when the app is built, not with the package: the outbox imports
``sms_rules`` from here, and the routes reach the outbox through operator alerts.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from statuspage.subscriptions.limits import limiter
    from statuspage.subscriptions.routes import bp

    limiter.init_app(app)
    app.register_blueprint(bp)
