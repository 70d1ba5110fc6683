"""Celery tasks. They take ids, claim work from the outbox table and record outcomes;
channel specifics live in ``workers.channels``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from celery import shared_task
from flask import current_app

from statuspage import outbox
from statuspage.extensions import db
from statuspage.incidents import cadence, maintenance
from statuspage.incidents import republish as page_changes
from statuspage.lib.clock import now
from statuspage.listening import replies
from statuspage.messages import build_facts
from statuspage.models import (
    BatchRow,
    Channel,
    ChannelThread,
    Delivery,
    IncidentUpdate,
    OperatorAlert,
    TargetKind,
)
from statuspage.publishing import targets
from statuspage.publishing.cleanup import clean_up
from statuspage.publishing.snapshot import publish
from statuspage.subscriptions import service as subscriptions
from statuspage.upstreams import poll as upstream_poll
from workers.channels import breaker, get_transport, reading_back, transport_for
from workers.channels.base import DeliveryError, SendResult, Transport
from workers.channels.bucket import mirror as mirror_to
from workers.listening import run as listening

log = logging.getLogger(__name__)
BATCH_LIMIT = 1000  # at least the largest batch mailbox (outbox.BATCH_SIZES)
RECORD_EVERY = 2.0  # seconds: the ledger shows a slow batch's progress at least this often
MIRROR_TASK = "workers.tasks.mirror_buckets"


@shared_task(name="workers.tasks.deliver", acks_late=True)
def deliver(delivery_id: int) -> None:
    """Send one outbox row: the page's whole due mailbox, a subscriber batch, or the head
    of an ordered (channel, incident) mailbox. A paused channel defers its rows."""
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        return
    transport = get_transport(row)
    if transport.coalesce:
        _deliver_coalesced(row, transport)
        return
    paused = breaker.open_until(row.channel_id)
    if paused is not None:
        outbox.defer(row.mailbox, paused)
    elif row.target_kind == TargetKind.SUBSCRIBER:
        _deliver_batch(row.mailbox, row.channel_id, transport)
    else:
        _deliver_one(row.id, transport)


def _deliver_coalesced(row: Delivery, transport: Transport) -> None:
    before = outbox.first_unfinished_page_row() if transport.follows_page else None
    claimed = outbox.claim_mailbox(row.mailbox, before=before)
    if not claimed:
        return  # another worker has it, it is done, not yet due, or waits for the page
    newest = max(claimed, key=lambda d: d.id)
    try:
        result = transport.send(newest, build_facts(newest.update))
    except DeliveryError as exc:
        state = outbox.schedule_retry(
            claimed, exc.message, permanent=exc.permanent, retry_at=exc.retry_at
        )
        log.warning("delivery %s failed (%s): %s", row.id, state, exc.message)
        return
    except Exception as exc:
        db.session.rollback()
        log.exception("delivery %s crashed", row.id)
        outbox.schedule_retry(claimed, f"internal error: {type(exc).__name__}: {exc}")
        return
    outbox.record_sent(claimed, result.external_id, result.external_url)
    if row.mailbox == outbox.PAGE_MAILBOX:
        outbox.ring(outbox.due_publish_targets())  # the buckets may mirror it now


def _failed(rows: Sequence[Delivery | BatchRow], exc: DeliveryError, transport: Transport) -> None:
    if exc.unknown_outcome and not transport.safe_to_resend:
        outbox.mark_uncertain(rows, exc.message)
        log.warning("deliveries %s uncertain: %s", [r.id for r in rows], exc.message)
        return
    state = outbox.schedule_retry(
        rows,
        exc.message,
        permanent=exc.permanent,
        retry_at=exc.retry_at,
        unknown_outcome=exc.unknown_outcome,
    )
    log.warning("deliveries %s failed (%s): %s", [r.id for r in rows], state, exc.message)


def _crashed(rows: Sequence[Delivery | BatchRow], exc: Exception, transport: Transport) -> None:
    """An error of ours: retried, unless a send that cannot be repeated had begun."""
    db.session.rollback()
    log.exception("deliveries %s crashed", [r.id for r in rows])
    error = f"internal error: {type(exc).__name__}"
    started = set() if transport.safe_to_resend else outbox.started_among(rows)
    begun = [r for r in rows if r.id in started]
    if begun:
        outbox.mark_uncertain(begun, error)
    rest = [r for r in rows if r.id not in started]
    if rest:
        outbox.schedule_retry(rest, error)


def _deliver_one(delivery_id: int, transport: Transport) -> None:
    claimed = outbox.claim(delivery_id, in_order=True)
    if claimed is None:
        return  # taken, done, not yet due, or an earlier update of its thread is unfinished
    mailbox, channel_id = claimed.mailbox, claimed.channel_id
    facts = None
    try:
        if claimed.target_kind == TargetKind.REPLY:
            reply = replies.facts_for(claimed)
            if reply is None:
                raise DeliveryError("the reply was removed", permanent=True)
            result = transport.send_reply(claimed, reply)
        else:
            # An operator alert about a draft or a vendor's change has no update behind it.
            facts = build_facts(claimed.update) if claimed.update is not None else None
            if claimed.target_kind == TargetKind.ALERT:
                alert = db.session.get(OperatorAlert, claimed.target_id)
                if alert is None:
                    raise DeliveryError("the alert was removed", permanent=True)
                result = transport.send_alert(claimed, facts, alert)
            else:
                assert facts is not None
                result = transport.send(claimed, facts)
    except DeliveryError as exc:
        _failed([claimed], exc, transport)
        breaker.record_failure(channel_id, exc.message, exc.retry_at)
    except Exception as exc:
        _crashed([claimed], exc, transport)
    else:
        breaker.record_success(channel_id)
        _record_sent(claimed, transport, result)
    _ring_next(mailbox, delivery_id)


def _record_sent(
    row: Delivery, transport: Transport, result: SendResult, *, settling: bool = False
) -> None:
    """Commit a sent row with what it made: the thread's last post, a reply's first
    response time. ``settling``: an uncertain row's post was found."""
    if row.update is not None and transport.threaded and result.external_id:
        if row.channel_id is not None:
            ChannelThread.remember(row.channel_id, row.update.incident_id, result.external_id)
    if row.reply_id is not None:
        replies.record_sent(row)  # the item's first response, in the same commit
    outbox.record_sent([row], result.external_id, result.external_url, settling=settling)


