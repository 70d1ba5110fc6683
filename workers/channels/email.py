"""Email over SMTP: subscriber batches on one connection, operator alerts, confirmations.

Each message has a text and an HTML part, a stable ``Message-ID`` derived from the
delivery, and RFC 8058 one-click unsubscribe headers.
"""

from __future__ import annotations

import atexit
import hashlib
import re
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from email import quoprimime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate
from typing import Any

from flask_babel import gettext as _

from statuspage.channel_messages import email_html, email_subject, email_text
from statuspage.extensions import db
from statuspage.i18n import speaking
from statuspage.lib import http
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import (
    MessageFacts,
    admin_incident_url,
    notice_text,
    render,
    render_file,
)
from statuspage.models import (
    BatchRow,
    Channel,
    Delivery,
    OperatorAlert,
    Page,
    Role,
    Subscriber,
    User,
)
from statuspage.subscriptions.links import confirm_url, mailing_links, manage_url
from workers.channels.base import (
    DeliveryError,
    Outcome,
    SendResult,
    Transport,
    channel_secrets,
    load_channel,
)

TIMEOUT = 15.0
IDLE_REUSE = 60.0  # seconds an SMTP session waits for the next batch before it is closed
LINE_LIMIT = 998  # octets per line without the CRLF (RFC 5322 section 2.1.1)
# Link placeholders in a batch's rendered text: unique per process, so no operator text
# contains them.
_MARK = secrets.token_hex(8)
_MANAGE, _UNSUBSCRIBE = f"manage{_MARK}", f"unsubscribe{_MARK}"
_LINKS = re.compile(f"({_MANAGE}|{_UNSUBSCRIBE})")
_SKELETON = re.compile(
    f"(to|id|unsubscribe|plain|html){_MARK}(?:@placeholder\\.invalid|\r\n)?".encode()
)
_NEWLINES = re.compile(r"\r\n?")
_SOFT_BREAK = b"=\r\n"
_LEADING_DOT = re.compile(rb"(?m)^\.")


def _refusal(code: int, detail: bytes | str, what: str) -> DeliveryError:
    text = detail.decode(errors="replace") if isinstance(detail, bytes) else str(detail)
    return DeliveryError(f"{what} refused ({code} {text[:200]})", permanent=code >= 500)


