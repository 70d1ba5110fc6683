"""Listening on Bluesky through the atproto SDK against the local PDS: mentions and replies
stored once with their cursor kept, control characters removed, and an operator's answer
posted in place under the customer's post with root and parent refs."""

from __future__ import annotations

import pytest

from statuspage.errors import ValidationError
from statuspage.listening import replies
from statuspage.models import ChannelKind, DeliveryState, ItemKind, TargetKind
from tests.channels.helpers import deliver
from tests.fakes import bluesky as bluesky_fake
from tests.fakes.fixtures import add_channel
from tests.listening.conftest import items, reply_rows, source
from workers import tasks
from workers.channels import bluesky as transport

NOTIFICATIONS = "/xrpc/app.bsky.notification.listNotifications"


def listen_on_bluesky(service: str):
    transport._sessions.clear()  # sessions of an earlier test's fake are gone
    return add_channel(
        ChannelKind.BLUESKY,
        {"handle": bluesky_fake.HANDLE, "service": service, "listen": "on"},
        {"app_password": bluesky_fake.PASSWORD},
        announce_updates=False,
    )


def test_mentions_and_replies_are_stored_once_and_the_cursor_kept(app, wired):
    bluesky = wired["bluesky"]
    channel = listen_on_bluesky(bluesky.url)
    first = bluesky.customer_post("alice.bsky.social", "@status.example.com login\u0007 fails")
    assert tasks.poll_mentions() == {f"{channel.id}:mentions": 1}
    (item,) = items()
    did, rkey = first["uri"].removeprefix("at://").split("/app.bsky.feed.post/")
    assert item.kind == ItemKind.BLUESKY and item.external_id == f"{did}/{rkey}"
    assert item.text == "@status.example.com login fails"  # the control character removed
    assert item.author_handle == "alice.bsky.social" and item.author_name == "Alice"
    assert item.url == f"https://bsky.app/profile/{did}/post/{rkey}"
    request = bluesky.received("GET", NOTIFICATIONS)[0]
    assert sorted(request.query["reasons"]) == ["mention", "reply"]
    cursor = source(channel, "mentions").since_id
    assert cursor == bluesky.notifications[0]["indexedAt"]

    assert tasks.poll_mentions() == {f"{channel.id}:mentions": 0}  # nothing twice
    bluesky.customer_post("bob.bsky.social", "same here")
    assert tasks.poll_mentions() == {f"{channel.id}:mentions": 1}
    assert len(items()) == 2
    assert source(channel, "mentions").since_id == bluesky.notifications[-1]["indexedAt"]


def test_an_answer_replies_in_the_customers_thread(app, wired, cast):
    bluesky = wired["bluesky"]
    listen_on_bluesky(bluesky.url)
    opener = bluesky.customer_post("carol.bsky.social", "@status.example.com is it down?")
    follow_up = bluesky.customer_post("dave.bsky.social", "for me too", reply_to=opener["uri"])
    tasks.poll_mentions()
    by_author = {i.author_handle: i for i in items()}
    item = by_author["dave.bsky.social"]
    assert item.conversation_id == by_author["carol.bsky.social"].external_id  # the root

    replies.answer(actor=cast["responder"], item_id=item.id, body="We are on it, sorry!")
    (row,) = reply_rows()
    assert (row.target_kind, row.transport) == (TargetKind.REPLY, "bluesky")
    deliver(row)
    (answer,) = bluesky.posts
    assert answer["value"]["text"] == "We are on it, sorry!"
    reply = answer["value"]["reply"]
    refs = {k: (reply[k]["uri"], reply[k]["cid"]) for k in ("root", "parent")}
    assert refs == {
        "parent": (follow_up["uri"], follow_up["cid"]),
        "root": (opener["uri"], opener["cid"]),
    }
    (row,) = reply_rows()
    assert row.state == DeliveryState.SENT and row.external_id == answer["uri"]
    assert {i.author_handle: i for i in items()}["dave.bsky.social"].first_response_at


def test_an_answer_longer_than_bluesky_takes_is_refused(app, wired, cast):
    bluesky = wired["bluesky"]
    listen_on_bluesky(bluesky.url)
    bluesky.customer_post("erin.bsky.social", "@status.example.com hello")
    tasks.poll_mentions()
    (item,) = items()
    with pytest.raises(ValidationError, match="Bluesky takes 300"):
        replies.answer(actor=cast["responder"], item_id=item.id, body="🙂" * 301)
    assert reply_rows() == []
