"""Email over SMTP: subscriber batches on one connection, operator alerts, confirmations.

Each message has a text and an HTML part, a stable ``Message-ID`` derived from the
delivery, and RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

import base64
import smtplib
import ssl
from collections.abc import Iterable, Iterator, Sequence
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate
from typing import Any

from statuspage.extensions import db
from statuspage.lib import http
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import MessageFacts, admin_incident_url, render, render_file
from statuspage.models import Channel, Delivery, OperatorAlert, Page, Role, Subscriber, User
from statuspage.subscriptions.links import (
    confirm_url,
    manage_and_unsubscribe_urls,
    manage_url,
)
from workers.channels.base import (
    DeliveryError,
    Outcome,
    SendResult,
    Transport,
    channel_secrets,
    load_channel,
)

TIMEOUT = 15.0
_UNSUBSCRIBE = "@@unsubscribe@@"
_MANAGE = "@@manage@@"


def _refusal(code: int, detail: bytes | str, what: str) -> DeliveryError:
    text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
    return DeliveryError(f"{what} refused ({code} {text[:200]})", permanent=code >= 500)


class Mailer:
    """One SMTP session, reused for every message of a batch."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.config = channel.config
        self.keys = channel_secrets(channel)
        self.sender = self.config["from_address"]
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        host, port = self.config["host"], int(self.config.get("port") or 587)
        security = self.config.get("security") or "starttls"
        try:
            if security == "tls":
                self.smtp = smtplib.SMTP_SSL(
                    host, port, timeout=TIMEOUT, context=ssl.create_default_context()
                )
            else:
                self.smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
                if security == "starttls":
                    self.smtp.starttls(context=ssl.create_default_context())
            if self.config.get("username"):
                self.smtp.login(self.config["username"], self.keys.get("password", ""))
        except smtplib.SMTPAuthenticationError:
            self.close()
            raise DeliveryError("the SMTP server refused the login", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise self.failure(exc) from None
        return self

    def __exit__(self, *_: object) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                pass
        self.close()

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def failure(self, exc: BaseException) -> DeliveryError:
        text = http.redact(f"{type(exc).__name__}: {exc}", self.keys.values())
        return DeliveryError(f"SMTP {self.config['host']}: {text[:300]}")

    def from_header(self) -> str:
        return formataddr((self.config.get("from_name") or Page.get().name, self.sender))

    def message_id(self, key: str) -> str:
        return f"<{key}@{self.sender.rsplit('@', 1)[-1]}>"

    def send(self, message: EmailMessage | bytes, recipients: Iterable[str]) -> None:
        """Per-message failures raise a DeliveryError for that message; a lost connection
        raises ConnectionLost so the caller stops using it."""
        assert self.smtp is not None
        try:
            if isinstance(message, bytes):
                self.smtp.sendmail(self.sender, list(recipients), message)
            else:
                self.smtp.send_message(message, self.sender, list(recipients))
        except smtplib.SMTPRecipientsRefused as exc:
            code, detail = next(iter(exc.recipients.values()))
            raise _refusal(code, detail, "recipient") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error, "sender") from None
        except smtplib.SMTPDataError as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error, "message") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise ConnectionLost(self.failure(exc)) from None


class ConnectionLost(Exception):
    def __init__(self, error: DeliveryError) -> None:
        super().__init__(error.message)
        self.error = error


