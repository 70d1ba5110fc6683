"""X's unknown outcomes: a send that may have posted is ``uncertain`` and holds its thread
until the account's own posts are read back. Found, it is sent with the post's id and the
thread goes on from it; certainly absent, it is sent once; unreadable, it waits (and an
operator may resend). A dead post frees its thread, which goes on from the last post that
exists."""

from __future__ import annotations

import time

import pytest

from statuspage.extensions import db
from statuspage.incidents import ledger, service
from statuspage.models import ChannelThread, DeliveryState
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply
from tests.fakes.x import ACCOUNT_ID
from workers import tasks
from workers.channels.x import TWEET_URL

TWEETS, TIMELINE = "/2/tweets", f"/2/users/{ACCOUNT_ID}/tweets"
UNCERTAIN, PENDING, SENT = DeliveryState.UNCERTAIN, DeliveryState.PENDING, DeliveryState.SENT


def a_thread_of_two(wired):
    connect(wired, "x")
    incident = open_incident(
        body="Logins fail & we're on it: <details> at https://example.com/a?b=1&c=2"
    )
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    return incident


def thread_post(incident_id: str) -> str | None:
    db.session.expire_all()
    channel_id = rows("x")[0].channel_id
    return ChannelThread.last_post(channel_id, incident_id)


def read_back(row) -> None:
    make_due(row)
    tasks.read_back(row.id)


@pytest.mark.parametrize(
    "answer",
    [
        Reply(process=True, cut="connection"),
        Reply(process=True, cut="body"),
        Reply(process=True, delay=3),
    ],
    ids=["cut mid-body", "half a document", "too late"],
)
def test_a_post_with_no_whole_answer_is_found_by_reading_the_account_back(
    app, components, wired, answer
):
    x = wired["x"]
    incident = a_thread_of_two(wired)
    x.script("POST", TWEETS, answer)  # X makes the post; the answer does not arrive whole
    first, second = rows("x")
    deliver(first)
    first = rows("x")[0]
    assert first.state == UNCERTAIN and "no answer from X" in first.last_error
    assert first.send_started_at is not None and first.attempt["in_reply_to"] is None
    deliver(first)  # a stray doorbell: never sent again blindly
    deliver(second)  # the next update waits: it must reply to the post that may exist
    assert [r.state for r in rows("x")] == [UNCERTAIN, PENDING]
    tasks.read_back(first.id)  # not due yet: a new post takes a moment to show
    assert x.received("GET", TIMELINE) == [] and rows("x")[0].state == UNCERTAIN

    read_back(first)
    first = rows("x")[0]
    (tweet,) = x.tweets
    assert (first.state, first.external_id) == (SENT, tweet["id"])
    assert first.external_url == TWEET_URL.format(id=tweet["id"])
    assert first.sent_at == first.send_started_at
    assert thread_post(incident.id) == tweet["id"]
    deliver(second)
    assert [t["in_reply_to"] for t in x.tweets] == [None, tweet["id"]]
    assert len(x.received("POST", TWEETS)) == 2 and [r.state for r in rows("x")] == [SENT, SENT]


def test_a_post_the_read_back_does_not_find_is_sent_once(app, components, wired):
    x = wired["x"]
    incident = a_thread_of_two(wired)
    x.script("POST", TWEETS, Reply(201, json={"data": {}}, cut="connection"))  # nothing made
    first, second = rows("x")
    deliver(first)
    assert rows("x")[0].state == UNCERTAIN and x.tweets == []
    read_back(first)
    first = rows("x")[0]
    assert first.state == PENDING and "not found" in first.last_error
    deliver(first)  # the read-back rang it; a worker sends it now
    deliver(second)
    assert len(x.tweets) == 2 and [r.state for r in rows("x")] == [SENT, SENT]
    assert x.tweets[1]["in_reply_to"] == x.tweets[0]["id"] == rows("x")[0].external_id
    assert thread_post(incident.id) == x.tweets[1]["id"]
    assert len(x.received("POST", TWEETS)) == 3  # the lost one, the one resend, the reply


def test_while_the_posts_cannot_be_read_the_row_waits_and_holds_its_thread(app, components, wired):
    x = wired["x"]
    incident = a_thread_of_two(wired)
    x.script("POST", TWEETS, Reply(201, json={"data": {}}, cut="connection"))
    first, second = rows("x")
    deliver(first)
    reset = int(time.time()) + 600
    x.script(
        "GET",
        TIMELINE,
        Reply(429, json={"title": "Too Many Requests"}, headers={"x-rate-limit-reset": str(reset)}),
        Reply(403, json={"title": "Forbidden", "detail": "not permitted to read posts"}),
    )
    read_back(first)
    first = rows("x")[0]
    assert (
        first.state == UNCERTAIN and "reading the account's posts back failed" in first.last_error
    )
    assert int(first.next_attempt_at.timestamp()) == reset  # the read honours X's reset too
    read_back(first)
    first = rows("x")[0]
    assert first.state == UNCERTAIN and "403" in first.last_error
    deliver(second)
    assert rows("x")[1].state == PENDING and x.tweets == []  # the thread waits

    ledger.retry(actor=None, delivery_id=first.id)  # an operator resends it
    db.session.commit()
    deliver(first)
    deliver(second)
    assert [r.state for r in rows("x")] == [SENT, SENT]
    assert [t["in_reply_to"] for t in x.tweets] == [None, x.tweets[0]["id"]]
    assert thread_post(incident.id) == x.tweets[1]["id"]


def test_a_dead_post_frees_its_thread_and_the_next_replies_to_the_last_post_that_exists(
    app, components, wired
):
    x = wired["x"]
    incident = a_thread_of_two(wired)
    service.resolve(actor=None, incident_id=incident.id, body="Fixed.")
    first, second, third = rows("x")
    deliver(first)
    x.script("POST", TWEETS, Reply(403, json={"title": "Forbidden", "detail": "duplicate"}))
    deliver(second)
    deliver(third)
    assert [r.state for r in rows("x")] == [SENT, DeliveryState.DEAD, SENT]
    assert [t["in_reply_to"] for t in x.tweets] == [None, x.tweets[0]["id"]]
    assert thread_post(incident.id) == x.tweets[1]["id"]
