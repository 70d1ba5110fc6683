"""Outbox mechanics on both databases: rollback, claims, retries, leases, the doorbell."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import redis
from sqlalchemy import func, select, update

from statuspage import outbox
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import Delivery, DeliveryState, Incident
from tests.conftest import REDIS_URL


def queued(app) -> int:
    """Doorbell messages waiting in this test's Redis queue."""
    return redis.Redis.from_url(REDIS_URL).llen(app.config["CELERY_QUEUE"])


def open_one(name: str = "Outage") -> Incident:
    return service.open_incident(actor=None, name=name, impact="minor", body="Looking")


def test_commit_rings_the_doorbell_once_per_row(app, components):
    open_one()
    assert queued(app) == 1


def test_rollback_leaves_no_rows_and_rings_nothing(app, components):
    with pytest.raises(ValidationError):
        service.open_incident(
            actor=None, name="x", impact="minor", body="y", components={"nope00000000": "x"}
        )
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert queued(app) == 0


def test_rows_written_then_rolled_back_ring_nothing(app, components):
    incident = open_one()
    assert queued(app) == 1
    from statuspage.incidents.service import _add_update

    _add_update(incident, "identified", "never committed", [], None, True)
    db.session.rollback()
    db.session.commit()
    assert queued(app) == 1
    assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1


def test_only_one_claim_wins(app, components):
    open_one()
    row_id = db.session.scalar(select(Delivery.id))
    first = outbox.claim(row_id)
    second = outbox.claim(row_id)
    assert first is not None and first.state == DeliveryState.SENDING
    assert first.attempts == 1
    assert second is None


def test_concurrent_claims_from_many_threads_have_one_winner(app, components):
    open_one()
    row_id = db.session.scalar(select(Delivery.id))
    winners: list[int] = []
    barrier = threading.Barrier(6)

    def contend() -> None:
        with app.app_context():
            barrier.wait()
            if outbox.claim(row_id) is not None:
                winners.append(row_id)
            db.session.remove()

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert winners == [row_id]


def test_a_row_not_yet_due_is_not_claimed(app, components):
    open_one()
    row_id = db.session.scalar(select(Delivery.id))
    db.session.execute(update(Delivery).values(next_attempt_at=now() + timedelta(minutes=5)))
    db.session.commit()
    assert outbox.claim(row_id) is None
    assert outbox.due_ids() == []


def test_claim_mailbox_takes_every_due_row_of_the_page(app, components):
    incident = open_one()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    claimed = outbox.claim_mailbox(outbox.PAGE_MAILBOX)
    assert len(claimed) == 2
    assert outbox.claim_mailbox(outbox.PAGE_MAILBOX) == []
    outbox.record_sent(claimed, external_id="snap-1")
    rows = db.session.scalars(select(Delivery)).all()
    assert {(r.state, r.external_id) for r in rows} == {(DeliveryState.SENT, "snap-1")}
    assert all(r.sent_at is not None and r.latency_seconds >= 0 for r in rows)


def test_failure_backs_off_then_goes_dead_with_the_error_kept(app, components):
    open_one()
    row_id = db.session.scalar(select(Delivery.id))
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        db.session.execute(update(Delivery).values(next_attempt_at=now()))
        db.session.commit()
        row = outbox.claim(row_id)
        assert row is not None and row.attempts == attempt
        state = outbox.schedule_retry([row], f"503 from far end (attempt {attempt})")
        row = db.session.get(Delivery, row_id, populate_existing=True)
        if attempt < outbox.MAX_ATTEMPTS:
            assert state == DeliveryState.FAILED
            assert row.next_attempt_at > now()
        else:
            assert state == DeliveryState.DEAD
    assert row.last_error == f"503 from far end (attempt {outbox.MAX_ATTEMPTS})"
    assert outbox.claim(row_id) is None


def test_retry_at_from_the_far_end_is_honoured(app, components):
    open_one()
    row = outbox.claim(db.session.scalar(select(Delivery.id)))
    reset = (now() + timedelta(seconds=90)).replace(microsecond=0)
    outbox.schedule_retry([row], "429", retry_at=reset)
    row = db.session.get(Delivery, row.id, populate_existing=True)
    assert (row.state, row.next_attempt_at) == (DeliveryState.FAILED, reset)