def build_message(
    *,
    subject: str,
    sender: str,
    to: str | Sequence[str],
    text: str,
    html: str | None,
    message_id: str,
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = to if isinstance(to, str) else ", ".join(to)
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


class BatchMessage:
    """A batch's message, built once by the email package with placeholders and filled
    in per recipient in its serialised form.

    Building and serialising a MIME message costs about two milliseconds; a batch of 500
    would spend a second on identical work. The parts are base64, so a recipient's own
    links meet no quoting or line-length rule, and the per-recipient header values
    (address, Message-ID, unsubscribe URL) are ASCII.
    """

    _TO = b"recipient@placeholder.invalid"
    _ID = b"message-id-placeholder"
    _UNSUBSCRIBE = b"unsubscribe-placeholder"
    _TEXT, _HTML = b"@@text@@", b"@@html@@"

    def __init__(self, *, subject: str, sender: str, domain: str, list_id: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = sender
        message["To"] = self._TO.decode()
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<{self._ID.decode()}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message["List-Id"] = list_id
        message["List-Unsubscribe"] = f"<{self._UNSUBSCRIBE.decode()}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        utf8 = {"charset": "utf-8"}
        message.set_content(self._TEXT, "text", "plain", cte="base64", params=utf8)
        message.add_alternative(self._HTML, "text", "html", cte="base64", params=utf8)
        self.data = message.as_bytes(policy=SMTP)

    @staticmethod
    def _base64(text: str) -> bytes:
        return base64.encodebytes(text.encode()).replace(b"\n", b"\r\n").rstrip()

    def fill(self, *, to: str, key: str, unsubscribe: str, text: str, html: str) -> bytes:
        return (
            self.data.replace(self._TO, to.encode())
            .replace(self._ID, key.encode())
            .replace(self._UNSUBSCRIBE, unsubscribe.encode())
            .replace(base64.b64encode(self._TEXT), self._base64(text))
            .replace(base64.b64encode(self._HTML), self._base64(html))
        )


def _valid_address(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return True


class Email(Transport):
    """A resent email carries the same Message-ID, which mail clients use to collapse
    duplicates, so a batch interrupted mid-way is safe to send again."""

    safe_to_resend = True

    def send_batch(self, deliveries: Sequence[Delivery], facts: MessageFacts) -> Iterator[Outcome]:
        channel = load_channel(deliveries[0].channel_id)
        subscribers = {
            s.id: s
            for s in db.session.scalars(
                db.select(Subscriber).where(Subscriber.id.in_([d.target_id for d in deliveries]))
            )
        }
        subject = render("email_subject", facts)
        text = render("email", facts, unsubscribe_url=_UNSUBSCRIBE, manage_url=_MANAGE)
        html = render("email.html", facts, unsubscribe_url=_UNSUBSCRIBE, manage_url=_MANAGE)
        with Mailer(channel) as mailer:
            template = BatchMessage(
                subject=subject,
                sender=mailer.from_header(),
                domain=mailer.sender.rsplit("@", 1)[-1],
                list_id=f"{facts.page_name} status updates",
            )
            for delivery in deliveries:
                subscriber = subscribers.get(delivery.target_id)
                if subscriber is None or not subscriber.is_confirmed:
                    yield delivery, DeliveryError("unsubscribed before delivery", permanent=True)
                    continue
                manage, unsubscribe = manage_and_unsubscribe_urls(subscriber)
                data = template.fill(
                    to=subscriber.address,
                    key=delivery.idempotency_key,
                    unsubscribe=unsubscribe,
                    text=text.replace(_UNSUBSCRIBE, unsubscribe).replace(_MANAGE, manage),
                    html=html.replace(_UNSUBSCRIBE, unsubscribe).replace(_MANAGE, manage),
                )
                try:
                    mailer.send(data, [subscriber.address])
                except DeliveryError as exc:
                    yield delivery, exc
                except ConnectionLost as lost:
                    raise lost.error from None
                else:
                    yield delivery, SendResult()

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """An operator's answer to a problem report, to the address its sender left."""
        if not reply.email:
            raise DeliveryError("the report has no email address", permanent=True)
        channel = load_channel(delivery.channel_id)
        with Mailer(channel) as mailer:
            message = build_message(
                subject=reply.subject or "Re: your problem report",
                sender=mailer.from_header(),
                to=reply.email,
                text=reply.text,
                html=None,
                message_id=mailer.message_id(delivery.idempotency_key),
            )
            self._send_one(mailer, message, [reply.email])
        return SendResult()

    def send_alert(
        self, delivery: Delivery, facts: MessageFacts, alert: OperatorAlert
    ) -> SendResult:
        channel = load_channel(delivery.channel_id)
        recipients = alert_recipients(channel)
        if not recipients:
            raise DeliveryError("no operator has an email address to alert", permanent=True)
        admin_url = admin_incident_url(facts.incident_id)
        with Mailer(channel) as mailer:
            message = build_message(
                subject=render("alert_subject", facts, text=alert.text),
                sender=mailer.from_header(),
                to=recipients,
                text=render("alert", facts, text=alert.text, admin_url=admin_url),
                html=None,
                message_id=mailer.message_id(delivery.idempotency_key),
            )
            self._send_one(mailer, message, recipients)
        return SendResult()

    def test(self, channel: Channel, recipient: str) -> str:
        page_name = Page.get().name
        with Mailer(channel) as mailer:
            message = build_message(
                subject=f"[{page_name}] Test message",
                sender=mailer.from_header(),
                to=recipient,
                text=render_file("messages/test.txt", page_name=page_name).strip(),
                html=None,
                message_id=mailer.message_id(f"test-{channel.id}-{Page.get().id}"),
            )
            self._send_one(mailer, message, [recipient])
        return f"Test email accepted by {channel.config['host']} for {recipient}."

    def send_confirmation(self, subscriber: Subscriber) -> None:
        channel = Channel.smtp()
        if channel is None:
            raise DeliveryError("no enabled email channel")
        page_name = Page.get().name
        values: dict[str, Any] = {
            "page_name": page_name,
            "confirm_url": confirm_url(subscriber),
            "manage_url": manage_url(subscriber),
            "components": subscriber.components,
            "pending": subscriber.pending_filter or {},
            "already": subscriber.is_confirmed,
        }
        with Mailer(channel) as mailer:
            message = build_message(
                subject=f"Confirm your subscription to {page_name} status updates",
                sender=mailer.from_header(),
                to=subscriber.address,
                text=render_file("subscriptions/confirm_email.txt", **values),
                html=render_file("subscriptions/confirm_email.html", **values),
                message_id=mailer.message_id(f"confirm-{subscriber.id}-{subscriber.link_nonce}"),
            )
            self._send_one(mailer, message, [subscriber.address])

    @staticmethod
    def _send_one(mailer: Mailer, message: EmailMessage, recipients: Sequence[str]) -> None:
        try:
            mailer.send(message, recipients)
        except ConnectionLost as lost:
            raise lost.error from None


def alert_recipients(channel: Channel) -> list[str]:
    configured = channel.config.get("alert_recipients") or []
    if configured:
        return [a for a in configured if _valid_address(a)]
    users = db.session.scalars(
        db.select(User).where(User.active.is_(True), User.role.in_([Role.ADMIN, Role.RESPONDER]))
    )
    return sorted(u.email for u in users if _valid_address(u.email))
