"""Mastodon through Mastodon.py against a local instance: threads, limits, idempotency."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from sqlalchemy import update

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.messages import mastodon_length
from statuspage.models import Channel, Delivery, DeliveryState, InboxItem, ItemKind
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply
from tests.signin import sign_in

LONG = "Logins fail for some customers while we roll back a change. " * 10


def test_it_threads_with_the_instance_limit_and_the_delivery_key(app, components, wired):
    fake = wired["mastodon"]
    fake.max_characters = 200
    connect(wired, "mastodon")
    incident = open_incident({components["API"]: "partial_outage"}, body=LONG)
    service.post_update(actor=None, incident_id=incident.id, status="monitoring", body="Better")
    for row in rows("mastodon"):
        deliver(row)

    first, second = fake.statuses
    assert (first["in_reply_to_id"], second["in_reply_to_id"]) == (None, first["id"])
    assert mastodon_length(first["content"]) <= 200
    assert first["content"].endswith(f"#update-{incident.updates[-1].id}")
    assert "API (partial outage)" in first["content"] and "…" in first["content"]
    assert {s["visibility"] for s in fake.statuses} == {"unlisted"}
    assert {s["language"] for s in fake.statuses} == {"en"}
    sent = rows("mastodon")
    posts = fake.received("POST", "/api/v1/statuses")
    assert [p.header("Idempotency-Key") for p in posts] == [r.idempotency_key for r in sent]
    assert [r.external_id for r in sent] == [first["id"], second["id"]]
    # The limit came from the instance before the first post; the second one read it from
    # the channel row.
    reads = fake.received("GET", "/api/v2/instance/")
    assert reads and max(r.at for r in reads) < posts[0].at
    assert db.session.scalar(db.select(Channel.post_limit)) == 200


def test_a_timeout_is_resent_with_the_same_key_and_posts_once(app, components, wired):
    fake = wired["mastodon"]
    connect(wired, "mastodon")
    fake.script("POST", "/api/v1/statuses", Reply(delay=3, process=True))
    open_incident()
    row = rows("mastodon")[0]
    deliver(row)
    row = rows("mastodon")[0]
    assert row.state == DeliveryState.FAILED and "timed out" in row.last_error
    make_due(row)
    deliver(row)
    row = rows("mastodon")[0]
    assert row.state == DeliveryState.SENT
    posts = fake.received("POST", "/api/v1/statuses")
    assert len(posts) == 2 and len({p.header("Idempotency-Key") for p in posts}) == 1
    assert len(fake.statuses) == 1 and row.external_id == fake.statuses[0]["id"]


@pytest.mark.parametrize("cut", ["connection", "body"])
def test_a_cut_answer_is_resent_with_the_same_key_and_the_thread_goes_on(
    app, components, wired, cut
):
    fake = wired["mastodon"]
    connect(wired, "mastodon")
    # The status is made, then the answer is cut mid-body (or arrives as half a document).
    fake.script("POST", "/api/v1/statuses", Reply(process=True, cut=cut))
    incident = open_incident()
    deliver(rows("mastodon")[0])
    row = rows("mastodon")[0]
    assert row.state == DeliveryState.FAILED and "Mastodon" in row.last_error
    assert len(fake.statuses) == 1
    make_due(row)
    deliver(row)
    row = rows("mastodon")[0]
    posts = fake.received("POST", "/api/v1/statuses")
    assert len(posts) == 2 and {p.header("Idempotency-Key") for p in posts} == {row.idempotency_key}
    assert len(fake.statuses) == 1
    assert (row.state, row.external_id) == (DeliveryState.SENT, fake.statuses[0]["id"])

    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    deliver(rows("mastodon")[1])
    assert [s["in_reply_to_id"] for s in fake.statuses] == [None, fake.statuses[0]["id"]]


def test_it_honours_x_ratelimit_reset(app, components, wired):
    fake = wired["mastodon"]
    connect(wired, "mastodon")
    reset = int(time.time()) + 300
    fake.script(
        "POST",
        "/api/v1/statuses",
        Reply(
            429,
            json={"error": "Too many requests"},
            headers={
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": formatdate(reset, usegmt=True),
                "Date": formatdate(usegmt=True),
            },
        ),
    )
    open_incident()
    deliver(rows("mastodon")[0])
    row = rows("mastodon")[0]
    assert row.state == DeliveryState.FAILED and "429" in row.last_error
    assert abs(row.next_attempt_at.timestamp() - reset) <= 2
    assert fake.statuses == []


def test_a_server_error_is_retried_later(app, components, wired):
    fake = wired["mastodon"]
    connect(wired, "mastodon")
    fake.script("POST", "/api/v1/statuses", Reply(503, json={"error": "down"}))
    open_incident()
    deliver(rows("mastodon")[0])
    row = rows("mastodon")[0]
    assert row.state == DeliveryState.FAILED and "503" in row.last_error
    make_due(row)
    deliver(row)
    assert rows("mastodon")[0].state == DeliveryState.SENT and len(fake.statuses) == 1


def test_a_post_link_that_is_not_http_is_neither_stored_nor_shown_as_a_link(
    app, client, cast, components, wired
):
    fake = wired["mastodon"]
    fake.status_link = "javascript:alert(1)"  # the instance answers whatever it likes
    connect(wired, "mastodon")
    incident = open_incident()
    deliver(rows("mastodon")[0])
    fake.status_link = None
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    deliver(rows("mastodon")[1])
    hostile, plain = rows("mastodon")
    assert hostile.state == DeliveryState.SENT and hostile.external_id == fake.statuses[0]["id"]
    assert hostile.external_url is None
    assert plain.external_url == fake.statuses[1]["url"]

    # A link stored by an older version, or heard from a customer, renders as no link.
    db.session.execute(
        update(Delivery).where(Delivery.id == hostile.id).values(external_url="javascript:a(1)")
    )
    item = InboxItem(
        kind=ItemKind.MASTODON,
        source="mentions",
        external_id="1",
        text="Is the API down?",
        url="JavaScript:alert(2)",
        posted_at=now(),
    )
    db.session.add(item)
    db.session.commit()
    sign_in(client, "rob@example.com")
    ledger = client.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "javascript:" not in ledger.lower()
    assert f"<code>{hostile.external_id}</code>" in ledger  # the id is still shown, as text
    assert f'href="{plain.external_url}"' in ledger  # an http(s) link stays a link
    inbox = client.get(f"/admin/inbox/{item.id}").get_data(as_text=True)
    assert "javascript:" not in inbox.lower() and "Is the API down?" in inbox
