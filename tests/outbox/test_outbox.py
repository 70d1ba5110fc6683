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


def test_backoff_grows_and_is_capped():
    assert outbox.backoff(1) <= timedelta(seconds=outbox.BACKOFF_BASE)
    assert timedelta(seconds=outbox.BACKOFF_BASE * 4) <= outbox.backoff(4)
    assert outbox.backoff(50) <= timedelta(seconds=outbox.BACKOFF_CAP)


def test_expired_leases_are_released_or_marked_uncertain(app, components):
    open_one("one")
    open_one("two")
    ids = db.session.scalars(select(Delivery.id).order_by(Delivery.id)).all()
    for row_id in ids:
        outbox.claim(row_id)
    assert outbox.expired_leases() == []
    db.session.execute(update(Delivery).values(leased_until=now() - timedelta(seconds=1)))
    db.session.commit()
    expired = outbox.expired_leases()
    assert sorted(d.id for d in expired) == ids
    safe, unsafe = expired if expired[0].id == ids[0] else expired[::-1]
    outbox.release([safe], safe_to_resend=True)
    outbox.release([unsafe], safe_to_resend=False)
    states = dict(db.session.execute(select(Delivery.id, Delivery.state)).all())
    assert states == {ids[0]: DeliveryState.PENDING, ids[1]: DeliveryState.UNCERTAIN}
    assert outbox.due_ids() == [ids[0]]