def _ring_next(mailbox: str, done: int) -> None:
    following = outbox.next_in_mailbox(mailbox)
    if following is not None and following != done:
        outbox.ring([following])  # the next update of the thread may go now


def _deliver_batch(mailbox: str, channel_id: int | None, transport: Transport) -> None:
    """Send a batch mailbox's due rows in one task, recording outcomes every
    ``transport.batch_commit`` rows or ``RECORD_EVERY`` seconds, whichever comes first, so
    a crash repeats little and the ledger fills as it goes."""
    claimed = outbox.claim_batch(mailbox, BATCH_LIMIT)
    if not claimed:
        return
    session = db.session()
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    sent: list[tuple[BatchRow, SendResult]] = []
    failed: list[tuple[BatchRow, DeliveryError]] = []
    done: set[int] = set()
    recorded = time.monotonic()

    def record() -> None:
        nonlocal recorded
        unnamed = [delivery for delivery, result in sent if not result.external_id]
        if unnamed:
            outbox.record_sent(unnamed)
        for delivery, result in sent:  # a text's message id, kept per row
            if result.external_id:
                outbox.record_sent([delivery], result.external_id, result.external_url)
        groups: dict[tuple, tuple[DeliveryError, list[BatchRow]]] = {}
        for delivery, exc in failed:
            groups.setdefault(_error_key(exc), (exc, []))[1].append(delivery)
        for exc, rows in groups.values():
            _failed(rows, exc, transport)
        sent.clear()
        failed.clear()
        recorded = time.monotonic()

    try:
        update_row = db.session.get(IncidentUpdate, claimed[0].update_id)
        facts = build_facts(update_row)
        for delivery, outcome in transport.send_batch(claimed, facts):
            done.add(delivery.id)
            if isinstance(outcome, DeliveryError):
                failed.append((delivery, outcome))
            else:
                sent.append((delivery, outcome))
            if (
                len(sent) + len(failed) >= transport.batch_commit
                or time.monotonic() - recorded >= RECORD_EVERY
            ):
                record()
    except DeliveryError as exc:
        record()
        _failed([d for d in claimed if d.id not in done], exc, transport)
        breaker.record_failure(channel_id, exc.message, exc.retry_at)
        return
    except Exception as exc:
        record()
        _crashed([d for d in claimed if d.id not in done], exc, transport)
        return
    finally:
        session.expire_on_commit = expire_on_commit
    breaker.record_success(channel_id)
    record()


