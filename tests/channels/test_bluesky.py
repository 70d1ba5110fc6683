"""Bluesky through the atproto SDK against a local PDS: one thread per incident with
root and parent refs, 300 graphemes with link facets, rate limits and repeated sends."""

from __future__ import annotations

import time

import pytest

from statuspage.incidents import service
from statuspage.messages import graphemes
from statuspage.models import Delivery, DeliveryState
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes.bluesky import CREATE
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply

LONG = "Logins fail for some customers 👩🏽‍💻 while we roll back a change. " * 20


def _ref(post: dict) -> tuple[str, str]:
    return post["uri"], post["cid"]


def _refs(post: dict) -> dict[str, tuple[str, str]]:
    reply = post["value"]["reply"]
    return {name: _ref(reply[name]) for name in ("root", "parent")}


def test_each_incident_is_one_thread_with_root_and_parent(app, components, wired):
    pds = wired["bluesky"]
    connect(wired, "bluesky")
    login = open_incident({components["API"]: "major_outage"}, body=LONG)
    search = open_incident(name="Slow search", body="Searching is slow.")
    for status in ("identified", "monitoring"):
        service.post_update(actor=None, incident_id=login.id, status=status, body=status)
    for row in rows("bluesky"):
        deliver(row)

    first, other, identified, monitoring = pds.posts
    assert "reply" not in first["value"] and "reply" not in other["value"]
    root = _ref(first)
    assert _refs(identified) == {"root": root, "parent": root}
    assert _refs(monitoring) == {"root": root, "parent": _ref(identified)}
    text = first["value"]["text"]
    assert graphemes(text) <= 300 and "…" in text
    assert "API (major outage)" in text and "Next update by" in text
    (facet,) = first["value"]["facets"]
    link = facet["features"][0]["uri"]
    assert link.endswith(f"/incidents/{login.id}#update-{rows('bluesky')[0].update_id}")
    assert text.encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]] == link.encode()
    assert first["value"]["langs"] == ["en"]
    sent = rows("bluesky")
    assert {r.state for r in sent} == {DeliveryState.SENT}
    assert sent[0].external_id == first["uri"]
    assert sent[0].external_url.startswith("https://bsky.app/profile/did:plc:")
    assert pds.logins == 1  # the session is kept, not a login per post
    assert search.id != login.id


def test_a_rate_limit_waits_for_its_reset(app, components, wired):
    pds = wired["bluesky"]
    connect(wired, "bluesky")
    reset = int(time.time()) + 90
    pds.script(
        "POST",
        CREATE,
        Reply(429, json={"error": "RateLimitExceeded"}, headers={"RateLimit-Reset": str(reset)}),
    )
    open_incident()
    deliver(rows("bluesky")[0])
    row = rows("bluesky")[0]
    assert row.state == DeliveryState.FAILED and "429" in row.last_error
    assert abs(row.next_attempt_at.timestamp() - reset) < 1
    assert pds.posts == []


def test_a_lost_answer_is_sent_again_and_posts_once(app, components, wired):
    pds = wired["bluesky"]
    connect(wired, "bluesky")
    pds.script("POST", CREATE, Reply(process=True, cut="connection"))
    incident = open_incident()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    first, later = rows("bluesky")
    deliver(first)
    first = rows("bluesky")[0]
    assert first.state == DeliveryState.FAILED and "no answer" in first.last_error
    make_due(first)
    deliver(first)
    deliver(later)
    assert len(pds.posts) == 2  # the first post was found by its record key, not made again
    first, later = rows("bluesky")
    assert first.external_id == pds.posts[0]["uri"]
    assert pds.posts[1]["value"]["reply"]["parent"]["uri"] == first.external_id


def _one_posted_one_waiting(wired) -> Delivery:
    """An incident's first post sent (so its login is kept) and its update's row waiting."""
    connect(wired, "bluesky")
    incident = open_incident()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    first, later = rows("bluesky")
    deliver(first)
    return later


@pytest.mark.parametrize("ended", ["InvalidToken", "ExpiredToken"])
def test_a_kept_session_the_server_ended_logs_in_again_and_posts(app, components, wired, ended):
    pds = wired["bluesky"]
    later = _one_posted_one_waiting(wired)
    pds.end_sessions(ended)  # revoked, or expired before the worker's clock says so
    deliver(later)
    first, later = rows("bluesky")
    assert (first.state, later.state) == (DeliveryState.SENT, DeliveryState.SENT), later.last_error
    assert later.attempts == 1  # the refused call was repeated within the one attempt
    assert pds.logins == 2
    assert [p["uri"] for p in pds.posts] == [first.external_id, later.external_id]
    assert pds.posts[1]["value"]["reply"]["parent"]["uri"] == first.external_id


def test_a_session_refused_right_after_a_fresh_login_is_not_retried_again(app, components, wired):
    pds = wired["bluesky"]
    later = _one_posted_one_waiting(wired)
    refused = Reply(401, json={"error": "InvalidToken", "message": "Token could not be verified"})
    pds.script("POST", CREATE, refused, refused)
    deliver(later)
    later = rows("bluesky")[1]
    assert later.state == DeliveryState.DEAD and "401" in later.last_error
    assert pds.logins == 2  # one login more, not one per refusal
    assert len(pds.received("POST", CREATE)) == 3 and len(pds.posts) == 1


def test_a_wrong_password_goes_dead_without_showing_it(app, components, wired):
    channel = connect(wired, "bluesky")["bluesky"]
    channel.secrets = {"app_password": "wrong-wrong-wrong"}
    from statuspage.extensions import db

    db.session.commit()
    open_incident()
    deliver(rows("bluesky")[0])
    row = rows("bluesky")[0]
    assert row.state == DeliveryState.DEAD and "401" in row.last_error
    assert "wrong-wrong" not in row.last_error


def test_the_sdk_never_reaches_a_private_address(app, components, wired):
    app.config["ALLOW_PRIVATE_WEBHOOKS"] = False
    connect(wired, "bluesky")
    open_incident()
    deliver(rows("bluesky")[0])
    row = rows("bluesky")[0]
    assert row.state == DeliveryState.DEAD and "non-public address" in row.last_error
    assert wired["bluesky"].received() == []
