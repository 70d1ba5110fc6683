"""Fan-out end to end with real ``celery worker`` processes on Redis, including workers
killed after the far end got the post but before the outcome was committed, and after a
claim but before the send."""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import psycopg
import pytest
from sqlalchemy import update

from statuspage import outbox
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import Delivery, DeliveryState, Subscriber, SubscriberKind
from statuspage.subscriptions import links
from tests.channels.helpers import open_incident, rows
from tests.conftest import wait_for
from tests.fakes.fixtures import RECEIVER_PATH, add_subscriber, connect
from tests.fakes.server import Reply
from tests.fakes.twilio import MESSAGES
from workers import tasks


def subscribed_in_one_batch(wired, monkeypatch, fake, kind, addresses) -> None:  # noqa: ANN001
    """``addresses`` subscribed by ``kind`` through ``fake``, all claimed in one batch."""
    monkeypatch.setitem(outbox.BATCH_SIZES, kind, 1000)
    connect(wired, fake)
    for address in addresses:
        add_subscriber(kind, address)


def all_done() -> bool:
    return all(r.state in (DeliveryState.SENT, DeliveryState.DEAD) for r in rows())


def test_every_channel_gets_every_update_in_order(app, components, wired, start_worker):
    connect(wired)
    for n in range(3):
        add_subscriber(SubscriberKind.EMAIL, f"reader{n}@example.net")
    wired["receiver"].secrets["/subscriber"] = "whsec_subscriber"
    add_subscriber(
        SubscriberKind.WEBHOOK, wired["receiver"].url + "/subscriber", secret="whsec_subscriber"
    )
    start_worker("a")
    start_worker("b")
    incident = open_incident({components["API"]: "major_outage"})
    for status in ("identified", "monitoring"):
        service.post_update(actor=None, incident_id=incident.id, status=status, body=status)
    wait_for(lambda: all_done(), timeout=120)

    assert {r.state for r in rows()} == {DeliveryState.SENT}
    x, mastodon, slack = wired["x"], wired["mastodon"], wired["slack"]
    assert [t["text"].split(":")[0] for t in x.tweets] == [
        "Investigating",
        "Identified",
        "Monitoring",
    ]
    assert [t["in_reply_to"] for t in x.tweets] == [None, x.tweets[0]["id"], x.tweets[1]["id"]]
    statuses = mastodon.statuses
    assert [s["in_reply_to_id"] for s in statuses] == [None, statuses[0]["id"], statuses[1]["id"]]
    assert [m["blocks"][0]["text"]["text"].split(":")[0] for m in slack.messages()] == [
        "Investigating",
        "Identified",
        "Monitoring",
    ]
    ops = [d["update"]["status"] for d in wired["receiver"].events(RECEIVER_PATH)]
    assert ops == ["investigating", "identified", "monitoring"]
    assert len(wired["receiver"].events("/subscriber")) == 3
    assert all(ok for _, ok in wired["receiver"].verified)
    assert len(wired["smtp"].mails) == 9


def test_a_worker_killed_between_send_and_commit(app, components, wired, start_worker):
    x, mastodon = wired["x"], wired["mastodon"]
    x_channel = connect(wired, "x")["x"]
    worker = start_worker("doomed")

    def kill() -> None:
        os.kill(worker.proc.pid, signal.SIGKILL)

    x.script("POST", "/2/tweets", Reply(process=True, before=kill))
    incident = open_incident()
    wait_for(lambda: x.tweets, timeout=60)
    worker.proc.wait(timeout=10)
    assert rows("x")[0].state == DeliveryState.SENDING  # X has the post; the ledger does not

    # The same on Mastodon, for another incident.
    x_channel.enabled = False
    db.session.commit()
    connect(wired, "mastodon")
    mastodon.script("POST", "/api/v1/statuses", Reply(process=True, before=kill))
    worker = start_worker("doomed-too")
    open_incident(name="Search is slow")
    wait_for(lambda: mastodon.statuses, timeout=60)
    worker.proc.wait(timeout=10)
    mastodon_row = rows("mastodon")[0]
    assert mastodon_row.state == DeliveryState.SENDING
    x_channel.enabled = True
    db.session.commit()

    # Leases run out; the sweep decides: X cannot dedupe, Mastodon can.
    db.session.execute(update(Delivery).values(leased_until=now() - timedelta(seconds=1)))
    db.session.commit()
    tasks.sweep_due()  # X's row becomes uncertain, and its read-back is due at once
    assert rows("x")[0].state == DeliveryState.UNCERTAIN
    assert "outcome unknown" in rows("x")[0].last_error

    start_worker("survivor")
    wait_for(lambda: rows("mastodon")[0].state == DeliveryState.SENT, timeout=60)
    posts = mastodon.received("POST", "/api/v1/statuses")
    assert len(posts) == 2 and {p.header("Idempotency-Key") for p in posts} == {
        mastodon_row.idempotency_key
    }
    assert len(mastodon.statuses) == 1
    assert rows("mastodon")[0].external_id == mastodon.statuses[0]["id"]

    # X's post is found among the account's own posts, and the thread goes on from it.
    wait_for(lambda: rows("x")[0].state == DeliveryState.SENT, timeout=60)
    (tweet,) = x.tweets
    assert rows("x")[0].external_id == tweet["id"]
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    wait_for(lambda: len(x.tweets) == 2, timeout=60)
    assert x.tweets[1]["in_reply_to"] == tweet["id"]
    assert len(x.received("POST", "/2/tweets")) == 2


