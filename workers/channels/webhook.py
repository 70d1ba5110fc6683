"""Generic webhooks: a signed JSON document per update, to a configured endpoint or to
each webhook subscriber.

Receivers verify ``X-Statuspage-Signature: t=<unix time>,v1=<hex>``, the HMAC-SHA256 of
``"<t>." + body`` under their secret, and deduplicate on ``X-Statuspage-Delivery``. A
subscriber's endpoint that answers 410 Gone is unsubscribed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from flask import current_app

from statuspage.lib import http
from statuspage.lib.clock import iso
from statuspage.lib.crypto import SIGNATURE_HEADER, SecretError, webhook_signature
from statuspage.messages import (
    MessageFacts,
    admin_incident_url,
    admin_url,
    notice_text,
    render,
    render_file,
)
from statuspage.models import BatchRow, Channel, Delivery, OperatorAlert, Page, Subscriber
from statuspage.subscriptions.links import confirm_url, unsubscribe_url
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    Outcome,
    SendResult,
    SubscriptionGone,
    channel_secrets,
    load_channel,
)

DELIVERY_HEADER = "X-Statuspage-Delivery"
EVENT_HEADER = "X-Statuspage-Event"


def update_document(facts: MessageFacts, delivery_id: str) -> dict[str, Any]:
    """The JSON body of an ``incident.update`` event."""
    return {
        "id": delivery_id,
        "type": "incident.update",
        "created_at": iso(facts.created_at),
        "page": {"name": facts.page_name, "url": current_app.config["BASE_URL"]},
        "incident": {
            "id": facts.incident_id,
            "name": facts.incident_name,
            "status": str(facts.status),
            "impact": str(facts.impact),
            "url": facts.incident_url,
            "next_update_due": iso(facts.next_update_due),
        },
        "update": {
            "id": facts.update_id,
            "status": str(facts.status),
            "body": facts.body,
            "text": render("webhook", facts),
            "created_at": iso(facts.created_at),
            "next_update_due": iso(facts.next_update_due),
            "url": facts.url,
            "first": facts.is_first,
        },
        "component_changes": [
            {
                "id": c.id,
                "name": c.name,
                "old_status": str(c.old_status),
                "new_status": str(c.new_status),
            }
            for c in facts.components
        ],
    }


def signed_request(secret: str, delivery_id: str, event: str, document: dict[str, Any]) -> dict:
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    return {
        "data": body,
        "headers": {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: webhook_signature(secret, int(time.time()), body),
            DELIVERY_HEADER: delivery_id,
            "Idempotency-Key": delivery_id,
            EVENT_HEADER: event,
        },
    }


class Webhook(HttpTransport):
    """Receivers deduplicate on the delivery id, so an unknown outcome is sent again."""

    safe_to_resend = True

    def _channel_target(self, channel: Channel) -> tuple[str, str]:
        secret = channel_secrets(channel).get("signing_secret")
        if not secret:
            raise DeliveryError("the channel has no signing secret", permanent=True)
        return channel.config["url"], secret

    def _post(self, session: http.Session, url: str, request: dict, secret: str) -> None:
        try:
            http.post(session, url, secrets=(secret,), **request).close()
        except http.HttpError as exc:
            if exc.status == 410:
                raise SubscriptionGone(exc.message, permanent=True) from None
            raise DeliveryError.from_http(exc) from None

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        url, secret = self._channel_target(load_channel(delivery.channel_id))
        key = delivery.idempotency_key
        request = signed_request(secret, key, "incident.update", update_document(facts, key))
        with self.session() as session:
            self._post(session, url, request, secret)
        return SendResult()

    def send_batch(self, deliveries: Sequence[BatchRow], facts: MessageFacts) -> Iterator[Outcome]:
        subscribers, left = self.confirmed_subscribers(deliveries)
        yield from left
        document = update_document(facts, "")
        jobs = []
        for delivery in deliveries:
            subscriber = subscribers.get(delivery.target_id)
            if subscriber is None:
                continue
            try:
                secret = subscriber.secret or ""
            except SecretError as exc:
                yield delivery, DeliveryError(str(exc), permanent=True)
                continue
            key = delivery.idempotency_key
            own = {**document, "id": key, "meta": {"unsubscribe": unsubscribe_url(subscriber)}}
            request = signed_request(secret, key, "incident.update", own)
            post = partial(self._post, url=subscriber.address, request=request, secret=secret)
            jobs.append((delivery, post))
        yield from self.post_each(jobs, subscribers)

    def send_alert(
        self, delivery: Delivery, facts: MessageFacts | None, alert: OperatorAlert
    ) -> SendResult:
        url, secret = self._channel_target(load_channel(delivery.channel_id))
        key = delivery.idempotency_key
        document: dict[str, Any] = {
            "id": key,
            "type": "operator.alert",
            "kind": str(alert.kind),
            "text": alert.text,
            "created_at": iso(alert.created_at),
        }
        if facts is None:
            document.update(admin_url=admin_url(alert), summary=notice_text(alert))
        else:
            document["incident"] = {
                "id": facts.incident_id,
                "name": facts.incident_name,
                "status": str(facts.status),
                "next_update_due": iso(facts.next_update_due),
                "admin_url": admin_incident_url(facts.incident_id),
            }
            document["summary"] = render(
                "alert", facts, text=alert.text, admin_url=admin_incident_url(facts.incident_id)
            )
        with self.session() as session:
            self._post(
                session, url, signed_request(secret, key, "operator.alert", document), secret
            )
        return SendResult()

    def send_confirmation(self, subscriber: Subscriber) -> None:
        """The endpoint's owner learns the signing secret from this signed event and
        confirms by POSTing to ``confirm_url``: only who controls the URL can subscribe it."""
        key = str(uuid.uuid4())
        secret = subscriber.secret or ""
        document = {
            "id": key,
            "type": "subscription.confirm",
            "page": {"name": Page.get().name, "url": current_app.config["BASE_URL"]},
            "confirm_url": confirm_url(subscriber),
            "unsubscribe_url": unsubscribe_url(subscriber),
            "secret": secret,
            "components": (subscriber.pending_filter or {}).get("components"),
        }
        request = signed_request(secret, key, "subscription.confirm", document)
        with self.session() as session:
            self._post(session, subscriber.address, request, secret)

    def test(self, channel: Channel, recipient: str) -> str:
        url, secret = self._channel_target(channel)
        key = str(uuid.uuid4())
        text = render_file("messages/test.txt", page_name=Page.get().name).strip()
        document = {"id": key, "type": "test", "text": text}
        with self.session() as session:
            self._post(session, url, signed_request(secret, key, "test", document), secret)
        return "Signed test event delivered."
