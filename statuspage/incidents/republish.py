"""Page changes that are not incident updates (component edits, manual statuses, edited
text, postmortems) reach the public snapshot through ``PublishRequest`` rows.

Same shape as the delivery outbox: the row is written in the operator's transaction, a
doorbell task is enqueued after commit, and beat re-rings for any row still unpublished,
so a broker outage delays the page but never loses the change.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import PublishRequest

log = logging.getLogger(__name__)

PUBLISH_TASK = "workers.tasks.publish_requests"
_RING_KEY = "statuspage.republish.ring"


def request_publish(reason: str) -> PublishRequest:
    """Ask for a new snapshot once the current transaction commits."""
    row = PublishRequest(reason=reason[:255], created_at=now())
    db.session.add(row)
    db.session.info[_RING_KEY] = True
    return row


def ring() -> None:
    try:
        current_app.extensions["celery"].send_task(PUBLISH_TASK)
    except Exception as exc:  # any broker failure: the row waits for the beat sweep
        log.warning("publish doorbell not sent (%s); beat will retry", type(exc).__name__)


@event.listens_for(Session, "after_commit")
def _ring_after_commit(session: Session) -> None:
    if session.info.pop(_RING_KEY, False):
        ring()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_RING_KEY, None)


def pending_ids(limit: int = 1000) -> list[int]:
    ids = list(
        db.session.scalars(
            select(PublishRequest.id)
            .where(PublishRequest.published_at.is_(None))
            .order_by(PublishRequest.id)
            .limit(limit)
        )
    )
    db.session.commit()
    return ids


def mark_published(ids: list[int], at: datetime | None = None) -> None:
    """Record that a render which began after these rows committed is now being served."""
    if not ids:
        return
    db.session.execute(
        update(PublishRequest)
        .where(PublishRequest.id.in_(ids), PublishRequest.published_at.is_(None))
        .values(published_at=at or now())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
