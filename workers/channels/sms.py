"""SMS through Twilio's Programmable Messaging, with Twilio's own library.

Subscriber texts go out one Messages.json call each, counted against the channel's monthly
cap first. The library's requests pass through ``statuspage.lib.http`` (the address guard,
timeouts, ``api.twilio.com`` aliased for a compatible gateway or a test), and the auth token
only ever travels in its Basic credentials, never in a log line or a stored error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import Any

import requests
from flask import current_app
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from statuspage import outbox
from statuspage.extensions import db
from statuspage.lib import http
from statuspage.messages import MessageFacts, fit, render_file
from statuspage.models import BatchRow, Channel, Page, Subscriber
from statuspage.subscriptions import sms
from statuspage.subscriptions.sms_rules import SMS_LIMIT, gsm_dots, sms_length
from statuspage.text_rules import one_line
from workers.channels.base import (
    DeliveryError,
    Outcome,
    SendResult,
    Transport,
    channel_secrets,
    load_channel,
)

log = logging.getLogger(__name__)
API_ORIGIN = "https://api.twilio.com"
# Twilio's error codes that mean the number will not take texts from us: it replied STOP to
# the carrier (21610), cannot receive SMS (21614), or is not a valid number (21211).
STOPPED = 21610
UNREACHABLE = (21211, 21614, STOPPED)


class TwilioError(DeliveryError):
    """A refusal from Twilio, with its error code (https://www.twilio.com/docs/api/errors)."""

    def __init__(self, message: str, *, code: int | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


class GuardedHttpClient(HttpClient):
    """The Twilio library's HTTP client, sending through our guarded session and keeping
    the last answer, whose reset headers the library's exception does not carry."""

    def __init__(self, session: http.Session) -> None:
        super().__init__(log, is_async=False)
        self.http = session
        self.last_response: TwilioResponse | None = None

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        self.last_response = None
        try:
            answer = self.http.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                auth=auth,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            message = http.describe_failure(exc, auth or ())
            if http.never_sent(exc):
                raise DeliveryError(message, permanent=message.startswith("refused: ")) from None
            raise DeliveryError(
                f"no answer after sending ({message})", unknown_outcome=True
            ) from None
        self.last_response = TwilioResponse(answer.status_code, answer.text, answer.headers)
        return self.last_response


class TwilioAccount:
    """One Twilio client for a channel, used for every text of a batch."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        keys = channel_secrets(channel)
        self.token = keys.get("auth_token") or ""
        if not self.token:
            raise DeliveryError("no auth token is configured", permanent=True)
        self.session = http.session(aliases={API_ORIGIN: current_app.config["TWILIO_API_URL"]})
        self.transport = GuardedHttpClient(self.session)
        self.client = Client(
            channel.config["account_sid"],
            self.token,
            http_client=self.transport,
            environment={},  # no TWILIO_REGION/TWILIO_EDGE from the host's environment
        )

    def __enter__(self) -> TwilioAccount:
        return self

    def __exit__(self, *_: object) -> None:
        self.session.close()

    def text(self, to: str, body: str) -> str:
        """Send one text; its Message SID, or DeliveryError as Twilio's answer says."""
        sender = self.channel.config["sender"]
        how: dict[str, Any] = (
            {"messaging_service_sid": sender} if sender.startswith("MG") else {"from_": sender}
        )
        try:
            message = self.client.messages.create(to=to, body=body, **how)
        except TwilioRestException as exc:
            raise self.error(exc.status, exc.code, exc.msg) from None
        except TwilioException as exc:
            status = self.transport.last_response.status_code if self.transport.last_response else 0
            raise self.error(status, None, type(exc).__name__) from None
        except ValueError:
            raise DeliveryError("Twilio's answer could not be read", unknown_outcome=True) from None
        if not message.sid:
            raise DeliveryError("Twilio's answer names no message", unknown_outcome=True)
        return message.sid

    def error(self, status: int, code: int | None, text: str) -> TwilioError:
        headers = self.transport.last_response.headers if self.transport.last_response else {}
        detail = http.redact(str(text or ""), (self.token,))[:300]
        return TwilioError(
            f"Twilio answered {status}" + (f" (error {code})" if code else "") + f": {detail}",
            code=code,
            permanent=not http.retryable_status(status),
            retry_at=http.reset_at(headers or {}),
        )


class Sms(Transport):
    """Twilio takes no idempotency key for a message, so a text whose answer was lost
    becomes ``uncertain`` rather than going out twice. Each text is committed as begun
    before it is sent and as sent right after, so a worker killed mid-batch leaves at most
    one text uncertain and sends none of the others again."""

    safe_to_resend = False
    batch_commit = 1

    def send_batch(self, deliveries: Sequence[BatchRow], facts: MessageFacts) -> Iterator[Outcome]:
        channel = load_channel(deliveries[0].channel_id)
        body = gsm_dots(fit("sms", facts, SMS_LIMIT, sms_length))
        numbers = dict(
            db.session.execute(
                db.select(Subscriber.id, Subscriber.address).where(
                    Subscriber.id.in_([d.target_id for d in deliveries]),
                    Subscriber.confirmed_at.is_not(None),
                )
            ).all()
        )
        with TwilioAccount(channel) as account:
            for delivery in deliveries:
                number = numbers.get(delivery.target_id)
                if number is None:
                    yield delivery, DeliveryError("unsubscribed before delivery", permanent=True)
                    continue
                if not sms.reserve(channel):
                    yield delivery, DeliveryError(sms.dropped_message(channel), permanent=True)
                    continue
                outbox.mark_row_started(delivery)
                try:
                    sid = account.text(number, body)
                except DeliveryError as exc:
                    if not exc.unknown_outcome:
                        sms.release(channel)
                    if exc.retry_at is not None:
                        raise  # a rate limit holds back the rest of the batch too
                    if isinstance(exc, TwilioError) and exc.code == STOPPED:
                        subscriber = db.session.get(Subscriber, delivery.target_id)
                        if subscriber is not None:
                            sms.stop(subscriber)
                    yield delivery, exc
                else:
                    yield delivery, SendResult(external_id=sid)

    def send_confirmation(self, subscriber: Subscriber) -> None:
        """The text that asks for a YES. Past the monthly cap it is not sent (the operators
        were alerted); the number may ask again once the cooldown is over."""
        channel = Channel.twilio()
        if channel is None:
            raise DeliveryError("no enabled SMS channel")
        if not sms.reserve(channel):
            log.warning(
                "confirmation for subscriber %s not sent: %s",
                subscriber.id,
                sms.cap_message(channel),
            )
            return
        body = render_file(
            "messages/sms_confirm.txt", page_name=one_line(Page.get().name)[:40]
        ).strip()
        with TwilioAccount(channel) as account:
            try:
                account.text(subscriber.address, body)
            except DeliveryError as exc:
                if not exc.unknown_outcome:
                    sms.release(channel)
                raise

    def test(self, channel: Channel, recipient: str) -> str:
        """Checks the account SID and token by reading the account: a test text would cost
        money and needs a phone."""
        with TwilioAccount(channel) as account:
            try:
                found = account.client.api.v2010.accounts(channel.config["account_sid"]).fetch()
            except TwilioRestException as exc:
                raise account.error(exc.status, exc.code, exc.msg) from None
        return (
            f"Connected to the Twilio account “{found.friendly_name}”; "
            f"{sms.sent_this_month(channel)} of {sms.cap_of(channel)} texts sent this month."
        )
