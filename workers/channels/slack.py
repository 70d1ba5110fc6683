"""Slack incoming webhooks, as Block Kit messages: a configured channel, or each Slack
subscriber (a reader's own incoming webhook, confirmed through a link posted to it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

from statuspage.channel_messages import SLACK_SECTION_LIMIT, clip, slack_escape, slack_payload
from statuspage.lib import http
from statuspage.messages import (
    MessageFacts,
    admin_incident_url,
    admin_url,
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
    load_channel,
)

# Slack answers these when an incoming webhook is revoked or its channel archived:
# https://api.slack.com/messaging/webhooks#handling_errors
GONE = (404, 410)


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [_mrkdwn(text)]}


class Slack(HttpTransport):
    """An incoming webhook has no idempotency key; a resend after an unknown outcome may
    show a message twice in a team channel, which we prefer to a missing update."""

    safe_to_resend = True

    def payload(self, facts: MessageFacts) -> dict[str, Any]:
        """The Block Kit message of an update (built where the console previews it)."""
        return slack_payload(facts)

    def _post_to(self, session: http.Session, url: str, payload: dict[str, Any]) -> None:
        try:
            http.post(session, url, json=payload, secrets=(url,)).close()
        except http.HttpError as exc:
            if exc.status in GONE:
                raise SubscriptionGone(exc.message, permanent=True) from None
            raise DeliveryError.from_http(exc) from None

    def send_batch(self, deliveries: Sequence[BatchRow], facts: MessageFacts) -> Iterator[Outcome]:
        """Each subscriber's message ends with its own unsubscribe link."""
        subscribers, left = self.confirmed_subscribers(deliveries)
        yield from left
        payload = self.payload(facts)
        jobs = []
        for delivery in deliveries:
            subscriber = subscribers.get(delivery.target_id)
            if subscriber is not None:
                footer = f"<{unsubscribe_url(subscriber)}|Unsubscribe>"
                own = {**payload, "blocks": [*payload["blocks"], _context(footer)]}
                jobs.append((delivery, partial(self._post_to, url=subscriber.address, payload=own)))
        yield from self.post_each(jobs, subscribers)

    def send_confirmation(self, subscriber: Subscriber) -> None:
        """Only who can read the channel sees the signed link, so only they can confirm."""
        name = slack_escape(Page.get().name)
        text = (
            f"Someone asked for status updates of {name} in this channel. "
            f"<{confirm_url(subscriber)}|Confirm the subscription> to receive them; "
            "otherwise nothing more is sent."
        )
        with self.session() as session:
            self._post_to(
                session,
                subscriber.address,
                {"text": text, "blocks": [{"type": "section", "text": _mrkdwn(text)}]},
            )

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        self.post_to_webhook(load_channel(delivery.channel_id), self.payload(facts))
        return SendResult()

    def send_alert(
        self, delivery: Delivery, facts: MessageFacts | None, alert: OperatorAlert
    ) -> SendResult:
        if facts is None:
            text = render_file(
                "messages/notice.txt", text=slack_escape(alert.text), admin_url=admin_url(alert)
            ).strip()
        else:
            text = render(
                "alert",
                facts,
                text=slack_escape(alert.text),
                name=slack_escape(facts.incident_name),
                admin_url=admin_incident_url(facts.incident_id),
            )
        self.post_to_webhook(
            load_channel(delivery.channel_id),
            {
                "text": slack_escape(alert.text),
                "blocks": [
                    {
                        "type": "section",
                        "text": {"type": "mrkdwn", "text": clip(text, SLACK_SECTION_LIMIT)},
                    }
                ],
            },
        )
        return SendResult()

    def test(self, channel: Channel, recipient: str) -> str:
        from statuspage.models import Page

        text = render_file("messages/test.txt", page_name=Page.get().name).strip()
        self.post_to_webhook(channel, {"text": text})
        return "Test message posted."
