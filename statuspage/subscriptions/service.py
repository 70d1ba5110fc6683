"""Subscribing, confirming, changing and ending subscriptions.

A request never tells the requester whether the address was already known: it always
answers the same way and the address's owner is the only one who hears more (by mail, or
at the endpoint). Confirmation messages are queued through the table like deliveries: the
request only stamps ``confirm_requested_at``, a worker sends, and the sweep catches any
doorbell that was lost.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib import http
from statuspage.lib.clock import now
from statuspage.lib.crypto import new_secret
from statuspage.models import Channel, Component, Subscriber, SubscriberKind
from statuspage.models.subscribers import new_nonce
from statuspage.subscriptions.sms_rules import normalise_phone
from statuspage.text_rules import check_line, storable

log = logging.getLogger(__name__)

CONFIRM_TASK = "workers.tasks.send_confirmation"
# One confirmation per address per cooldown: the form cannot be used to flood a mailbox.
CONFIRM_COOLDOWN = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=30)  # the sweep re-sends a confirmation not sent by then
MAX_ADDRESS = 254
MAX_URL = 1024
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


class Unavailable(Exception):
    """Email subscriptions need an enabled SMTP channel, SMS ones a Twilio channel; without
    one, none are taken."""


def email_available() -> bool:
    return Channel.smtp() is not None


def sms_available() -> bool:
    return Channel.twilio() is not None


def normalise_email(raw: str) -> str:
    address = (raw or "").strip()
    if not address or len(address) > MAX_ADDRESS or not _EMAIL.match(address):
        raise ValidationError({"email": "enter a valid email address"})
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def normalise_webhook(raw: str, field: str = "webhook") -> str:
    """A webhook endpoint, or a Slack incoming-webhook URL (``field`` "slack")."""
    url = check_line(field, raw, MAX_URL, required=False)
    if not url:
        raise ValidationError({field: f"enter an https URL of at most {MAX_URL} characters"})
    reason = http.check_url(url, allow_private=current_app.config["ALLOW_PRIVATE_WEBHOOKS"])
    if reason is not None:
        raise ValidationError({field: f"this URL {reason}"})
    return url


def normalise(kind: SubscriberKind, raw: str) -> str:
    """The stored form of an address of ``kind``; ValidationError names what is wrong."""
    if kind == SubscriberKind.EMAIL:
        return normalise_email(raw)
    if kind == SubscriberKind.SMS:
        return normalise_phone(raw)
    return normalise_webhook(raw, field=str(kind))


def check_components(component_ids: Sequence[str] | None) -> list[str] | None:
    """None or empty means every component; unknown ids are refused, not dropped."""
    if not component_ids:
        return None
    if not isinstance(component_ids, list | tuple) or not all(
        isinstance(c, str) for c in component_ids
    ):
        raise ValidationError({"components": "must be a list of component ids"})
    wanted = sorted(set(component_ids))
    storable_ids = [c for c in wanted if storable(c)]
    known = set(db.session.scalars(select(Component.id).where(Component.id.in_(storable_ids))))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ValidationError({"components": f"unknown component: {', '.join(unknown[:5])}"})
    return wanted


def subscribe(kind: SubscriberKind, raw_address: str, component_ids: Sequence[str] | None) -> None:
    """Record a subscribe request and queue a confirmation to the address. Raises
    ValidationError for bad input and Unavailable when email cannot be sent at all."""
    address = normalise(kind, raw_address)
    if kind == SubscriberKind.EMAIL and not email_available():
        raise Unavailable("email subscriptions are not available")
    if kind == SubscriberKind.SMS and not sms_available():
        raise Unavailable("SMS subscriptions are not available")
    components = check_components(component_ids)
    for _attempt in range(2):  # a concurrent first request may create the row first
        try:
            subscriber_id = _request_confirmation(kind, address, components)
        except IntegrityError:
            db.session.rollback()
            continue
        if subscriber_id is not None:
            ring([subscriber_id])
        return


def _request_confirmation(
    kind: SubscriberKind, address: str, components: list[str] | None
) -> int | None:
    at = now()
    subscriber = db.session.scalars(
        select(Subscriber)
        .where(Subscriber.kind == kind, Subscriber.address == address)
        .with_for_update()
    ).first()
    if subscriber is None:
        subscriber = Subscriber(kind=kind, address=address, link_nonce=new_nonce(), created_at=at)
        if kind == SubscriberKind.WEBHOOK:
            subscriber.secret = new_secret()
        db.session.add(subscriber)
    subscriber.pending_filter = {"components": components}
    recent = subscriber.confirm_requested_at
    if recent is not None and at - recent < CONFIRM_COOLDOWN:
        db.session.commit()  # the newest choice of components wins; no second message
        return None
    subscriber.confirm_requested_at = at
    subscriber.confirm_sent_at = None
    db.session.commit()
    return subscriber.id


def ring(subscriber_ids: Sequence[int]) -> None:
    celery = current_app.extensions["celery"]
    for subscriber_id in subscriber_ids:
        try:
            celery.send_task(CONFIRM_TASK, args=[subscriber_id])
        except Exception as exc:  # the sweep sends it later
            log.warning("confirmation for subscriber %s not queued (%s)", subscriber_id, exc)


def confirm(subscriber: Subscriber) -> None:
    """Apply the confirmed request: from now on the subscriber hears about updates."""
    pending = subscriber.pending_filter
    if pending is not None:
        _set_components(subscriber, pending.get("components"))
    subscriber.pending_filter = None
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = now()
    db.session.commit()


def change_components(subscriber: Subscriber, component_ids: Sequence[str] | None) -> None:
    _set_components(subscriber, check_components(component_ids))
    db.session.commit()


def _set_components(subscriber: Subscriber, component_ids: Sequence[str] | None) -> None:
    if not component_ids:
        subscriber.components = []
        return
    subscriber.components = list(
        db.session.scalars(select(Component).where(Component.id.in_(list(component_ids))))
    )


def unsubscribe(subscriber: Subscriber) -> None:
    """Forget the address entirely; rows still queued for it end as undeliverable."""
    db.session.delete(subscriber)
    db.session.commit()


def claim_confirmation(subscriber_id: int) -> Subscriber | None:
    """Exactly one worker sends a requested confirmation."""
    result = db.session.execute(
        update(Subscriber)
        .where(
            Subscriber.id == subscriber_id,
            Subscriber.confirm_requested_at.is_not(None),
            Subscriber.confirm_sent_at.is_(None),
        )
        .values(confirm_sent_at=now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(Subscriber, subscriber_id, populate_existing=True)


def confirmation_failed(subscriber_id: int) -> None:
    """Let the sweep try again later."""
    db.session.execute(
        update(Subscriber)
        .where(Subscriber.id == subscriber_id)
        .values(confirm_sent_at=None, confirm_requested_at=now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def due_confirmations(limit: int = 200) -> list[int]:
    ids = list(
        db.session.scalars(
            select(Subscriber.id)
            .where(
                Subscriber.confirm_requested_at.is_not(None),
                Subscriber.confirm_requested_at < now() - RESEND_AFTER,
                Subscriber.confirm_sent_at.is_(None),
            )
            .limit(limit)
        )
    )
    db.session.commit()
    return ids
