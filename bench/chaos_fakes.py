"""Far ends that misbehave, for ``bench/chaos.py``: the tests' loopback fakes of X,
Mastodon, Slack, a webhook receiver and SMTP, answering a share of requests with a fault
drawn from a seeded random, and recording every exchange with its time, its fault, whether
the far end did the work (a post exists) and the reset time it named.

HTTP faults: 429 with one of the reset headers (``Retry-After`` in seconds or as an HTTP
date, ``X-RateLimit-Reset``, ``x-rate-limit-reset``, ``RateLimit-Reset``); 500, 502 or 503
(a 503 names a time in ``Retry-After`` half of the time); hang (no answer for longer than
the client's timeout, with or without doing the work); cut (do the work, then send half of
the answer); drop (close the connection before reading the request). SMTP faults: 451 for a
recipient, drop at RCPT, hang after accepting a message, cut (accept the message and close
without a reply).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate

from aiosmtpd.controller import Controller

from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeServer, Recorded, Reply
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSMTP, _Handler
from tests.fakes.webhook import FakeReceiver
from tests.fakes.x import FakeX
from workers.channels.email import TIMEOUT as SMTP_TIMEOUT

UPDATE_ID = re.compile(rb"#update-([0-9a-z]{12})")
FAULTS = ("429", "5xx", "hang", "cut", "drop")
SMTP_FAULTS = ("451", "drop", "hang", "cut")
RESET_KINDS = (
    "Retry-After",
    "Retry-After (HTTP date)",
    "X-RateLimit-Reset",
    "x-rate-limit-reset",
    "RateLimit-Reset",
)
# Faults after which the sender cannot know whether the far end did the work.
UNKNOWN_OUTCOME = ("hang", "cut", "drop")


def update_in(body: bytes) -> str | None:
    """The update a request carries: every message links to ``…#update-<id>``."""
    match = UPDATE_ID.search(body.replace(b"%23", b"#"))
    return match.group(1).decode() if match else None


@dataclass
class Exchange:
    """One request as the far end saw it."""

    far_end: str
    at: float
    method: str
    path: str
    update_id: str | None
    fault: str  # "ok" or one of FAULTS / SMTP_FAULTS
    processed: bool = False  # the far end did the work: a post, message or event exists
    status: int | None = None
    reset_at: float | None = None  # the time a 429/503 told the sender to come back
    reset_header: str | None = None
    key: str | None = None  # Idempotency-Key, delivery id or Message-ID


class Storm:
    """Draws faults from one seeded random shared by the fakes; ``rate`` of the requests
    get one, evenly spread over the kinds."""

    def __init__(self, seed: int, rate: float, hang_seconds: float, reset_seconds: float) -> None:
        self.random = random.Random(seed)
        self.rate = rate
        self.hang_seconds = hang_seconds
        self.reset_seconds = reset_seconds
        self.calm_since: float | None = None  # no more faults: the run's chaos is over
        self.lock = threading.Lock()

    def calm_down(self) -> None:
        self.calm_since = time.time()

    def draw(self, kinds: tuple[str, ...]) -> str:
        with self.lock:
            if self.calm_since is not None or self.random.random() >= self.rate:
                return "ok"
            return self.random.choice(kinds)

    def choice(self, options: tuple) -> object:
        with self.lock:
            return self.random.choice(options)

    def wait(self) -> int:
        """Whole seconds a reset header names, at least one."""
        with self.lock:
            return self.random.randint(1, max(1, round(self.reset_seconds)))


