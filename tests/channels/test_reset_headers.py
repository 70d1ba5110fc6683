"""Every reset header on every channel: a 429 or 503 that names its time in one header
only is retried at exactly that time, never before, on X, Mastodon, Slack, a webhook
channel, Teams, Discord, Telegram, Bluesky and a webhook subscriber's batch."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import formatdate

import pytest

from statuspage.models import Delivery, DeliveryState, SubscriberKind, TargetKind
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.bluesky import CREATE as BLUESKY_CREATE
from tests.fakes.discord import HOOK_PATH as DISCORD_PATH
from tests.fakes.fixtures import RECEIVER_PATH, add_subscriber, connect
from tests.fakes.server import FakeServer, Reply
from tests.fakes.slack import HOOK_PATH
from tests.fakes.teams import FLOW_PATH as TEAMS_PATH
from tests.fakes.telegram import TOKEN as TELEGRAM_TOKEN

SUBSCRIBER_PATH = "/subscriber"
# The header and how it names a moment ``at`` (a Unix time, whole seconds), and whether the
# value counts from the moment the answer was made rather than naming a time.
HEADERS: dict[str, tuple[str, Callable[[float], str], bool]] = {
    "x-rate-limit-reset (X, epoch)": ("x-rate-limit-reset", lambda at: str(int(at)), False),
    "X-RateLimit-Reset (epoch)": ("X-RateLimit-Reset", lambda at: str(int(at)), False),
    "X-RateLimit-Reset (Mastodon, ISO 8601)": (
        "X-RateLimit-Reset",
        lambda at: datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds"),
        False,
    ),
    "Retry-After (seconds)": ("Retry-After", lambda _: "1", True),
    "Retry-After (HTTP date)": ("Retry-After", lambda at: formatdate(at, usegmt=True), False),
    "RateLimit-Reset (seconds)": ("RateLimit-Reset", lambda _: "1", True),
    "ratelimit-reset (Bluesky XRPC, epoch)": ("ratelimit-reset", lambda at: str(int(at)), False),
    "X-RateLimit-Reset-After (Discord, seconds)": ("X-RateLimit-Reset-After", lambda _: "1", True),
}
CHANNELS = (
    "x",
    "mastodon",
    "slack",
    "webhook",
    "teams",
    "discord",
    "telegram",
    "bluesky",
    "subscriber",
)


def _targets(fakes: dict) -> dict[str, tuple[FakeServer, str, str]]:
    """Per channel: its fake, the method and the path the delivery is sent to."""
    return {
        "x": (fakes["x"], "POST", "/2/tweets"),
        "mastodon": (fakes["mastodon"], "POST", "/api/v1/statuses"),
        "slack": (fakes["slack"], "POST", HOOK_PATH),
        "webhook": (fakes["receiver"], "POST", RECEIVER_PATH),
        "teams": (fakes["teams"], "POST", TEAMS_PATH),
        "discord": (fakes["discord"], "POST", DISCORD_PATH),
        "telegram": (fakes["telegram"], "POST", f"/bot{TELEGRAM_TOKEN}/sendMessage"),
        "bluesky": (fakes["bluesky"], "POST", BLUESKY_CREATE),
        "subscriber": (fakes["receiver"], "POST", SUBSCRIBER_PATH),
    }


def _channel_of(row: Delivery) -> str:
    return "subscriber" if row.target_kind == TargetKind.SUBSCRIBER else str(row.transport)


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("header", list(HEADERS))
def test_a_reset_header_alone_sets_the_retry_and_nothing_is_sent_before_it(
    app, components, wired, header, status
):
    name, value_for, relative = HEADERS[header]
    connect(wired, *(c for c in CHANNELS if c != "subscriber"))
    wired["receiver"].secrets[SUBSCRIBER_PATH] = "whsec_subscriber"
    add_subscriber(
        SubscriberKind.WEBHOOK, wired["receiver"].url + SUBSCRIBER_PATH, secret="whsec_subscriber"
    )
    # One to two seconds ahead: sooner than any backoff (2.5 s at least), so a retry that
    # ignores the header is late, and one that misreads it as long past is early.
    named = math.floor(time.time()) + 2
    targets = _targets(wired)
    for fake, method, path in targets.values():
        fake.script(
            method,
            path,
            Reply(status, json={"error": "slow down"}, headers={name: value_for(named)}),
        )
    open_incident()
    waiting = [r for r in rows() if r.transport != "page"]
    assert sorted(_channel_of(r) for r in waiting) == sorted(CHANNELS)
    answered: dict[str, float] = {}  # by when each channel had its answer in hand
    for row in waiting:
        deliver(row)
        answered[_channel_of(row)] = time.time()

    # The retry is due at the time the header names, taken when the answer came: after the
    # fake sent it, before the delivery returned. A named time that passed before the
    # answer came (a slow run) means "now".
    due: dict[str, tuple[float, float]] = {}
    for channel, (fake, method, path) in targets.items():
        (refused,) = fake.received(method, path)
        done = answered[channel]
        due[channel] = (
            (refused.at + 1, done + 1) if relative else (max(named, refused.at), max(named, done))
        )
    first = {_channel_of(r): r for r in rows() if r.transport != "page"}
    assert {c: r.state for c, r in first.items()} == dict.fromkeys(CHANNELS, DeliveryState.FAILED)
    at = {c: r.next_attempt_at.timestamp() for c, r in first.items()}
    on_time = {c: due[c][0] - 0.01 <= at[c] <= due[c][1] + 0.01 for c in CHANNELS}
    assert on_time == dict.fromkeys(CHANNELS, True), {c: (at[c], due[c]) for c in CHANNELS}

    # Doorbells ring every 50 ms, as eager as they come; each row goes once its time is up.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pending = [r for r in rows() if r.transport != "page" and r.state != DeliveryState.SENT]
        if not pending:
            break
        for row in pending:
            deliver(row.id)
        time.sleep(0.05)
    final = {_channel_of(r): r.state for r in rows() if r.transport != "page"}
    assert final == dict.fromkeys(CHANNELS, DeliveryState.SENT)
    early = {
        channel: sum(1 for r in fake.received(method, path)[1:] if r.at < due[channel][0])
        for channel, (fake, method, path) in targets.items()
    }
    assert early == dict.fromkeys(CHANNELS, 0)
    sent = {c: len(fake.received(m, p)) for c, (fake, m, p) in targets.items()}
    assert sent == dict.fromkeys(CHANNELS, 2)
