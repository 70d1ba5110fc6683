"""Webhooks: signed JSON to an operator endpoint and to webhook subscribers in batches."""

from __future__ import annotations

import json

from sqlalchemy import select

from statuspage import outbox
from statuspage.extensions import db
from statuspage.lib.crypto import verify_webhook_signature
from statuspage.models import DeliveryState, Subscriber, SubscriberKind
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import RECEIVER_PATH, RECEIVER_SECRET, add_subscriber, connect
from tests.fakes.server import Reply


def test_it_sends_a_signed_document_with_a_delivery_id(app, components, wired):
    receiver = wired["receiver"]
    connect(wired, "webhook")
    incident = open_incident({components["API"]: "degraded_performance"})
    deliver(rows("webhook")[0])
    (request,) = receiver.received("POST", RECEIVER_PATH)
    row = rows("webhook")[0]
    assert row.state == DeliveryState.SENT
    assert receiver.verified == [(RECEIVER_PATH, True)]
    assert verify_webhook_signature(
        RECEIVER_SECRET, request.header("X-Statuspage-Signature"), request.body
    )
    assert not verify_webhook_signature(
        "another secret", request.header("X-Statuspage-Signature"), request.body
    )
    assert request.header("X-Statuspage-Delivery") == row.idempotency_key
    doc = request.json
    assert doc["id"] == row.idempotency_key and doc["type"] == "incident.update"
    assert doc["incident"]["id"] == incident.id and doc["incident"]["impact"] == "major"
    assert doc["update"]["status"] == "investigating"
    assert doc["update"]["next_update_due"].endswith("+00:00")
    assert doc["component_changes"] == [
        {
            "id": components["API"],
            "name": "Platform - API",
            "old_status": "operational",
            "new_status": "degraded_performance",
        }
    ]


def test_webhook_subscribers_get_their_own_signature_in_batches(
    app, components, wired, monkeypatch
):
    receiver = wired["receiver"]
    monkeypatch.setitem(outbox.BATCH_SIZES, SubscriberKind.WEBHOOK, 2)
    base = receiver.url
    for n in range(5):
        receiver.secrets[f"/sub/{n}"] = f"whsec_{n}"
        add_subscriber(SubscriberKind.WEBHOOK, f"{base}/sub/{n}", secret=f"whsec_{n}")
    add_subscriber(SubscriberKind.WEBHOOK, f"{base}/sub/unconfirmed", confirmed=False)
    receiver.script("POST", "/sub/3", Reply(503, body=b"busy"))
    open_incident()
    subscriber_rows = rows("webhook")
    assert len(subscriber_rows) == 5
    assert len({r.mailbox for r in subscriber_rows}) == 3  # ids 1..5 in batches of two
    for mailbox in sorted({r.mailbox for r in subscriber_rows}):
        deliver(next(r for r in subscriber_rows if r.mailbox == mailbox))
    states = {r.target_id: r.state for r in rows("webhook")}
    assert sorted(states.values()).count(DeliveryState.SENT) == 4
    assert DeliveryState.FAILED in states.values()
    assert all(ok for path, ok in receiver.verified if path != "/sub/3")
    docs = [json.loads(r.body) for r in receiver.received("POST") if r.path != "/sub/3"]
    assert len({d["id"] for d in docs}) == 4  # each subscriber its own delivery id
    assert all(d["meta"]["unsubscribe"].startswith("http://status.test/unsubscribe/") for d in docs)
    assert not receiver.received("POST", "/sub/unconfirmed")


def test_a_subscriber_endpoint_that_answers_gone_is_unsubscribed(app, components, wired):
    receiver = wired["receiver"]
    for name in ("kept", "gone"):
        receiver.secrets[f"/sub/{name}"] = f"whsec_{name}"
        add_subscriber(SubscriberKind.WEBHOOK, f"{receiver.url}/sub/{name}", secret=f"whsec_{name}")
    receiver.script("POST", "/sub/gone", Reply(410, body=b"no such hook"))
    open_incident()
    deliver(rows("webhook")[0])
    by_state = {r.state: r for r in rows("webhook")}
    assert set(by_state) == {DeliveryState.SENT, DeliveryState.DEAD}
    assert by_state[DeliveryState.DEAD].last_error.endswith("subscription removed")
    remaining = db.session.scalars(select(Subscriber.address)).all()
    assert remaining == [f"{receiver.url}/sub/kept"]
    # The next update goes to the endpoint that is still there, and only to it.
    open_incident()
    assert len(rows("webhook")) == 3
    assert len(receiver.received("POST", "/sub/gone")) == 1


def test_private_addresses_are_refused_unless_allowed(app, components, wired):
    app.config["ALLOW_PRIVATE_WEBHOOKS"] = False
    connect(wired, "webhook")
    open_incident()
    deliver(rows("webhook")[0])
    row = rows("webhook")[0]
    assert row.state == DeliveryState.DEAD
    assert row.last_error.startswith("refused: 127.0.0.1 resolves to a non-public address")
    assert wired["receiver"].received() == []
    db.session.rollback()
