"""statuspage: incident status page and outage communication service."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app; ``config`` overrides settings read from the environment."""
    from statuspage import (  # noqa: F401
        admin,
        api,
        integrations,
        metrics,
        models,
        outbox,
        public,
        reports,
        subscriptions,
        unavailable,
    )
    from statuspage.admin import channels, inbox  # noqa: F401  (views on the admin blueprint)
    from statuspage.config import load_config
    from statuspage.extensions import celery_init_app, csrf, db, login_manager, migrate
    from statuspage.i18n import init_app as init_i18n
    from statuspage.lib.links import is_web_url
    from statuspage.lib.markdown import render_markdown
    from statuspage.lib.timefmt import human, machine
    from statuspage.public.site import PublishedSite
    from statuspage.request_limits import limit_requests
    from statuspage.security_headers import add_security_headers

    app = Flask(__name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    app.config.update(load_config())
    if config:
        app.config.update(config)
    Path(app.config["DATA_DIR"]).mkdir(parents=True, exist_ok=True)

    limit_requests(app)
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    celery_init_app(app)
    init_i18n(app)

    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["human"] = human
    app.jinja_env.filters["machine"] = machine
    app.jinja_env.tests["web_url"] = is_web_url
    app.register_blueprint(public.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(api.bp)
    subscriptions.init_app(app)
    app.register_blueprint(reports.bp)
    app.register_blueprint(metrics.bp)
    app.register_blueprint(integrations.bp)
    add_security_headers(app)
    unavailable.init_app(app)
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    # The published snapshot is served before Flask routes anything (see public/site.py).
    app.wsgi_app = PublishedSite(app.wsgi_app, app.config["PUBLISH_DIR"])
    return app
