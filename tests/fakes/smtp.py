"""An SMTP server (aiosmtpd) that records every message with its envelope. Like most mail
servers it announces PIPELINING (RFC 2920), which aiosmtpd serves but does not announce."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.conftest import free_port


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes
    peer: tuple  # the client's address: one per SMTP connection

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"no text/{subtype} part"
        return body.get_content()


class _Handler:
    def __init__(self, server: FakeSMTP) -> None:
        self.server = server

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: ANN001
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address in self.server.refuse:
            return self.server.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        mail = Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.peer)
        with self.server.lock:
            self.server.mails.append(mail)
        if self.server.on_mail is not None:
            self.server.on_mail(mail)  # the message is taken; the reply is not yet sent
        return "250 Message accepted for delivery"


class FakeSMTP:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.refuse: dict[str, str] = {}
        self.on_mail: Callable[[Mail], None] | None = None
        self.lock = threading.Lock()
        self.port = free_port()
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    def start(self) -> FakeSMTP:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def reset(self) -> None:
        with self.lock:
            self.mails.clear()
            self.refuse.clear()
            self.on_mail = None

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.mails if address in m.recipients]