class Sessions:
    """SMTP sessions left open between batches, by server and login, so a mailing of many
    batches logs in once per worker thread instead of once per batch. A session is taken
    by one batch at a time; one idle longer than ``IDLE_REUSE`` is closed, well before the
    five minutes a server may wait for a client's next command (RFC 5321 section
    4.5.3.2.7)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[tuple, list[tuple[float, smtplib.SMTP]]] = {}

    def take(self, key: tuple) -> smtplib.SMTP | None:
        with self.lock:
            stale = self._expire(time.monotonic() - IDLE_REUSE)
            waiting = self.idle.get(key)
            session = waiting.pop()[1] if waiting else None
        for old in stale:
            _close(old)
        return session

    def give(self, key: tuple, session: smtplib.SMTP) -> None:
        with self.lock:
            self.idle.setdefault(key, []).append((time.monotonic(), session))

    def close_all(self) -> None:
        with self.lock:
            stale = self._expire(float("inf"))
        for old in stale:
            _close(old, polite=True)

    def _expire(self, before: float) -> list[smtplib.SMTP]:
        stale = []
        for key, waiting in list(self.idle.items()):
            stale += [session for at, session in waiting if at < before]
            waiting[:] = [(at, session) for at, session in waiting if at >= before]
            if not waiting:
                del self.idle[key]
        return stale


def _close(session: smtplib.SMTP, *, polite: bool = False) -> None:
    try:
        if polite:
            session.quit()
    except (OSError, smtplib.SMTPException):
        pass
    session.close()


SESSIONS = Sessions()
atexit.register(SESSIONS.close_all)


class Mailer:
    """One SMTP session for every message of a batch; with ``reuse`` it comes from and
    goes back to ``SESSIONS``, checked with a NOOP before its first message (a server may
    have dropped it while it waited)."""

    def __init__(self, channel: Channel, *, reuse: bool = False) -> None:
        self.channel = channel
        self.config = channel.config
        self.keys = channel_secrets(channel)
        self.sender = self.config["from_address"]
        self.smtp: smtplib.SMTP | None = None
        self.key: tuple | None = None
        if reuse:
            login = hashlib.sha256(repr(sorted(self.keys.items())).encode()).hexdigest()
            options = ("host", "port", "security", "username")
            self.key = (channel.id, login, *(self.config.get(name) for name in options))

    def __enter__(self) -> Mailer:
        if self.key is not None:
            self.smtp = self._reusable()
            if self.smtp is not None:
                return self
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
            self.smtp.ehlo_or_helo_if_needed()
        except smtplib.SMTPAuthenticationError:
            self.close()
            raise DeliveryError("the SMTP server refused the login", permanent=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise self.failure(exc) from None
        return self

    def _reusable(self) -> smtplib.SMTP | None:
        assert self.key is not None
        while (session := SESSIONS.take(self.key)) is not None:
            try:
                if session.noop()[0] == 250:
                    return session
            except (OSError, smtplib.SMTPException):
                pass
            _close(session)
        return None

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if self.smtp is None:
            return
        if self.key is not None and exc_type is None:
            SESSIONS.give(self.key, self.smtp)
            self.smtp = None
            return
        _close(self.smtp, polite=True)
        self.smtp = None

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
            self.smtp = None

    def failure(self, exc: BaseException, *, unknown_outcome: bool = False) -> DeliveryError:
        text = http.redact(f"{type(exc).__name__}: {exc}", self.keys.values())
        return DeliveryError(
            f"SMTP {self.config['host']}: {text[:300]}", unknown_outcome=unknown_outcome
        )

    def from_header(self) -> str:
        return formataddr((self.config.get("from_name") or Page.get().name, self.sender))

    @property
    def eight_bit(self) -> bool:
        """Whether the server takes 8bit message bodies (RFC 6152)."""
        return self.smtp is not None and self.smtp.has_extn("8bitmime")

    def message_id(self, key: str) -> str:
        return f"<{key}@{self.sender.rsplit('@', 1)[-1]}>"

    def send(
        self,
        message: EmailMessage | bytes,
        recipients: Iterable[str],
        mail_options: Sequence[str] = (),
    ) -> None:
        """Per-message failures raise a DeliveryError for that message; a lost connection
        raises ConnectionLost so the caller stops using it."""
        assert self.smtp is not None
        try:
            if isinstance(message, bytes) and self.smtp.has_extn("pipelining"):
                self._pipelined(message, list(recipients), mail_options)
            elif isinstance(message, bytes):
                self.smtp.sendmail(self.sender, list(recipients), message, mail_options)
            else:
                self.smtp.send_message(message, self.sender, list(recipients), mail_options)
        except smtplib.SMTPRecipientsRefused as exc:
            code, detail = next(iter(exc.recipients.values()))
            raise _refusal(code, detail, "recipient") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error, "sender") from None
        except smtplib.SMTPDataError as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error, "message") from None
        except (OSError, smtplib.SMTPException) as exc:
            # Lost mid-message: the server may have taken it; the same Message-ID goes again.
            self.close()
            raise ConnectionLost(self.failure(exc, unknown_outcome=True)) from None

    def _pipelined(self, data: bytes, recipients: list[str], mail_options: Sequence[str]) -> None:
        """MAIL, RCPT and DATA in one write, their replies read together, then the message:
        two round trips instead of smtplib's three plus one per recipient (RFC 2920). The
        refusals raise what ``smtplib.SMTP.sendmail`` raises for them."""
        assert self.smtp is not None
        smtp = self.smtp
        options = [*mail_options, f"SIZE={len(data)}"] if smtp.has_extn("size") else mail_options
        commands = [f"MAIL FROM:{smtplib.quoteaddr(self.sender)}", *options]
        lines = [" ".join(commands)]
        lines += [f"RCPT TO:{smtplib.quoteaddr(address)}" for address in recipients]
        smtp.send("\r\n".join([*lines, "DATA", ""]))
        mail = smtp.getreply()
        refused = {}
        for address in recipients:
            code, detail = smtp.getreply()
            if code not in (250, 251):
                refused[address] = (code, detail)
        data_code, data_detail = smtp.getreply()
        if data_code == 354 and (mail[0] != 250 or len(refused) == len(recipients)):
            # A server that took DATA without a sender or recipient ends an empty message.
            smtp.send(b".\r\n")
            smtp.getreply()
        if mail[0] != 250:
            smtp.rset()
            raise smtplib.SMTPSenderRefused(mail[0], mail[1], self.sender)
        if len(refused) == len(recipients):
            smtp.rset()
            raise smtplib.SMTPRecipientsRefused(refused)
        if data_code != 354:
            smtp.rset()
            raise smtplib.SMTPDataError(data_code, data_detail)
        body = _LEADING_DOT.sub(b"..", data)
        smtp.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
        code, detail = smtp.getreply()
        if code != 250:
            smtp.rset()
            raise smtplib.SMTPDataError(code, detail)


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
    """A batch's message, built and encoded once, then filled in per recipient by joining
    its prebuilt bytes around the recipient's own values.

    Building a MIME message costs milliseconds and encoding its parts much of the rest, so
    neither is done per recipient. A part whose text is ASCII goes as 7bit, and as 8bit
    where the server announced 8BITMIME, while every line with the batch's widest link in
    place stays within SMTP's 998 octets; any other part goes as quoted-printable with each
    link between soft line breaks, so a recipient's link is encoded on its own and no other
    line moves. The header values filled in (address, Message-ID, unsubscribe URL) are
    ASCII.
    """

    def __init__(
        self,
        *,
        subject: str,
        sender: str,
        domain: str,
        list_id: str,
        text: str,
        html: str,
        widest_link: str,
        eight_bit: bool,
    ) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = sender
        message["To"] = f"to{_MARK}@placeholder.invalid"
        message["Date"] = formatdate(localtime=False, usegmt=True)
        message["Message-ID"] = f"<id{_MARK}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message["List-Id"] = list_id
        message["List-Unsubscribe"] = f"<{_UNSUBSCRIBE}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        parts: dict[str, list[bytes | str]] = {}
        self.encodings: dict[str, str] = {}
        for subtype, body in (("plain", text), ("html", html)):
            body = _NEWLINES.sub("\n", body)
            cte = _transfer_encoding(body, widest_link, eight_bit)
            self.encodings[subtype] = cte
            parts[subtype] = _encode_part(body, cte)
            add = message.set_content if subtype == "plain" else message.add_alternative
            add(f"{subtype}{_MARK}", subtype=subtype, charset="utf-8", cte=cte)
        self.mail_options = ("BODY=8BITMIME",) if "8bit" in self.encodings.values() else ()
        self.quoted = "quoted-printable" in self.encodings.values()
        # The message as literal chunks; ``slots`` names the chunks each recipient fills.
        self.chunks: list[bytes] = []
        self.slots: list[tuple[int, str]] = []
        for n, piece in enumerate(_SKELETON.split(message.as_bytes(policy=SMTP))):
            slot = piece.decode() if n % 2 else None
            for chunk in [piece] if slot is None else parts.get(slot, [slot]):
                if isinstance(chunk, str):
                    self.slots.append((len(self.chunks), chunk))
                    chunk = b""
                self.chunks.append(chunk)

    def fill(self, *, to: str, key: str, manage: str, unsubscribe: str) -> bytes:
        values = {
            "to": to.encode(),
            "id": key.encode(),
            "manage": manage.encode(),
            "unsubscribe": unsubscribe.encode(),
        }
        if self.quoted:
            values["manage="] = _quoted(manage)
            values["unsubscribe="] = _quoted(unsubscribe)
        chunks = self.chunks.copy()
        for index, name in self.slots:
            chunks[index] = values[name]
        return b"".join(chunks)


def _transfer_encoding(text: str, widest_link: str, eight_bit: bool) -> str:
    widest = _LINKS.sub(lambda _: widest_link, text)
    if "\0" in text or max(len(line.encode()) for line in widest.split("\n")) > LINE_LIMIT:
        return "quoted-printable"
    if widest.isascii():
        return "7bit"
    return "8bit" if eight_bit else "quoted-printable"


def _encode_part(text: str, cte: str) -> list[bytes | str]:
    """The encoded body of a part, with the names of its link slots in place of the links.
    In quoted-printable a slot starts and ends a line of its own (soft breaks decode to
    nothing), and lines are kept one short of 76 octets to leave room for the break."""
    chunks: list[bytes | str] = []
    for n, piece in enumerate(_LINKS.split(text)):
        if n % 2:
            name = "manage" if piece == _MANAGE else "unsubscribe"
            chunks.extend(
                [_SOFT_BREAK, f"{name}=", _SOFT_BREAK] if cte == "quoted-printable" else [name]
            )
        elif cte == "quoted-printable":
            chunks.append(_quoted(piece))
        else:
            chunks.append(piece.replace("\n", "\r\n").encode())
    return chunks


def _quoted(text: str) -> bytes:
    latin = text.encode().decode("latin-1")
    return quoprimime.body_encode(latin, maxlinelen=75, eol="\r\n").encode("ascii")


def _valid_address(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return True


class Email(Transport):
    """A resent email carries the same Message-ID, which mail clients use to collapse
    duplicates, so a batch interrupted mid-way is safe to send again, and its outcomes are
    written in larger groups than a channel without such a key can afford."""

    safe_to_resend = True
    batch_commit = 250

    def send_batch(self, deliveries: Sequence[BatchRow], facts: MessageFacts) -> Iterator[Outcome]:
        channel = load_channel(deliveries[0].channel_id)
        recipients = db.session.execute(
            db.select(Subscriber.id, Subscriber.address, Subscriber.link_nonce).where(
                Subscriber.id.in_([d.target_id for d in deliveries]),
                Subscriber.confirmed_at.is_not(None),
            )
        ).all()
        addresses = {r.id: r.address for r in recipients}
        signed = mailing_links((r.id, r.link_nonce) for r in recipients)
        links = dict(zip(addresses, signed, strict=True))
        widest_link = max((link for pair in links.values() for link in pair), key=len, default="")
        subject = email_subject(facts)
        text = email_text(facts, manage_url=_MANAGE, unsubscribe_url=_UNSUBSCRIBE)
        html = email_html(facts, manage_url=_MANAGE, unsubscribe_url=_UNSUBSCRIBE)
        with Mailer(channel, reuse=True) as mailer:
            template = BatchMessage(
                subject=subject,
                sender=mailer.from_header(),
                domain=mailer.sender.rsplit("@", 1)[-1],
                list_id=f"{facts.page_name} status updates",
                text=text,
                html=html,
                widest_link=widest_link,
                eight_bit=mailer.eight_bit,
            )
            for delivery in deliveries:
                address = addresses.get(delivery.target_id)
                if address is None:
                    yield delivery, DeliveryError("unsubscribed before delivery", permanent=True)
                    continue
                manage, unsubscribe = links[delivery.target_id]
                data = template.fill(
                    to=address, key=delivery.idempotency_key, manage=manage, unsubscribe=unsubscribe
                )
                try:
                    mailer.send(data, [address], template.mail_options)
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
        self, delivery: Delivery, facts: MessageFacts | None, alert: OperatorAlert
    ) -> SendResult:
        channel = load_channel(delivery.channel_id)
        recipients = alert_recipients(channel)
        if not recipients:
            raise DeliveryError("no operator has an email address to alert", permanent=True)
        if facts is None:
            subject = render_file(
                "messages/notice_subject.txt", page_name=Page.get().name, text=alert.text
            ).strip()
            text = notice_text(alert)
        else:
            admin_url = admin_incident_url(facts.incident_id)
            subject = render("alert_subject", facts, text=alert.text)
            text = render("alert", facts, text=alert.text, admin_url=admin_url)
        with Mailer(channel) as mailer:
            message = build_message(
                subject=subject,
                sender=mailer.from_header(),
                to=recipients,
                text=text,
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
        page = Page.get()
        page_name = page.name
        values: dict[str, Any] = {
            "page_name": page_name,
            "confirm_url": confirm_url(subscriber),
            "manage_url": manage_url(subscriber),
            "components": subscriber.components,
            "pending": subscriber.pending_filter or {},
            "already": subscriber.is_confirmed,
        }
        with speaking(page.default_language):
            subject = _("Confirm your subscription to %(page)s status updates", page=page_name)
            text = render_file("subscriptions/confirm_email.txt", **values)
            html = render_file("subscriptions/confirm_email.html", **values)
        with Mailer(channel) as mailer:
            message = build_message(
                subject=subject,
                sender=mailer.from_header(),
                to=subscriber.address,
                text=text,
                html=html,
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
