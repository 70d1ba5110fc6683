"""The subscriber list as operators see it: found by address and component, removed, or
sent their confirmation again. Every change is audited; addresses are personal data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, exists, func, or_, select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import iso, now
from statuspage.models import Subscriber, SubscriberKind, User
from statuspage.models.audit import record
from statuspage.models.subscribers import subscriber_component
from statuspage.subscriptions import service

PAGE_SIZE = 50
MAX_QUERY = 254


@dataclass(frozen=True)
class Filters:
    """``component`` finds whoever hears about it: its followers and those following all."""

    query: str = ""
    component: str = ""
    state: str = ""  # "", "confirmed" or "waiting"


def matching(filters: Filters) -> Select:
    statement = select(Subscriber)
    if filters.query:
        needle = filters.query.strip().lower()[:MAX_QUERY]
        address = func.lower(Subscriber.address)
        statement = statement.where(address.contains(needle, autoescape=True))
    if filters.component:
        follows = subscriber_component.c
        statement = statement.where(
            or_(
                ~exists().where(follows.subscriber_id == Subscriber.id),
                exists().where(
                    follows.subscriber_id == Subscriber.id,
                    follows.component_id == filters.component,
                ),
            )
        )
    if filters.state == "confirmed":
        statement = statement.where(Subscriber.confirmed_at.is_not(None))
    elif filters.state == "waiting":
        statement = statement.where(Subscriber.confirmed_at.is_(None))
    return statement


def listing(filters: Filters, page: int = 1) -> tuple[list[Subscriber], int]:
    """One page of matching subscribers, newest first, and how many match in all."""
    statement = matching(filters)
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = db.session.scalars(
        statement.order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .offset((max(page, 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(rows), total


def _get(subscriber_id: int) -> Subscriber:
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound(f"subscriber {subscriber_id}")
    return subscriber


def snapshot(subscriber: Subscriber) -> dict[str, object]:
    """What the audit log keeps of a subscriber."""
    return {
        "kind": str(subscriber.kind),
        "address": subscriber.address,
        "confirmed_at": iso(subscriber.confirmed_at),
        "components": [c.id for c in subscriber.components],
    }


def remove(*, actor: User, subscriber_id: int) -> Subscriber:
    """Forget the subscriber, as its own unsubscribe link would; queued rows end undelivered."""
    subscriber = _get(subscriber_id)
    record(actor, "subscriber.delete", "subscriber", str(subscriber.id), snapshot(subscriber))
    db.session.delete(subscriber)
    db.session.commit()
    return subscriber


def resend_confirmation(*, actor: User, subscriber_id: int) -> Subscriber:
    """Queue the double opt-in message again now, past the public form's cooldown."""
    subscriber = _get(subscriber_id)
    if subscriber.is_confirmed:
        raise ValidationError({"subscriber": "this subscriber has already confirmed"})
    if subscriber.kind == SubscriberKind.EMAIL and not service.email_available():
        raise ValidationError({"subscriber": "confirmation mail needs an enabled SMTP channel"})
    if subscriber.pending_filter is None:
        subscriber.pending_filter = {"components": [c.id for c in subscriber.components] or None}
    subscriber.confirm_requested_at = now()
    subscriber.confirm_sent_at = None
    record(actor, "subscriber.resend_confirmation", "subscriber", str(subscriber.id))
    db.session.commit()
    service.ring([subscriber.id])
    return subscriber