def test_permanent_errors_go_dead_at_once(app, components):
    open_one()
    row = outbox.claim(db.session.scalar(select(Delivery.id)))
    assert outbox.schedule_retry([row], "401 bad token", permanent=True) == DeliveryState.DEAD


def test_giving_up_after_an_unknown_outcome_leaves_the_row_uncertain(app, components):
    open_one()
    row = outbox.claim(db.session.scalar(select(Delivery.id)))
    db.session.execute(update(Delivery).values(attempts=outbox.MAX_ATTEMPTS))
    db.session.commit()
    row = db.session.get(Delivery, row.id, populate_existing=True)
    state = outbox.schedule_retry([row], "no answer after sending", unknown_outcome=True)
    assert state == DeliveryState.UNCERTAIN  # it may have arrived: not "dead"


def test_an_uncertain_row_is_looked_for_while_its_send_is_recent(app, components):
    open_one()
    row_id = db.session.scalar(select(Delivery.id))
    outbox.mark_started(outbox.claim(row_id), {"text": "Investigating: Outage"})
    outbox.mark_uncertain([db.session.get(Delivery, row_id)], "no answer")
    assert outbox.due_read_backs(["page"]) == []  # a new post takes a moment to show
    db.session.execute(update(Delivery).values(next_attempt_at=now()))
    db.session.commit()
    assert outbox.due_read_backs(["page"]) == [row_id]
    assert outbox.due_read_backs(["x"]) == []  # only for transports that can read back
    row = outbox.claim_read_back(row_id)
    assert row is not None and outbox.claim_read_back(row_id) is None  # one look at a time

    outbox.read_back_failed(row, "X server error 503")
    row = db.session.get(Delivery, row_id, populate_existing=True)
    assert row.state == DeliveryState.UNCERTAIN and "X server error 503" in row.last_error
    assert row.next_attempt_at >= now() + outbox.READ_BACK_DELAY - timedelta(seconds=1)
    long_ago = now() - outbox.READ_BACK_FOR - timedelta(minutes=1)
    db.session.execute(update(Delivery).values(next_attempt_at=now(), send_started_at=long_ago))
    db.session.commit()
    assert outbox.due_read_backs(["page"]) == []  # a day on, operators decide


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) <= timedelta(seconds=outbox.BACKOFF_BASE)
    assert timedelta(seconds=outbox.BACKOFF_BASE * 4) <= outbox.backoff(4)
    assert outbox.backoff(50) <= timedelta(seconds=outbox.BACKOFF_CAP)


def test_expired_leases_go_back_to_the_queue_unless_an_unrepeatable_send_began(app, components):
    for name in ("safe", "never started", "started"):
        open_one(name)
    ids = db.session.scalars(select(Delivery.id).order_by(Delivery.id)).all()
    claimed = [outbox.claim(row_id) for row_id in ids]
    outbox.mark_started(claimed[2], {"text": "Investigating: started"})
    assert outbox.expired_leases() == []
    db.session.execute(update(Delivery).values(leased_until=now() - timedelta(seconds=1)))
    db.session.commit()
    expired = {d.id: d for d in outbox.expired_leases()}
    assert sorted(expired) == ids
    outbox.release([expired[ids[0]]], safe_to_resend=True)
    outbox.release([expired[ids[1]]], safe_to_resend=False)  # claimed, never sent
    outbox.release([expired[ids[2]]], safe_to_resend=False)  # sent, answer unknown
    states = dict(db.session.execute(select(Delivery.id, Delivery.state)).all())
    assert states == {
        ids[0]: DeliveryState.PENDING,
        ids[1]: DeliveryState.PENDING,
        ids[2]: DeliveryState.UNCERTAIN,
    }
    assert outbox.due_read_backs(["page"]) == [ids[2]]  # looked for at once
    assert outbox.claim(ids[1]).send_started_at is None  # a new attempt starts afresh
