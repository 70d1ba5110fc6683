"""X through tweepy against a local X API: threads, the 280 limit, 429, 503, timeouts."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.messages import x_length
from statuspage.models import Channel, DeliveryState
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes import x as x_fake
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply

LONG = "We are investigating failed logins across every region. " * 12


def test_it_threads_every_update_and_fits_280_with_the_link_last(app, components, wired):
    x = wired["x"]
    connect(wired, "x")
    incident = open_incident({components["API"]: "major_outage"}, body=LONG)
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found it")
    service.resolve(actor=None, incident_id=incident.id, body="Fixed.")
    for row in rows("x"):
        deliver(row)

    assert [t["in_reply_to"] for t in x.tweets] == [None, x.tweets[0]["id"], x.tweets[1]["id"]]
    first, second, last = (t["text"] for t in x.tweets)
    url = f"http://status.test/incidents/{incident.id}"
    for text in (first, second, last):
        assert x_length(text) <= 280
        assert text.splitlines()[-1].startswith(url + "#update-")
    assert first.startswith("Investigating: Login failures")
    assert "…" in first and "API (major outage)" in first and "Next update by" in first
    assert "Major impact" in first
    assert second.startswith("Identified: Login failures") and "Found it" in second
    assert last.startswith("Resolved:") and "Next update by" not in last
    sent = rows("x")
    assert [r.state for r in sent] == [DeliveryState.SENT] * 3
    assert sent[0].external_url == f"https://x.com/i/web/status/{x.tweets[0]['id']}"


def test_a_later_update_waits_for_the_one_it_replies_to(app, components, wired):
    x = wired["x"]
    connect(wired, "x")
    x.script("POST", "/2/tweets", Reply(503, json={"title": "Service Unavailable"}))
    incident = open_incident()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    first, second = rows("x")
    deliver(first)
    deliver(second)  # the first is waiting to retry: the reply must not overtake it
    assert [r.state for r in rows("x")] == [DeliveryState.FAILED, DeliveryState.PENDING]
    assert len(x.received("POST", "/2/tweets")) == 1

    make_due(first)
    deliver(first)  # sent; it rings the second, which we run as its worker would
    deliver(second)
    assert [r.state for r in rows("x")] == [DeliveryState.SENT, DeliveryState.SENT]
    assert x.tweets[1]["in_reply_to"] == x.tweets[0]["id"]


def test_it_honours_the_rate_limit_reset_without_waiting(app, components, wired):
    x = wired["x"]
    channel = connect(wired, "x")["x"]
    reset = int(time.time()) + 600
    x.script(
        "POST",
        "/2/tweets",
        Reply(429, json={"title": "Too Many Requests"}, headers={"x-rate-limit-reset": str(reset)}),
    )
    incident = open_incident()
    started = time.monotonic()
    deliver(rows("x")[0])
    assert time.monotonic() - started < 5  # the worker slot was not held until the reset
    row = rows("x")[0]
    assert row.state == DeliveryState.FAILED
    assert int(row.next_attempt_at.timestamp()) == reset
    assert "429" in row.last_error
    db.session.expire_all()
    paused = db.session.get(Channel, channel.id).paused_until
    assert int(paused.timestamp()) == reset

    # Another incident's post waits for the reset too, without spending an attempt.
    open_incident(name="Second")
    other = rows("x")[1]
    deliver(other)
    other = rows("x")[1]
    assert (other.state, other.attempts) == (DeliveryState.PENDING, 0)
    assert int(other.next_attempt_at.timestamp()) == reset
    assert len(x.received("POST", "/2/tweets")) == 1
    assert incident.id


def test_a_refused_connection_is_retried(app, components, wired):
    connect(wired, "x")
    app.config["X_API_URL"] = "http://127.0.0.1:9"  # nothing listens there
    open_incident()
    deliver(rows("x")[0])
    row = rows("x")[0]
    assert row.state == DeliveryState.FAILED and "connection failed" in row.last_error
    assert row.next_attempt_at > now() - timedelta(seconds=1)


def test_wrong_keys_go_dead_at_once(app, components, wired):
    channel = connect(wired, "x")["x"]
    channel.secrets = {**channel.secrets, "access_token_secret": "wrong"}
    db.session.commit()
    open_incident()
    deliver(rows("x")[0])
    row = rows("x")[0]
    assert row.state == DeliveryState.DEAD
    assert "401" in row.last_error and "wrong" not in row.last_error
    assert wired["x"].tweets == []


def test_keys_and_tokens_never_reach_the_logs_even_at_debug(app, components, wired, caplog):
    caplog.set_level(logging.DEBUG)
    connect(wired, "x")
    open_incident()
    deliver(rows("x")[0])
    assert rows("x")[0].state == DeliveryState.SENT and len(wired["x"].tweets) == 1
    assert caplog.records  # the send was logged
    for value in x_fake.KEYS.values():
        assert value not in caplog.text
