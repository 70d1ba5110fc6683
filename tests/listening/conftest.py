"""Listening channels wired to the loopback X and Mastodon fakes."""

from __future__ import annotations

import pytest

from statuspage.extensions import db
from statuspage.models import Channel, ChannelKind, Delivery, InboxItem, ListeningSource
from tests.fakes import x as x_fake
from tests.fakes.fixtures import add_channel, connect, fakes, wired  # noqa: F401  (fixtures)
from tests.fakes.mastodon import TOKEN


def listen_on_x(search: str = "") -> Channel:
    config = {"listen": "on", "search_query": search} if search else {"listen": "on"}
    return add_channel(ChannelKind.X, config, dict(x_fake.KEYS), announce_updates=False)


def listen_on_mastodon(base_url: str, hashtags: str = "") -> Channel:
    config = {"base_url": base_url, "visibility": "public", "listen": "on"}
    if hashtags:
        config["hashtags"] = hashtags
    return add_channel(
        ChannelKind.MASTODON, config, {"access_token": TOKEN}, announce_updates=False
    )


def items() -> list[InboxItem]:
    db.session.expire_all()
    found = list(db.session.scalars(db.select(InboxItem).order_by(InboxItem.id)))
    db.session.commit()
    return found


def source(channel: Channel, name: str) -> ListeningSource:
    db.session.expire_all()
    row = db.session.scalars(
        db.select(ListeningSource).where(
            ListeningSource.channel_id == channel.id, ListeningSource.name == name
        )
    ).one()
    db.session.commit()
    return row


def reply_rows() -> list[Delivery]:
    db.session.expire_all()
    found = list(
        db.session.scalars(
            db.select(Delivery).where(Delivery.reply_id.is_not(None)).order_by(Delivery.id)
        )
    )
    db.session.commit()
    return found


@pytest.fixture
def smtp_channel(wired):  # noqa: F811
    return connect(wired, "smtp")["smtp"]
