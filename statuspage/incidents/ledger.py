"""The delivery ledger: where each update went, how fast, and what failed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from statuspage import outbox
from statuspage.errors import NotFound
from statuspage.extensions import db
from statuspage.incidents.workflow import Conflict
from statuspage.models import Channel, Delivery, OperatorAlert, Subscriber, TargetKind, User
from statuspage.models.audit import record


@dataclass(frozen=True)
class Target:
    """Where a ledger row went, in words: "Ops Slack" and "Slack", not "channel #1"."""

    name: str
    kind: str


def for_updates(update_ids: Sequence[str]) -> list[Delivery]:
    if not update_ids:
        return []
    return list(
        db.session.scalars(
            db.select(Delivery).where(Delivery.update_id.in_(update_ids)).order_by(Delivery.id)
        )
    )


def targets(rows: Sequence[Delivery]) -> dict[int, Target]:
    """The target of each row, read with one query per kind of target."""

    def ids(kind: TargetKind) -> set[int]:
        return {r.target_id for r in rows if r.target_kind == kind}

    subscribers = {
        s.id: s
        for s in db.session.scalars(
            db.select(Subscriber).where(Subscriber.id.in_(ids(TargetKind.SUBSCRIBER)))
        )
    }
    alerts = {
        a.id: a
        for a in db.session.scalars(
            db.select(OperatorAlert).where(OperatorAlert.id.in_(ids(TargetKind.ALERT)))
        )
    }
    channel_ids = ids(TargetKind.CHANNEL) | {a.channel_id for a in alerts.values()}
    channels = {
        c.id: c for c in db.session.scalars(db.select(Channel).where(Channel.id.in_(channel_ids)))
    }

    def channel(channel_id: int) -> Target:
        found = channels.get(channel_id)
        return Target(found.name, found.kind_label) if found else Target("Removed channel", "")

    def target(row: Delivery) -> Target:
        if row.target_kind == TargetKind.CHANNEL:
            return channel(row.target_id)
        if row.target_kind == TargetKind.ALERT:
            alert = alerts.get(row.target_id)
            via = channel(alert.channel_id).name if alert else "a removed channel"
            return Target(f"Operators via {via}", "Operator alert")
        if row.target_kind == TargetKind.SUBSCRIBER:
            sub = subscribers.get(row.target_id)
            kind = f"{sub.kind.capitalize()} subscriber" if sub else "Subscriber"
            return Target(sub.shown_address if sub else "Removed subscriber", kind)
        if row.transport == "s3":
            return Target("Bucket of the settings", "S3-compatible bucket")
        return Target("Public page", "Snapshot")

    return {row.id: target(row) for row in rows}


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