class Stormy(FakeServer):
    """Mixed in before a fake: faults on every request, every exchange in ``exchanges``."""

    name = "http"
    iso_reset = False  # Mastodon names X-RateLimit-Reset as an ISO 8601 time

    def __init__(self, storm: Storm) -> None:
        super().__init__()
        self.storm = storm
        self.exchanges: list[Exchange] = []
        self._drawn = threading.local()

    def drops(self, method: str, path: str) -> bool:
        self._drawn.fault = self.storm.draw(FAULTS)
        return self._drawn.fault == "drop"

    def dropped(self, request: Recorded) -> None:
        super().dropped(request)
        self._log(request, "drop")

    def _dispatch(self, request: Recorded) -> Reply:
        fault = getattr(self._drawn, "fault", "ok")
        if fault == "ok" or (fault == "hang" and self.storm.choice((True, False))):
            reply = super()._dispatch(request)
            done = 200 <= reply.status < 300
            self._log(request, fault, processed=done, status=reply.status)
            if fault == "hang":
                return dataclasses.replace(reply, delay=self.storm.hang_seconds)
            return reply
        if fault == "cut":
            reply = super()._dispatch(request)
            self._log(request, fault, processed=200 <= reply.status < 300, status=reply.status)
            return dataclasses.replace(reply, cut=self.storm.choice(("connection", "body")))
        with self.lock:
            self.requests.append(request)
        if fault == "hang":
            self._log(request, fault, status=504)
            return Reply(504, delay=self.storm.hang_seconds)
        if fault == "429":
            return self._limited(request, 429, str(self.storm.choice(RESET_KINDS)))
        status = int(self.storm.choice((500, 502, 503)))
        if status == 503 and self.storm.choice((True, False)):
            return self._limited(request, 503, "Retry-After")
        self._log(request, "5xx", status=status)
        return Reply(status, json={"error": "server error"})

    def _limited(self, request: Recorded, status: int, kind: str) -> Reply:
        """A 429 or 503 that names when to come back, in the header ``kind``."""
        at, wait = time.time(), self.storm.wait()
        whole = math.ceil(at + wait)  # absolute forms name whole seconds
        if kind == "Retry-After":
            headers, reset = {"Retry-After": str(wait)}, at + wait
        elif kind == "Retry-After (HTTP date)":
            headers, reset = {"Retry-After": formatdate(whole, usegmt=True)}, float(whole)
        elif kind == "RateLimit-Reset":
            headers, reset = {"RateLimit-Limit": "300", "RateLimit-Reset": str(wait)}, at + wait
        elif kind == "X-RateLimit-Reset" and self.iso_reset:
            iso = datetime.fromtimestamp(whole, UTC).isoformat(timespec="milliseconds")
            headers, reset = {"X-RateLimit-Reset": iso.replace("+00:00", "Z")}, float(whole)
        else:
            headers, reset = {kind: str(whole)}, float(whole)
        self._log(request, str(status), status=status, reset_at=reset, reset_header=kind)
        return Reply(status, json={"error": "slow down"}, headers=headers)

    def _log(self, request: Recorded, fault: str, **facts: object) -> None:
        exchange = Exchange(
            self.name,
            request.at,
            request.method,
            request.path,
            update_in(request.body),
            "429" if fault == "429" else fault,
            key=request.header("Idempotency-Key") or request.header("X-Statuspage-Delivery"),
            **facts,  # type: ignore[arg-type]
        )
        with self.lock:
            self.exchanges.append(exchange)


class StormyX(Stormy, FakeX):
    name = "x"


class StormyMastodon(Stormy, FakeMastodon):
    name = "mastodon"
    iso_reset = True


class StormySlack(Stormy, FakeSlack):
    name = "slack"


class StormyReceiver(Stormy, FakeReceiver):
    """A webhook receiver that answers 200 with a small body (there is something to cut)."""

    name = "webhook"

    def route(self, request: Recorded) -> Reply:
        reply = super().route(request)
        return Reply(200, json={"received": True}) if reply.status == 204 else reply


class _StormyHandler(_Handler):
    def __init__(self, server: StormySMTP) -> None:
        super().__init__(server)
        self.smtp = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        # One draw per connection, as the HTTP fakes draw one per request: a batch of mail
        # shares a connection, and most faults end it.
        fault = "ok" if getattr(session, "drawn", False) else self.smtp.storm.draw(SMTP_FAULTS)
        session.drawn = True
        if fault == "451":
            self.smtp.log(address, None, "451", status=451)
            return "451 4.3.2 Try again later"
        if fault == "drop":
            self.smtp.log(address, None, "drop")
            server.transport.abort()
            return "421 4.3.0 Closing"
        session.fault = fault  # for this message's DATA
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        fault = getattr(session, "fault", "ok")
        session.fault = "ok"
        answer = await super().handle_DATA(server, session, envelope)
        message_id = _message_id(envelope.content)
        for address in envelope.rcpt_tos:
            self.smtp.log(address, message_id, fault, processed=True, status=250)
        if fault == "cut":
            server.transport.abort()
        elif fault == "hang":
            await asyncio.sleep(SMTP_TIMEOUT + 1)
        return answer


def _message_id(content: bytes) -> str | None:
    match = re.search(rb"^Message-ID:\s*(\S+)", content, re.IGNORECASE | re.MULTILINE)
    return match.group(1).decode() if match else None


class StormySMTP(FakeSMTP):
    """An SMTP server with one draw per connection: the fault hits its first recipient
    (451, drop) or message (hang, cut); each message carries one recipient."""

    name = "email"

    def __init__(self, storm: Storm) -> None:
        super().__init__()
        self.storm = storm
        self.exchanges: list[Exchange] = []
        self.controller = Controller(_StormyHandler(self), hostname="127.0.0.1", port=self.port)

    def log(self, address: str, message_id: str | None, fault: str, **facts: object) -> None:
        update_id = message_id.strip("<>").split("-s")[0] if message_id else None
        exchange = Exchange(
            self.name, time.time(), "DATA", address, update_id, fault, key=message_id, **facts
        )  # type: ignore[arg-type]
        with self.lock:
            self.exchanges.append(exchange)
