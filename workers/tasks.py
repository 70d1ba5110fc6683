"""Celery tasks. They take ids, claim work from the outbox table and record outcomes;
channel specifics live in ``workers.channels``."""

from __future__ import annotations

import logging

from celery import shared_task

from statuspage import outbox
from statuspage.extensions import db
from statuspage.incidents import cadence, maintenance
from statuspage.incidents import republish as page_changes
from statuspage.lib.clock import now
from statuspage.messages import build_facts
from statuspage.models import Delivery
from statuspage.publishing.snapshot import publish
from workers.channels import get_transport
from workers.channels.base import DeliveryError

log = logging.getLogger(__name__)


@shared_task(name="workers.tasks.deliver", acks_late=True)
def deliver(delivery_id: int) -> None:
    """Send one outbox row (or, for a coalescing channel, its whole due mailbox)."""
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        return
    transport = get_transport(row)
    if transport.coalesce:
        claimed = outbox.claim_mailbox(row.mailbox)
    else:
        one = outbox.claim(delivery_id)
        claimed = [one] if one is not None else []
    if not claimed:
        return  # another worker has it, or it is done, or not yet due
    newest = max(claimed, key=lambda d: d.id)
    try:
        result = transport.send(newest, build_facts(newest.update))
    except DeliveryError as exc:
        state = outbox.schedule_retry(
            claimed, exc.message, permanent=exc.permanent, retry_at=exc.retry_at
        )
        log.warning("delivery %s failed (%s): %s", delivery_id, state, exc.message)
        return
    except Exception as exc:
        db.session.rollback()
        log.exception("delivery %s crashed", delivery_id)
        outbox.schedule_retry(claimed, f"internal error: {type(exc).__name__}: {exc}")
        return
    outbox.record_sent(claimed, result.external_id, result.external_url)


@shared_task(name="workers.tasks.sweep_due")
def sweep_due() -> int:
    """Re-ring the doorbell for rows it missed; return expired leases to the queue."""
    for row in outbox.expired_leases():
        outbox.release([row], safe_to_resend=get_transport(row).safe_to_resend)
    ids = outbox.due_ids()
    outbox.ring(ids)
    return len(ids)


@shared_task(name="workers.tasks.republish")
def republish() -> None:
    """Re-render on a cadence so time-based parts of the page stay current."""
    publish()


@shared_task(name="workers.tasks.publish_requests")
def publish_requests() -> int:
    """One render covers every page change waiting outside the outbox (component edits,
    manual statuses, corrected text, postmortems); rows are marked only after it is live."""
    ids = page_changes.pending_ids()
    if not ids:
        return 0
    publish()
    page_changes.mark_published(ids)
    return len(ids)


@shared_task(name="workers.tasks.maintenance_tick")
def maintenance_tick() -> dict[str, list[str]]:
    """Start and complete scheduled maintenances whose time has come."""
    report = maintenance.tick(now())
    return {"started": report.started, "completed": report.completed}


@shared_task(name="workers.tasks.cadence_reminders")
def cadence_reminders() -> dict[str, list[str]]:
    """Flag incidents whose next update is due soon (reminder) or past due (overdue)."""
    report = cadence.run(now())
    return {"reminded": report.reminded, "overdue": report.overdue}
