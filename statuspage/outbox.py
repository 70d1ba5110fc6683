"""The transactional outbox: the table is the queue, the broker only a doorbell.

Rows are written in the operator's transaction; after it commits the doorbell enqueues
``workers.tasks.deliver`` by name. If the broker is down the rows wait, and the beat sweep
rings again: a broker outage costs latency, never a message.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Update,
    any_,
    event,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.lib.links import web_url
from statuspage.models import (
    BatchRow,
    Channel,
    Delivery,
    DeliveryState,
    IncidentUpdate,
    SubscriberKind,
    TargetKind,
)
from statuspage.models.channels import SUBSCRIBER_KINDS
from statuspage.models.delivery import PAGE_TARGET_ID
from statuspage.models.subscribers import fanout_select
from statuspage.subscriptions.sms_rules import texted

log = logging.getLogger(__name__)

DELIVER_TASK = "workers.tasks.deliver"
READ_BACK_TASK = "workers.tasks.read_back"
PAGE_MAILBOX = "page"
MAX_ATTEMPTS = 8
MAX_AGE = timedelta(hours=6)
LEASE = timedelta(seconds=120)
RING_GRACE = timedelta(seconds=30)  # how long a rung row may wait in a busy queue
BACKOFF_BASE = 5.0
BACKOFF_CAP = 15 * 60.0
# An uncertain post is first looked for this long after its send began (a new post takes a
# moment to show among the account's posts), then at growing intervals for READ_BACK_FOR.
READ_BACK_DELAY = timedelta(seconds=15)
READ_BACK_FOR = timedelta(hours=24)
_RING_KEY = "statuspage.outbox.ring"
RETRYABLE = (DeliveryState.PENDING, DeliveryState.FAILED)
# Rows that still hold their place in a mailbox: later rows of it wait for them. An
# uncertain row holds it until it is settled (found, or known absent and sent), so the next
# post of a thread never replies past a post that may exist. A dead row does not: it was
# refused or never got through, and the next post replies to the last post that exists.
UNFINISHED = (
    DeliveryState.PENDING,
    DeliveryState.SENDING,
    DeliveryState.FAILED,
    DeliveryState.UNCERTAIN,
)
# Subscriber rows are sent in batches of this many per task (one SMTP connection each).
# Webhooks first: their batches are fewer and quick, so they are not queued behind mail.
# Texts go one API call each, so their batches are small.
BATCH_SIZES = {
    SubscriberKind.WEBHOOK: 100,
    SubscriberKind.SLACK: 100,
    SubscriberKind.EMAIL: 500,
    SubscriberKind.SMS: 100,
}


def create_deliveries(update_row: IncidentUpdate) -> list[Delivery]:
    """Insert one outbox row per target of ``update_row`` in the current transaction.

    The page always; with ``deliver_notifications`` also every announcing channel, or those
    the operator chose for the update (one
    mailbox per channel and incident, so its posts go out in order and thread) and every
    confirmed subscriber following an affected component. Subscriber rows are inserted by
    one INSERT … SELECT and grouped into batch mailboxes; the doorbell rings once per
    mailbox, and each row keeps its own state in the ledger.
    """
    at = update_row.created_at
    chosen = update_row.notify_channel_ids  # None: every announcing channel
    rows = [
        Delivery(
            update_id=update_row.id,
            target_kind=TargetKind.PAGE,
            target_id=PAGE_TARGET_ID,
            mailbox=PAGE_MAILBOX,
            transport="page",
            created_at=at,
            next_attempt_at=at,
        )
    ]
    rows.extend(_publish_target_rows(update_row))
    if update_row.deliver_notifications:
        rows.extend(
            Delivery(
                update_id=update_row.id,
                target_kind=TargetKind.CHANNEL,
                target_id=channel.id,
                channel_id=channel.id,
                transport=channel.kind,
                mailbox=f"{channel.kind}:{channel.id}:{update_row.incident_id}",
                created_at=at,
                next_attempt_at=at,
            )
            for channel in Channel.announcing()
            if channel.kind not in SUBSCRIBER_KINDS  # they carry subscriber mail and texts
            and (chosen is None or channel.id in chosen)
        )
    db.session.add_all(rows)
    db.session.flush()
    ring_ids = [row.id for row in rows]
    if update_row.deliver_notifications:
        ring_ids.extend(_add_subscriber_rows(update_row))
    queue_after_commit(ring_ids)
    return rows


def _publish_target_rows(update_row: IncidentUpdate) -> list[Delivery]:
    """One row per bucket the site is published to, whether or not the update notifies:
    the page is public either way. Each bucket is its own coalescing mailbox."""
    from statuspage.publishing import targets

    at = update_row.created_at
    found = []
    for target in targets.enabled():
        by_settings = target.channel_id is None
        found.append(
            Delivery(
                update_id=update_row.id,
                target_kind=TargetKind.PAGE if by_settings else TargetKind.CHANNEL,
                target_id=targets.SETTINGS_TARGET_ID if by_settings else target.channel_id,
                channel_id=target.channel_id,
                mailbox=target.mailbox,
                transport="s3",
                created_at=at,
                next_attempt_at=at,
            )
        )
    return found


def _add_subscriber_rows(update_row: IncidentUpdate) -> list[int]:
    """Insert the subscriber rows; return one row id per batch mailbox to ring. Phones
    hear only of an incident opening and resolving and of maintenance starting."""
    carriers = {SubscriberKind.EMAIL: Channel.smtp(), SubscriberKind.SMS: Channel.twilio()}
    for kind, size in BATCH_SIZES.items():
        if kind == SubscriberKind.SMS and not texted(update_row):
            continue
        carrier = carriers.get(kind)
        channel_id = carrier.id if carrier is not None else None
        query = fanout_select(update_row, kind, size, channel_id)
        db.session.execute(insert(Delivery).from_select(query.selected_columns.keys(), query))
    return list(
        db.session.scalars(
            select(func.min(Delivery.id))
            .where(
                Delivery.update_id == update_row.id,
                Delivery.target_kind == TargetKind.SUBSCRIBER,
            )
            .group_by(Delivery.mailbox)
            .order_by(func.min(Delivery.id))
        )
    )


def queue_after_commit(delivery_ids: Iterable[int]) -> None:
    """Ring the doorbell for these rows once the current transaction commits."""
    db.session.info.setdefault(_RING_KEY, []).extend(delivery_ids)


def ring(delivery_ids: Iterable[int], task: str = DELIVER_TASK) -> None:
    """Enqueue delivery tasks; failures are logged, the sweep will ring again."""
    celery = current_app.extensions["celery"]
    for delivery_id in delivery_ids:
        try:
            celery.send_task(task, args=[delivery_id])
        except Exception as exc:  # any broker failure: the row is safe in the table
            log.warning(
                "doorbell for delivery %s not sent (%s); the sweep will retry",
                delivery_id,
                type(exc).__name__,
            )


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    ids = session.info.pop(_RING_KEY, None)
    if ids:
        ring(ids)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_RING_KEY, None)


def _claim_where(at: datetime) -> list:
    return [Delivery.state.in_(RETRYABLE), Delivery.next_attempt_at <= at]


def _is_mailbox_head() -> object:
    """No earlier row of the same mailbox is still unfinished: replies never overtake."""
    earlier = aliased(Delivery)
    return ~exists().where(
        earlier.mailbox == Delivery.mailbox,
        earlier.id < Delivery.id,
        earlier.state.in_(UNFINISHED),
    )


def claim(delivery_id: int, *, in_order: bool = False) -> Delivery | None:
    """Take one due row for sending. Exactly one concurrent caller gets it; with
    ``in_order`` only while no earlier row of its mailbox is unfinished."""
    at = now()
    conditions = _claim_where(at)
    if in_order:
        conditions.append(_is_mailbox_head())
    return _take(
        delivery_id,
        conditions,
        state=DeliveryState.SENDING,
        attempts=Delivery.attempts + 1,
        leased_until=at + LEASE,
        send_started_at=None,
        attempt=None,
    )


def _take(delivery_id: int, where: list, **values: Any) -> Delivery | None:
    """Update one row if it still matches ``where``, commit, and load it if it did: the
    condition and the change are one statement, so one concurrent caller wins."""
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if result.rowcount != 1:
        return None
    return db.session.get(Delivery, delivery_id, populate_existing=True)


def _leasing(at: datetime, *where: ColumnElement[bool]) -> Update:
    """The UPDATE marking the due rows matching ``where`` as sending under a lease. The
    state check repeats in it, so a row is claimed once."""
    return (
        update(Delivery)
        .where(*where, *_claim_where(at))
        .values(
            state=DeliveryState.SENDING,
            attempts=Delivery.attempts + 1,
            leased_until=at + LEASE,
            send_started_at=None,
            attempt=None,
        )
        .execution_options(synchronize_session=False)
    )


def _lease(at: datetime, *where: ColumnElement[bool]) -> list[Delivery]:
    """Lease the due rows matching ``where``, commit, and load them in id order."""
    ids = db.session.scalars(_leasing(at, *where).returning(Delivery.id)).all()
    db.session.commit()
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
            .execution_options(populate_existing=True)
        )
    )


def claim_mailbox(mailbox: str, *, before: int | None = None) -> list[Delivery]:
    """Take every due row of a coalescing mailbox (the page, a bucket): one send covers
    them all; with ``before`` only rows older than that row id."""
    where = [Delivery.mailbox == mailbox]
    if before is not None:
        where.append(Delivery.id < before)
    return _lease(now(), *where)


def first_unfinished_page_row() -> int | None:
    """The oldest page row not yet done: rows written before it (a bucket's) are held in
    the snapshot being served, those after it may not be yet."""
    return db.session.scalar(
        select(func.min(Delivery.id)).where(
            Delivery.mailbox == PAGE_MAILBOX, Delivery.state.in_(UNFINISHED)
        )
    )


def due_publish_targets() -> list[int]:
    """One due row per bucket mailbox, to ring as soon as the page is published."""
    ids = list(
        db.session.scalars(
            select(func.min(Delivery.id))
            .where(Delivery.transport == "s3", *_claim_where(now()))
            .group_by(Delivery.mailbox)
        )
    )
    db.session.commit()
    return ids


def claim_batch(mailbox: str, limit: int) -> list[BatchRow]:
    """Take up to ``limit`` due rows of a batch mailbox, in id order, in one statement
    that also returns what the sender needs. On PostgreSQL rows locked by a concurrent
    claimer are skipped rather than waited for (``FOR UPDATE SKIP LOCKED``)."""
    at = now()
    candidates = (
        select(Delivery.id)
        .where(Delivery.mailbox == mailbox, *_claim_where(at))
        .order_by(Delivery.id)
        .limit(limit)
    )
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    leasing = _leasing(at, Delivery.id.in_(candidates.scalar_subquery()))
    columns = [getattr(Delivery, name) for name in BatchRow._fields]
    rows = db.session.execute(leasing.returning(*columns)).all()
    db.session.commit()
    return sorted((BatchRow(*row) for row in rows), key=lambda row: row.id)


def next_in_mailbox(mailbox: str) -> int | None:
    """The row whose turn comes next in an ordered mailbox, to ring as soon as the head
    is done (the sweep would find it too, seconds later)."""
    return db.session.scalar(
        select(func.min(Delivery.id)).where(
            Delivery.mailbox == mailbox, Delivery.state.in_(RETRYABLE)
        )
    )


def defer(mailbox: str, until: datetime) -> None:
    """Hold a mailbox's waiting rows back without spending an attempt (the channel's
    circuit is open, or it asked us to wait)."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.mailbox == mailbox, Delivery.state.in_(RETRYABLE))
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def mark_started(delivery: Delivery, attempt: dict[str, Any] | None = None) -> None:
    """Commit, just before the network call, that this send begins (and what it carries,
    for a read-back): a worker that dies before this leaves a row that is safe to send."""
    delivery.send_started_at = now()
    delivery.attempt = attempt
    db.session.commit()