def _error_key(exc: DeliveryError) -> tuple:
    return (exc.message, exc.permanent, exc.unknown_outcome, str(exc.retry_at))


@shared_task(name="workers.tasks.read_back", acks_late=True)
def read_back(delivery_id: int) -> None:
    """Settle an uncertain row by reading its account's posts: found, it is sent (and its
    thread goes on from it); certainly absent, it is sent again; unreadable, it waits."""
    row = outbox.claim_read_back(delivery_id)
    if row is None:
        return
    transport = get_transport(row)
    try:
        found = transport.find_sent(row)
    except DeliveryError as exc:
        outbox.read_back_failed(row, exc.message, exc.retry_at)
        log.warning("delivery %s still uncertain: %s", delivery_id, exc.message)
        return
    except Exception as exc:
        db.session.rollback()
        log.exception("read-back of delivery %s crashed", delivery_id)
        outbox.read_back_failed(row, f"internal error: {type(exc).__name__}")
        return
    if found is None:
        outbox.settle_absent(row)
        outbox.ring([delivery_id])
        return
    _record_sent(row, transport, found, settling=True)
    _ring_next(row.mailbox, delivery_id)


@shared_task(name="workers.tasks.sweep_due")
def sweep_due() -> int:
    """Re-ring the doorbell for rows it missed; return expired leases to the queue; look
    for the posts of uncertain rows whose read-back is due."""
    for row in outbox.expired_leases():
        outbox.release([row], safe_to_resend=get_transport(row).safe_to_resend)
    # With tasks waiting in the queue, rows just rung are probably among them: ring again
    # only those waiting longer than the grace, or a backlog feeds itself with no-ops.
    grace = outbox.RING_GRACE if _queued_tasks() else None
    ids = outbox.due_ids(waiting_longer_than=grace)
    outbox.ring(ids)
    outbox.ring(outbox.due_read_backs(reading_back()), outbox.READ_BACK_TASK)
    return len(ids)


def _queued_tasks() -> int:
    celery = current_app.extensions["celery"]
    try:
        with celery.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(
                queue=celery.conf.task_default_queue, passive=True
            )
    except Exception:  # the broker is unreachable; ringing will fail and be retried
        return 0
    return declared.message_count


@shared_task(name="workers.tasks.poll_mentions")
def poll_mentions() -> dict[str, int]:
    """Pull mentions, searches and hashtags of the listening channels into the inbox."""
    return listening.poll_all()


@shared_task(name="workers.tasks.poll_upstreams")
def poll_upstreams() -> dict[str, int]:
    """Read the followed vendor pages whose turn has come."""
    return upstream_poll.poll_due()


@shared_task(name="workers.tasks.republish")
def republish() -> None:
    """Re-render on a cadence so time-based parts of the page stay current."""
    publish()
    _mirror_later()


