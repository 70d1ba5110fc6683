"""The delivery ledger: where each update went, how fast, and what failed."""

from __future__ import annotations

from collections.abc import Sequence

from statuspage import outbox
from statuspage.errors import NotFound
from statuspage.extensions import db
from statuspage.incidents.workflow import Conflict
from statuspage.models import Delivery, User
from statuspage.models.audit import record


def for_updates(update_ids: Sequence[str]) -> list[Delivery]:
    if not update_ids:
        return []
    return list(
        db.session.scalars(
            db.select(Delivery).where(Delivery.update_id.in_(update_ids)).order_by(Delivery.id)
        )
    )


def retry(*, actor: User | None, delivery_id: int) -> Delivery:
    """Queue a dead or uncertain delivery again; an uncertain one may reach people twice,
    which is why only an operator can decide it."""
    row = db.session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"delivery {delivery_id}")
    before = {"state": str(row.state), "last_error": row.last_error}
    if not outbox.retry(delivery_id):
        db.session.rollback()
        raise Conflict(f"delivery {delivery_id} is {row.state}; only dead or uncertain ones retry")
    record(actor, "delivery.retry", "delivery", str(delivery_id), before, {"state": "pending"})
    db.session.commit()
    return db.session.get(Delivery, delivery_id, populate_existing=True)
