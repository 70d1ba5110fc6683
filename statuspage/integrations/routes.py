"""The intake endpoint senders post alerts to: ``POST /integrations/<secret>``, or
``POST /integrations`` with ``Authorization: Bearer <secret>``.

No session and no CSRF (a secret authenticates the sender); the body is capped before it
is read (``STATUSPAGE_INTEGRATION_MAX_BYTES``, see ``request_limits``) and each
integration is rate limited. Every answer is JSON; a refused payload is
answered 4xx with the reason and kept in the integration's log in the admin.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from statuspage.extensions import csrf
from statuspage.integrations import intake, payloads
from statuspage.models import Integration, IntegrationKind
from statuspage.models.accounts import hash_token
from statuspage.subscriptions.limits import limiter

bp = Blueprint("integrations", __name__)
csrf.exempt(bp)


def _error(status: int, message: str, **headers: str) -> Response:
    response = jsonify({"error": message, "status": status})
    response.status_code = status
    response.headers.update(headers)
    return response


def _secret() -> str | None:
    from_path = (request.view_args or {}).get("secret")
    if from_path:
        return from_path
    scheme, _, value = request.headers.get("Authorization", "").strip().partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _limit_key() -> str:
    """Counted per integration; a request with no known secret counts against its address,
    so guessing secrets is limited like any other refused request."""
    secret = _secret()
    known = secret is not None and Integration.by_secret(secret) is not None
    who = hash_token(secret)[:16] if known and secret else (request.remote_addr or "unknown")
    return f"{current_app.config['CELERY_QUEUE']}:intake:{who}"


def _limit() -> str:
    return current_app.config["INTEGRATION_RATE_LIMIT"]


@bp.after_request
def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/integrations/<secret>")
@bp.post("/integrations")
@limiter.limit(_limit, key_func=_limit_key)
def receive(secret: str | None = None) -> Response:
    plain = _secret()
    integration = Integration.by_secret(plain) if plain else None
    if integration is None:
        return _error(
            401,
            "unknown or missing integration secret",
            **{"WWW-Authenticate": 'Bearer realm="integrations"'},
        )
    integration_id, kind = integration.id, IntegrationKind(integration.kind)
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _too_large(integration)
    try:
        alerts = payloads.parse(kind, body)
    except payloads.PayloadError as exc:
        status = 400 if str(exc).startswith("the body is not JSON") else 422
        intake.refuse(integration_id, status, str(exc), body)
        return _error(status, str(exc))
    result = intake.receive(integration_id, alerts)
    response = jsonify(result.as_json())
    response.status_code = 202
    return response


def _too_large(integration: Integration | None) -> Response:
    limit = current_app.config["INTEGRATION_MAX_BYTES"]
    reason = f"the body is larger than {limit} bytes; lower max_alerts or split the group"
    if integration is not None:
        intake.refuse(integration.id, 413, reason, b"")
    return _error(413, reason)


@bp.errorhandler(RequestEntityTooLarge)
def _refused_unread(_exc: RequestEntityTooLarge) -> Response:
    """A declared length over the limit is refused before the view runs (the app's body
    limits give these routes ``STATUSPAGE_INTEGRATION_MAX_BYTES``)."""
    plain = _secret()
    return _too_large(Integration.by_secret(plain) if plain else None)


@bp.errorhandler(429)
def _too_many(_exc: Exception) -> Response:
    return _error(429, "too many requests for this integration; slow down", **{"Retry-After": "60"})


@bp.errorhandler(405)
def _method(_exc: Exception) -> Response:
    return _error(405, "alerts are sent with POST", Allow="POST")