def mark_row_started(row: BatchRow) -> None:
    """``mark_started`` for one row of a batch whose far end takes no idempotency key."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == row.id)
        .values(send_started_at=now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def started_among(deliveries: Sequence[Delivery | BatchRow]) -> set[int]:
    """Ids of these rows whose send had begun, as committed (a batch row's own copy
    does not see ``mark_row_started``)."""
    return set(
        db.session.scalars(
            select(Delivery.id).where(_among(deliveries), Delivery.send_started_at.is_not(None))
        )
    )


def _among(deliveries: Sequence[Delivery | BatchRow]) -> ColumnElement[bool]:
    """These rows by id. On PostgreSQL one array parameter (``= ANY``) instead of one per
    id: the statement's text is then the same for any count, and psycopg does not parse a
    new text of hundreds of placeholders for each batch's outcomes."""
    ids = [d.id for d in deliveries]
    if db.engine.dialect.name == "postgresql":
        return Delivery.id == any_(literal(ids, ARRAY(Integer)))
    return Delivery.id.in_(ids)


def record_sent(
    deliveries: Sequence[Delivery | BatchRow],
    external_id: str | None = None,
    external_url: str | None = None,
    *,
    settling: bool = False,
) -> None:
    """Commit the outcome at once: after this, the row is never sent again. A link the far
    end answered with is kept only if it is http(s). ``settling``: an uncertain row was
    found among the account's posts; it was sent when its send began."""
    was = DeliveryState.UNCERTAIN if settling else DeliveryState.SENDING
    db.session.execute(
        update(Delivery)
        .where(_among(deliveries), Delivery.state == was)
        .values(
            state=DeliveryState.SENT,
            sent_at=Delivery.send_started_at if settling else now(),
            leased_until=None,
            external_id=external_id,
            external_url=web_url(external_url),
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def backoff(attempts: int) -> timedelta:
    """Capped exponential backoff with full jitter, so retries of many rows spread out."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(attempts - 1, 0))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def schedule_retry(
    deliveries: Sequence[Delivery | BatchRow],
    error: str,
    *,
    permanent: bool = False,
    retry_at: datetime | None = None,
    unknown_outcome: bool = False,
) -> DeliveryState:
    """Record a failed attempt: retry later, or give up with the error kept: to ``dead``,
    or to ``uncertain`` when the last attempt may have arrived (``unknown_outcome``)."""
    at = now()
    first = deliveries[0]
    too_old = at - first.created_at > MAX_AGE
    if permanent or first.attempts >= MAX_ATTEMPTS or too_old:
        state = DeliveryState.UNCERTAIN if unknown_outcome else DeliveryState.DEAD
        next_at = first.next_attempt_at
    else:
        state, next_at = DeliveryState.FAILED, retry_at or at + backoff(first.attempts)
    db.session.execute(
        update(Delivery)
        .where(_among(deliveries), Delivery.state == DeliveryState.SENDING)
        .values(state=state, next_attempt_at=next_at, leased_until=None, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return state


def mark_uncertain(deliveries: Sequence[Delivery | BatchRow], error: str) -> None:
    """The request went out and no whole answer came back, on a channel that cannot dedupe:
    the account's posts are read back once the post would show (``due_read_backs``)."""
    db.session.execute(
        update(Delivery)
        .where(_among(deliveries), Delivery.state == DeliveryState.SENDING)
        .values(
            state=DeliveryState.UNCERTAIN,
            leased_until=None,
            next_attempt_at=now() + READ_BACK_DELAY,
            last_error=error[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def due_ids(limit: int = 500, waiting_longer_than: timedelta | None = None) -> list[int]:
    """One due row per mailbox whose turn has come (the doorbell was lost, or a retry is
    due): a task takes a whole batch or the head of an ordered mailbox, so ringing every
    row of a 500-row batch would only queue 499 no-ops."""
    query = (
        select(func.min(Delivery.id))
        .where(*_claim_where(now() - (waiting_longer_than or timedelta(0))))
        .group_by(Delivery.mailbox)
        .order_by(func.min(Delivery.next_attempt_at))
        .limit(limit)
    )
    ids = list(db.session.scalars(query))
    db.session.commit()
    return ids


def expired_leases(limit: int = 500) -> list[Delivery]:
    """Rows left in ``sending`` by a worker that died; the caller decides their fate."""
    return list(
        db.session.scalars(
            select(Delivery)
            .where(
                Delivery.state == DeliveryState.SENDING,
                or_(Delivery.leased_until.is_(None), Delivery.leased_until < now()),
            )
            .limit(limit)
        )
    )


def release(deliveries: Sequence[Delivery], *, safe_to_resend: bool) -> None:
    """Return expired rows to the queue: all those whose send never began, and the others
    where a resend cannot duplicate; the rest become ``uncertain`` and are read back."""
    if not deliveries:
        return
    ids = [d.id for d in deliveries]
    held = [Delivery.id.in_(ids), Delivery.state == DeliveryState.SENDING]
    resend = held if safe_to_resend else [*held, Delivery.send_started_at.is_(None)]
    db.session.execute(
        update(Delivery)
        .where(*resend)
        .values(state=DeliveryState.PENDING, leased_until=None)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Delivery)
        .where(*held)
        .values(
            state=DeliveryState.UNCERTAIN,
            leased_until=None,
            next_attempt_at=now(),  # it began a lease ago: due for a read-back at once
            last_error="worker stopped while sending; outcome unknown",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _read_back_where(at: datetime) -> list[ColumnElement[bool]]:
    """Uncertain rows due to be looked for: their send began (rows from before this was
    recorded are left to operators) within ``READ_BACK_FOR``."""
    return [
        Delivery.state == DeliveryState.UNCERTAIN,
        Delivery.next_attempt_at <= at,
        Delivery.send_started_at > at - READ_BACK_FOR,
    ]


def due_read_backs(transports: Sequence[str], limit: int = 100) -> list[int]:
    """Uncertain rows of these transports (those that can read an account back) whose
    look is due."""
    ids = list(
        db.session.scalars(
            select(Delivery.id)
            .where(Delivery.transport.in_(transports), *_read_back_where(now()))
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
        )
    )
    db.session.commit()
    return ids


def claim_read_back(delivery_id: int) -> Delivery | None:
    """Take an uncertain row to look for its post; one caller wins, and the row is not
    due again for a lease, so a look that dies is simply made again later."""
    at = now()
    return _take(delivery_id, _read_back_where(at), next_attempt_at=at + LEASE)


def settle_absent(delivery: Delivery) -> None:
    """The account's posts were read and the post is not among them: send it again."""
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.state == DeliveryState.UNCERTAIN)
        .values(
            state=DeliveryState.PENDING,
            next_attempt_at=now(),
            last_error="not found among the account's posts after an unknown outcome; sent again",
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def read_back_failed(delivery: Delivery, error: str, retry_at: datetime | None = None) -> None:
    """The account's posts could not be read: the row stays uncertain and is looked for
    again later (at the time the far end named, or after as long as it has waited)."""
    at = now()
    waited = at - (delivery.send_started_at or at)
    wait = min(max(waited, READ_BACK_DELAY), timedelta(seconds=BACKOFF_CAP))
    db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.state == DeliveryState.UNCERTAIN)
        .values(
            next_attempt_at=retry_at or at + wait,
            last_error=f"outcome unknown, and reading the account's posts back failed "
            f"({error}); it is looked for again later, or an operator may resend it"[:2000],
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


RETRIABLE_BY_OPERATOR = (DeliveryState.DEAD, DeliveryState.UNCERTAIN)


def retry(delivery_id: int) -> bool:
    """Put a dead or uncertain row back in the queue at an operator's request.

    Runs in the caller's transaction (so the audit event commits with it) and rings the
    doorbell after commit. Returns False when the row is not in a state to retry.
    """
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.state.in_(RETRIABLE_BY_OPERATOR))
        .values(state=DeliveryState.PENDING, next_attempt_at=now(), leased_until=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.info.setdefault(_RING_KEY, []).append(delivery_id)
    return True
