"""Fixtures that start the fakes once per session and wire channels to them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Channel, ChannelKind, Subscriber, SubscriberKind
from statuspage.models.subscribers import new_nonce
from tests.fakes import bluesky as bluesky_fake
from tests.fakes import x as x_fake
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.discord import FakeDiscord
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fakes.slack import FakeSlack
from tests.fakes.smtp import FakeSMTP
from tests.fakes.teams import FakeTeams
from tests.fakes.telegram import TOKEN as TELEGRAM_TOKEN
from tests.fakes.telegram import FakeTelegram
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.fakes.webhook import FakeReceiver
from tests.fakes.x import FakeX
from workers.channels import bluesky as bluesky_transport

HTTP_TIMEOUT = 2
RECEIVER_PATH = "/hooks/ops"
RECEIVER_SECRET = "whsec_ops_test_secret"


@pytest.fixture(scope="session")
def fakes() -> Iterator[dict[str, Any]]:
    servers = {
        "x": FakeX().start(),
        "mastodon": FakeMastodon().start(),
        "slack": FakeSlack().start(),
        "receiver": FakeReceiver().start(),
        "smtp": FakeSMTP().start(),
        "teams": FakeTeams().start(),
        "discord": FakeDiscord().start(),
        "telegram": FakeTelegram().start(),
        "bluesky": FakeBluesky().start(),
        "twilio": FakeTwilio().start(),
    }
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture
def wired(app: Flask, fakes: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The app (and any worker it starts) pointed at the fakes, private addresses allowed."""
    for server in fakes.values():
        server.reset()
    bluesky_transport._sessions.clear()  # the fake forgot its tokens: no login is kept
    settings = {
        "STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS": "1",
        "STATUSPAGE_X_API_URL": fakes["x"].url,
        "STATUSPAGE_TELEGRAM_API_URL": fakes["telegram"].url,
        "STATUSPAGE_TWILIO_API_URL": fakes["twilio"].url,
        "STATUSPAGE_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
    }
    app.config["TEST_ENV"].update(settings)
    app.config.update(
        ALLOW_PRIVATE_WEBHOOKS=True,
        X_API_URL=fakes["x"].url,
        TELEGRAM_API_URL=fakes["telegram"].url,
        TWILIO_API_URL=fakes["twilio"].url,
        HTTP_TIMEOUT=HTTP_TIMEOUT,
    )
    fakes["receiver"].secrets[RECEIVER_PATH] = RECEIVER_SECRET
    yield fakes


def add_channel(
    kind: ChannelKind, config: dict[str, Any], secrets: dict[str, Any], **flags: Any
) -> Channel:
    channel = Channel(kind=kind, name=f"{kind} test", config=config, **flags)
    channel.secrets = secrets
    db.session.add(channel)
    db.session.commit()
    return channel


def connect(fakes: dict[str, Any], *kinds: str) -> dict[str, Channel]:
    """Channels of the given kinds (default: the first five) wired to the fakes."""
    wanted = set(kinds or ("x", "mastodon", "slack", "webhook", "smtp"))
    made: dict[str, Channel] = {}
    if "x" in wanted:
        made["x"] = add_channel(ChannelKind.X, {}, dict(x_fake.KEYS))
    if "mastodon" in wanted:
        made["mastodon"] = add_channel(
            ChannelKind.MASTODON,
            {"base_url": fakes["mastodon"].url, "visibility": "unlisted", "language": "en"},
            {"access_token": TOKEN},
        )
    if "slack" in wanted:
        made["slack"] = add_channel(ChannelKind.SLACK, {}, {"webhook_url": fakes["slack"].hook_url})
    if "webhook" in wanted:
        made["webhook"] = add_channel(
            ChannelKind.WEBHOOK,
            {"url": fakes["receiver"].url + RECEIVER_PATH},
            {"signing_secret": RECEIVER_SECRET},
        )
    if "teams" in wanted:
        made["teams"] = add_channel(ChannelKind.TEAMS, {}, {"webhook_url": fakes["teams"].flow_url})
    if "discord" in wanted:
        made["discord"] = add_channel(
            ChannelKind.DISCORD,
            {"forum": "on" if fakes["discord"].forum else "off"},
            {"webhook_url": fakes["discord"].hook_url},
        )
    if "telegram" in wanted:
        made["telegram"] = add_channel(
            ChannelKind.TELEGRAM, {"chat_id": "@examplestatus"}, {"bot_token": TELEGRAM_TOKEN}
        )
    if "bluesky" in wanted:
        made["bluesky"] = add_channel(
            ChannelKind.BLUESKY,
            {"handle": bluesky_fake.HANDLE, "service": fakes["bluesky"].url, "language": "en"},
            {"app_password": bluesky_fake.PASSWORD},
        )
    if "twilio" in wanted:
        made["twilio"] = add_channel(
            ChannelKind.TWILIO,
            {"account_sid": ACCOUNT_SID, "sender": SENDER, "monthly_cap": 1000},
            {"auth_token": AUTH_TOKEN},
        )
    if "smtp" in wanted:
        made["smtp"] = add_channel(
            ChannelKind.EMAIL_SMTP,
            {
                "host": "127.0.0.1",
                "port": fakes["smtp"].port,
                "security": "none",
                "from_address": "status@example.com",
                "from_name": "Example Status",
            },
            {},
        )
    return made


def add_subscriber(
    kind: SubscriberKind,
    address: str,
    *,
    components: list | None = None,
    secret: str | None = None,
    confirmed: bool = True,
) -> Subscriber:
    subscriber = Subscriber(
        kind=kind,
        address=address,
        link_nonce=new_nonce(),
        confirmed_at=now() if confirmed else None,
        components=components or [],
    )
    if secret:
        subscriber.secret = secret
    db.session.add(subscriber)
    db.session.commit()
    return subscriber
