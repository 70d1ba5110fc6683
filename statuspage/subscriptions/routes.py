"""Public subscription pages and JSON API, served by the app (the snapshot is static).

Every answer to a subscribe request is the same whether or not the address was known.
Links mailed to subscribers authorise themselves (signed), so confirming, managing and
unsubscribing need no account. The one-click unsubscribe endpoint (RFC 8058) and the
confirm endpoint take POSTs without a form token: mail providers and webhook owners post
there directly, and the signed link is the credential.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from statuspage import i18n
from statuspage.branding import brand
from statuspage.errors import ValidationError
from statuspage.extensions import csrf, db
from statuspage.lib.crypto import LinkError
from statuspage.models import Component, ComponentGroup, Page, Subscriber, SubscriberKind
from statuspage.subscriptions import links, service
from statuspage.subscriptions.forms import ManageForm, SubscribeForm
from statuspage.subscriptions.limits import limiter, subscribe_limit

bp = Blueprint("subscriptions", __name__)
bp.before_request(i18n.page_language)

ACCEPTED = _l(
    "If this address can receive mail, a confirmation link is on its way. "
    "Nothing is sent until it is confirmed."
)
WEBHOOK_ACCEPTED = (
    "A signed subscription.confirm event is on its way to the endpoint; POST to its "
    "confirm_url to start receiving updates."
)


def _groups() -> list[tuple[ComponentGroup | None, list[Component]]]:
    components = db.session.scalars(
        db.select(Component).order_by(Component.position, Component.name)
    ).all()
    groups = db.session.scalars(db.select(ComponentGroup).order_by(ComponentGroup.position)).all()
    listing: list[tuple[ComponentGroup | None, list[Component]]] = [
        (g, [c for c in components if c.group_id == g.id]) for g in groups
    ]
    listing.append((None, [c for c in components if c.group_id is None]))
    return [(g, cs) for g, cs in listing if cs]


def _page(template: str, status: int = 200, **values: Any) -> ResponseReturnValue:
    page = Page.get()
    return render_template(
        f"subscriptions/{template}", page=page, brand=brand(page), **values
    ), status


def _unsubscribe_path(subscriber: Subscriber) -> str:
    return url_for("subscriptions.unsubscribe", token=links.token(subscriber, links.MANAGE))


def _invalid_link(exc: LinkError) -> ResponseReturnValue:
    return _page(
        "message.html", 404, title=_("Link not valid"), message=_("Sorry, %(reason)s.", reason=exc)
    )


@bp.after_request
def _private(response: Response) -> Response:
    """Links here carry tokens: keep them out of Referer headers and shared caches."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'",
    )
    return response


@bp.route("/subscribe", methods=["GET", "POST"])
@limiter.limit(subscribe_limit, methods=["POST"])
def subscribe() -> ResponseReturnValue:
    form = SubscribeForm()
    chosen = request.form.getlist("components")
    available = service.email_available()
    if request.method == "POST" and available:
        if form.validate_on_submit():
            try:
                service.subscribe(SubscriberKind.EMAIL, form.email.data, chosen)
            except ValidationError as exc:
                form.email.errors = [*form.email.errors, *exc.errors.values()]
            except service.Unavailable:
                available = False
            else:
                return _page("message.html", title=_("Check your inbox"), message=ACCEPTED)
        return _page(
            "subscribe.html", 422, form=form, groups=_groups(), chosen=chosen, available=available
        )
    status = 200 if available else 503
    return _page(
        "subscribe.html", status, form=form, groups=_groups(), chosen=chosen, available=available
    )


def _json_error(status: int, message: str, fields: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    response = jsonify({"error": message, "fields": fields or {}})
    response.status_code = status
    return response


@bp.post("/api/subscriptions")
@csrf.exempt
@limiter.limit(subscribe_limit)
def api_subscribe() -> ResponseReturnValue:
    """``{"email": "…"}`` or ``{"webhook": "https://…"}``, with optional ``components``."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _json_error(400, "send a JSON object")
    email, webhook = payload.get("email"), payload.get("webhook")
    if bool(email) == bool(webhook) or not isinstance(email or webhook, str):
        return _json_error(422, "give exactly one of email or webhook", {"email": "or webhook"})
    kind = SubscriberKind.EMAIL if email else SubscriberKind.WEBHOOK
    try:
        service.subscribe(kind, email or webhook, payload.get("components"))
    except ValidationError as exc:
        return _json_error(422, "invalid subscription", exc.errors)
    except service.Unavailable:
        return _json_error(503, "email subscriptions are not available on this page")
    message = ACCEPTED if kind == SubscriberKind.EMAIL else WEBHOOK_ACCEPTED
    return jsonify({"status": "pending_confirmation", "message": message}), 202


@bp.errorhandler(429)
def too_many(error: Any) -> ResponseReturnValue:
    if request.path.startswith("/api/"):
        return _json_error(429, "too many requests; try again later")
    return _page(
        "message.html",
        429,
        title=_("Too many requests"),
        message=_("Please try again in a minute."),
    )


@bp.route("/subscribe/confirm/<token>", methods=["GET", "POST"])
@csrf.exempt
def confirm(token: str) -> ResponseReturnValue:
    try:
        subscriber = links.subscriber_for(token, links.CONFIRM)
    except LinkError as exc:
        return _invalid_link(exc)
    if request.method == "GET":  # a link scanner's GET must not subscribe anyone
        return _page("confirm.html", subscriber=subscriber)
    service.confirm(subscriber)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"status": "confirmed"})
    return _page(
        "message.html",
        title=_("Subscription confirmed"),
        message=_("You will hear about incidents as they are posted."),
        manage_url=url_for("subscriptions.manage", token=links.token(subscriber, links.MANAGE)),
    )


@bp.route("/subscribe/manage/<token>", methods=["GET", "POST"])
def manage(token: str) -> ResponseReturnValue:
    try:
        subscriber = links.subscriber_for(token, links.MANAGE)
    except LinkError as exc:
        return _invalid_link(exc)
    form = ManageForm()
    chosen = [c.id for c in subscriber.components]
    if request.method == "POST":
        chosen = request.form.getlist("components")
        if form.validate_on_submit():
            try:
                service.change_components(subscriber, chosen)
            except ValidationError as exc:
                form.form_errors.extend(exc.errors.values())
            else:
                return _page(
                    "manage.html",
                    form=form,
                    subscriber=subscriber,
                    groups=_groups(),
                    chosen=chosen,
                    saved=True,
                    unsubscribe_url=_unsubscribe_path(subscriber),
                )
        return _page(
            "manage.html",
            422,
            form=form,
            subscriber=subscriber,
            groups=_groups(),
            chosen=chosen,
            unsubscribe_url=_unsubscribe_path(subscriber),
        )
    return _page(
        "manage.html",
        form=form,
        subscriber=subscriber,
        groups=_groups(),
        chosen=chosen,
        unsubscribe_url=_unsubscribe_path(subscriber),
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    try:
        subscriber = links.subscriber_for(token, links.MANAGE)
    except LinkError as exc:
        return _invalid_link(exc)
    if request.method == "GET":
        return _page("unsubscribe.html", subscriber=subscriber)
    service.unsubscribe(subscriber)
    return _page(
        "message.html",
        title=_("Unsubscribed"),
        message=_("You will not receive further updates. Nothing about you is kept."),
    )