def _mirror_later() -> None:
    """A render without outbox rows (page changes, the cadence) reaches the buckets too."""
    if not targets.enabled():
        return
    try:
        current_app.extensions["celery"].send_task(MIRROR_TASK)
    except Exception as exc:  # any broker failure: the next render or update mirrors
        log.warning("mirror task not sent (%s)", type(exc).__name__)


@shared_task(name="workers.tasks.mirror_buckets")
def mirror_buckets() -> dict[str, str]:
    """Mirror the served snapshot to every bucket; a failure is logged and kept on the
    channel, and the next render or update mirrors again."""
    done: dict[str, str] = {}
    for target in targets.enabled():
        try:
            result = mirror_to(target)
        except DeliveryError as exc:
            log.warning("mirror to %s failed: %s", target.name, exc.message)
            breaker.record_failure(target.channel_id, exc.message)
            done[target.name] = exc.message
        else:
            breaker.record_success(target.channel_id)
            db.session.commit()
            done[target.name] = result.external_id or ""
    return done


@shared_task(name="workers.tasks.clean_up_snapshots")
def clean_up_snapshots() -> int:
    """Delete a slice of the snapshots and generations no served page needs any more."""
    return clean_up()


@shared_task(name="workers.tasks.publish_requests")
def publish_requests() -> int:
    """One render covers every page change waiting outside the outbox (component edits,
    manual statuses, corrected text, postmortems); rows are marked only after it is live."""
    ids = page_changes.pending_ids()
    if not ids:
        return 0
    publish()
    page_changes.mark_published(ids)
    _mirror_later()
    return len(ids)


@shared_task(name="workers.tasks.maintenance_tick")
def maintenance_tick() -> dict[str, list[str]]:
    """Start and complete scheduled maintenances whose time has come, and send the
    advance notices due."""
    report = maintenance.tick(now())
    return {"started": report.started, "completed": report.completed, "noticed": report.noticed}


@shared_task(name="workers.tasks.cadence_reminders")
def cadence_reminders() -> dict[str, list[str]]:
    """Flag incidents whose next update is due soon (reminder) or past due (overdue)."""
    report = cadence.run(now())
    return {"reminded": report.reminded, "overdue": report.overdue, "repeated": report.repeated}


@shared_task(name="workers.tasks.send_confirmation", acks_late=True)
def send_confirmation(subscriber_id: int) -> None:
    """Mail (or post, for a webhook) the double opt-in link of a subscribe request."""
    subscriber = subscriptions.claim_confirmation(subscriber_id)
    if subscriber is None:
        return
    try:
        transport_for(subscriber.kind).send_confirmation(subscriber)
    except DeliveryError as exc:
        log.warning("confirmation for subscriber %s not sent: %s", subscriber_id, exc.message)
        subscriptions.confirmation_failed(subscriber_id)


@shared_task(name="workers.tasks.sweep_confirmations")
def sweep_confirmations() -> int:
    """Send confirmations whose doorbell was lost or whose first attempt failed."""
    ids = subscriptions.due_confirmations()
    subscriptions.ring(ids)
    return len(ids)


@shared_task(name="workers.tasks.test_channel")
def test_channel(channel_id: int, recipient: str) -> None:
    """An operator's "send test": the outcome is stored on the channel for the admin."""
    channel = db.session.get(Channel, channel_id)
    if channel is None:
        return
    try:
        message, ok = transport_for(channel.kind).test(channel, recipient), True
    except DeliveryError as exc:
        message, ok = exc.message, False
    except Exception as exc:
        log.exception("test of channel %s crashed", channel_id)
        message, ok = f"internal error: {type(exc).__name__}", False
    db.session.rollback()
    channel = db.session.get(Channel, channel_id)
    if channel is not None:
        channel.last_test_at, channel.last_test_ok, channel.last_test_message = now(), ok, message
        db.session.commit()
