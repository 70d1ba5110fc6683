"""Public subscription pages and JSON API, served by the app (the snapshot is static).

Every answer to a subscribe request is the same whether or not the address was known.
Links mailed to subscribers authorise themselves (signed), so confirming, managing and
unsubscribing need no account. The one-click unsubscribe endpoint (RFC 8058) and the
confirm endpoint take POSTs without a form token: mail providers and webhook owners post
there directly, and the signed link is the credential.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from statuspage import i18n
from statuspage.branding import brand
from statuspage.errors import ValidationError
from statuspage.extensions import csrf, db
from statuspage.lib.crypto import LinkError, SecretError
from statuspage.models import Channel, Component, ComponentGroup, Page, Subscriber, SubscriberKind
from statuspage.subscriptions import links, service, sms
from statuspage.subscriptions.forms import (
    EndpointSubscribeForm,
    ManageForm,
    SmsSubscribeForm,
    SubscribeForm,
)
from statuspage.subscriptions.limits import limiter, subscribe_limit

bp = Blueprint("subscriptions", __name__)
bp.before_request(i18n.page_language)

ACCEPTED = _l(
    "If this address can receive mail, a confirmation link is on its way. "
    "Nothing is sent until it is confirmed."
)
SMS_ACCEPTED = _l(
    "If this number can receive texts, one is on its way: reply YES to it to confirm. "
    "Nothing else is sent until you do, and STOP ends it at any time."
)
WEBHOOK_ACCEPTED = _l(
    "A signed subscription.confirm event is on its way to the endpoint; POST to its "
    "confirm_url to start receiving updates."
)
SLACK_ACCEPTED = _l(
    "A message with a confirmation link is on its way to the Slack channel; open it there "
    "to start receiving updates."
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
        return _subscribe_page(422, form, SmsSubscribeForm(formdata=None), chosen, available)
    # Webhooks and Slack channels need nothing configured, so the page always offers them.
    return _subscribe_page(200, form, SmsSubscribeForm(formdata=None), chosen, available)


def _subscribe_page(
    status: int,
    form: SubscribeForm,
    sms_form: SmsSubscribeForm,
    chosen: list[str],
    available: bool,
    endpoint_form: EndpointSubscribeForm | None = None,
) -> ResponseReturnValue:
    return _page(
        "subscribe.html",
        status,
        form=form,
        sms_form=sms_form,
        endpoint_form=endpoint_form or EndpointSubscribeForm(formdata=None),
        groups=_groups(),
        chosen=chosen,
        available=available,
        sms_available=service.sms_available(),
    )


@bp.post("/subscribe/sms")
@limiter.limit(subscribe_limit)
def subscribe_sms() -> ResponseReturnValue:
    form = SmsSubscribeForm()
    chosen = request.form.getlist("components")
    if form.validate_on_submit():
        try:
            service.subscribe(SubscriberKind.SMS, form.phone.data, chosen)
        except ValidationError as exc:
            form.phone.errors = [*form.phone.errors, *exc.errors.values()]
        except service.Unavailable:
            pass
        else:
            return _page("message.html", title=_("Check your phone"), message=SMS_ACCEPTED)
    status = 422 if service.sms_available() else 503
    email_form = SubscribeForm(formdata=None)
    return _subscribe_page(status, email_form, form, chosen, service.email_available())


@bp.post("/subscribe/endpoint")
@limiter.limit(subscribe_limit)
def subscribe_endpoint() -> ResponseReturnValue:
    """A webhook endpoint or a Slack incoming webhook, told apart by ``method``."""
    form = EndpointSubscribeForm()
    chosen = request.form.getlist("components")
    kinds = {"webhook": SubscriberKind.WEBHOOK, "slack": SubscriberKind.SLACK}
    kind = kinds.get(form.method.data or "")
    if kind is None:
        form.url.errors = [_("Choose a webhook or a Slack channel.")]
    elif form.validate_on_submit():
        try:
            service.subscribe(kind, form.url.data, chosen)
        except ValidationError as exc:
            form.url.errors = [*form.url.errors, *exc.errors.values()]
        else:
            if kind == SubscriberKind.SLACK:
                return _page(
                    "message.html", title=_("Check your Slack channel"), message=SLACK_ACCEPTED
                )
            return _page("message.html", title=_("Check your endpoint"), message=WEBHOOK_ACCEPTED)
    return _subscribe_page(
        422,
        SubscribeForm(formdata=None),
        SmsSubscribeForm(formdata=None),
        chosen,
        service.email_available(),
        form,
    )


@bp.post("/subscribe/sms/inbound")
@csrf.exempt
def sms_inbound() -> ResponseReturnValue:
    """Texts phones send to the Twilio number (its "A message comes in" webhook). Only a
    request signed with the account's auth token over our public URL is believed; the
    answer is empty TwiML, since Twilio itself answers STOP, START and HELP."""
    channel = Channel.twilio()
    try:
        token = (channel.secrets if channel is not None else {}).get("auth_token")
    except SecretError:
        token = None
    if not token:
        return _json_error(404, "SMS subscriptions are not available on this page")
    query = request.query_string.decode()
    url = current_app.config["BASE_URL"].rstrip("/") + request.path + (f"?{query}" if query else "")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not RequestValidator(token).validate(url, request.form, signature):
        return _json_error(403, "the request is not signed by the Twilio account")
    sms.reply_received(request.form.get("From", ""), request.form.get("Body", ""))
    return Response(str(MessagingResponse()), mimetype="application/xml")


def _json_error(status: int, message: str, fields: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    response = jsonify({"error": message, "fields": fields or {}})
    response.status_code = status
    return response


@bp.post("/api/subscriptions")
@csrf.exempt
@limiter.limit(subscribe_limit)
def api_subscribe() -> ResponseReturnValue:
    """``{"email": "…"}``, ``{"webhook": "https://…"}``, ``{"slack": "https://…"}`` or
    ``{"phone": "+…"}``, with
    optional ``components``."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _json_error(400, "send a JSON object")
    given = {field: payload.get(field) for field in _API_KINDS if payload.get(field)}
    if len(given) != 1 or not isinstance(next(iter(given.values())), str):
        return _json_error(
            422,
            "give exactly one of email, webhook, slack or phone",
            {"email": "or webhook, slack or phone"},
        )
    field, address = next(iter(given.items()))
    kind = _API_KINDS[field]
    try:
        service.subscribe(kind, address, payload.get("components"))
    except ValidationError as exc:
        return _json_error(422, "invalid subscription", exc.errors)
    except service.Unavailable as exc:
        return _json_error(503, f"{exc} on this page")
    message = {
        SubscriberKind.EMAIL: ACCEPTED,
        SubscriberKind.SMS: SMS_ACCEPTED,
        SubscriberKind.WEBHOOK: WEBHOOK_ACCEPTED,
        SubscriberKind.SLACK: SLACK_ACCEPTED,
    }[kind]
    return jsonify({"status": "pending_confirmation", "message": message}), 202


_API_KINDS = {
    "email": SubscriberKind.EMAIL,
    "webhook": SubscriberKind.WEBHOOK,
    "slack": SubscriberKind.SLACK,
    "phone": SubscriberKind.SMS,
}


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