# PostgreSQL only: a table lock is what holds the worker between claim and send, and SQLite
# never blocks a reader.
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_worker_killed_after_claiming_but_before_sending_leaves_a_post_sent_once(
    app, components, wired, start_worker
):
    x = wired["x"]
    connect(wired, "x")
    worker = start_worker("doomed")
    # The worker reads the thread's last post between its claim and its send: holding that
    # table holds the worker right there.
    with psycopg.connect(app.config["TEST_ENV"]["STATUSPAGE_DATABASE_URL"]) as lock:
        lock.execute("LOCK TABLE channel_thread IN ACCESS EXCLUSIVE MODE")
        open_incident()
        wait_for(lambda: rows("x")[0].state == DeliveryState.SENDING, timeout=60)
        os.kill(worker.proc.pid, signal.SIGKILL)
        worker.proc.wait(timeout=10)
        lock.rollback()
    row = rows("x")[0]
    assert (row.state, row.send_started_at) == (DeliveryState.SENDING, None)
    assert x.received() == []

    db.session.execute(update(Delivery).values(leased_until=now() - timedelta(seconds=1)))
    db.session.commit()
    tasks.sweep_due()  # never sent: back to the queue, not uncertain
    assert rows("x")[0].state == DeliveryState.PENDING
    start_worker("survivor")
    wait_for(lambda: rows("x")[0].state == DeliveryState.SENT, timeout=60)
    (tweet,) = x.tweets
    assert len(x.received("POST", "/2/tweets")) == 1
    assert (rows("x")[0].external_id, rows("x")[0].attempts) == (tweet["id"], 2)


def test_a_worker_killed_mid_mailing_loses_no_one_and_repeats_only_message_ids(
    app, components, wired, start_worker, monkeypatch
):
    smtp = wired["smtp"]
    addresses = [f"reader{n}@example.net" for n in range(6)]
    subscribed_in_one_batch(wired, monkeypatch, "smtp", SubscriberKind.EMAIL, addresses)
    worker = start_worker("doomed")

    def kill(mail) -> None:  # noqa: ANN001
        if len(smtp.mails) == 4:  # the fourth message is taken, its 250 never read
            os.kill(worker.proc.pid, signal.SIGKILL)

    smtp.on_mail = kill
    open_incident()
    worker.proc.wait(timeout=60)
    smtp.on_mail = None
    assert len(smtp.mails) == 4
    assert {r.state for r in rows("email")} == {DeliveryState.SENDING}  # none recorded yet

    db.session.execute(update(Delivery).values(leased_until=now() - timedelta(seconds=1)))
    db.session.commit()
    tasks.sweep_due()  # a resent email carries its Message-ID again: back to the queue
    assert {r.state for r in rows("email")} == {DeliveryState.PENDING}
    start_worker("survivor")
    wait_for(lambda: {r.state for r in rows("email")} == {DeliveryState.SENT}, timeout=60)

    by_address = {db.session.get(Subscriber, r.target_id).address: r for r in rows("email")}
    assert sorted(by_address) == addresses
    for address, row in by_address.items():
        mails = smtp.to(address)
        assert 1 <= len(mails) <= 2
        # A copy sent twice is one message to the reader's mail client.
        assert {m.message["Message-ID"] for m in mails} == {f"<{row.idempotency_key}@example.com>"}
        token = mails[0].message["List-Unsubscribe"].strip("<>").rsplit("/", 1)[-1]
        assert links.subscriber_for(token, links.MANAGE).address == address
        assert row.attempts == 2
    assert len(smtp.mails) == 4 + 6


def test_a_worker_killed_mid_texting_sends_no_text_twice(
    app, components, wired, start_worker, monkeypatch
):
    twilio = wired["twilio"]
    phones = [f"+44770090000{n}" for n in range(6)]
    subscribed_in_one_batch(wired, monkeypatch, "twilio", SubscriberKind.SMS, phones)
    worker = start_worker("doomed")
    # Twilio takes the third text; the worker dies before it reads the answer.
    twilio.script(
        "POST",
        MESSAGES,
        Reply(process=True),
        Reply(process=True),
        Reply(process=True, before=lambda: os.kill(worker.proc.pid, signal.SIGKILL)),
    )
    open_incident()
    worker.proc.wait(timeout=60)
    assert len(twilio.messages) == 3

    db.session.execute(update(Delivery).values(leased_until=now() - timedelta(seconds=1)))
    db.session.commit()
    tasks.sweep_due()
    start_worker("survivor")
    settled = {DeliveryState.SENT, DeliveryState.UNCERTAIN}
    wait_for(lambda: {r.state for r in rows("sms")} <= settled, timeout=60)

    assert sorted(m["to"] for m in twilio.messages) == phones  # each phone texted once
    states = {db.session.get(Subscriber, r.target_id).address: r.state for r in rows("sms")}
    third = twilio.messages[2]["to"]
    assert states.pop(third) == DeliveryState.UNCERTAIN  # taken, its answer never read
    assert set(states.values()) == {DeliveryState.SENT}
