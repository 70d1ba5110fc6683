"""Answering in place: a reply goes out on the channel the customer used, as a reply to
their post (or by email to a report's sender), through the outbox with the guarantees of
incident updates: claimed once, retried with backoff, held for a 429's reset, ``dead``
with its error shown, ``uncertain`` on X when the outcome is unknown.

Each reply is an ``InboxReply`` holding exactly the text sent, and one ``Delivery`` row
(``reply_id`` set, ``update_id`` empty). Replies to one item share a mailbox, so they go
out in the order they were written. The item's time to first response is recorded when
the first reply is sent, in the same commit as the delivery's ``sent`` state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlalchemy import exists, select, update

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents.workflow import CLOSED_STATUSES, Conflict
from statuspage.lib.clock import now
from statuspage.lib.timefmt import human
from statuspage.listening.templates import fill
from statuspage.messages import X_LIMIT, graphemes, mastodon_length, x_length
from statuspage.models import (
    Channel,
    Delivery,
    InboxItem,
    InboxReply,
    InboxState,
    Incident,
    ItemKind,
    Page,
    ReplyKind,
    TargetKind,
    User,
)
from statuspage.models.audit import record
from statuspage.outbox import queue_after_commit
from statuspage.text_rules import check_text, one_line

BLUESKY_LIMIT = 300  # graphemes
MASTODON_LIMIT = 500  # the common instance limit; a smaller one refuses and shows why
EMAIL_LIMIT = 5_000
FOLLOW_UP_WINDOW = timedelta(days=14)  # resolved incidents offered for follow-up
VISIBILITY_ORDER = ("public", "unlisted", "private", "direct")
FOLLOW_UP_TEXT = (
    "This is resolved: {incident_name}. Thank you for your patience. What happened: {incident_url}"
)


@dataclass(frozen=True)
class ReplyFacts:
    """What a transport needs to send a reply; built once from the reply row."""

    text: str
    in_reply_to: str | None = None  # the customer's post on X or Mastodon
    visibility: str | None = None  # Mastodon: never wider than the customer's post
    email: str | None = None  # a report's follow-up address
    subject: str | None = None


def compose(item: InboxItem, body: str) -> str:
    """The text as sent: Mastodon notifies only mentioned accounts, so a reply there starts
    with the customer's handle; an email quotes the report it answers."""
    if item.kind == ItemKind.MASTODON and item.author_handle:
        handle = f"@{item.author_handle}"
        if not body.startswith(handle):
            body = f"{handle} {body}"
    if item.kind == ItemKind.REPORT:
        quoted = "\n".join(f"> {line}" for line in item.text.splitlines())
        body = f"{body}\n\n---\nYou reported on {human(item.posted_at)}:\n{quoted}"
    return body


def _check_length(item: InboxItem, text: str, field: str) -> None:
    if item.kind == ItemKind.X and x_length(text) > X_LIMIT:
        raise ValidationError({field: f"is {x_length(text)} characters; X takes {X_LIMIT}"})
    if item.kind == ItemKind.MASTODON and mastodon_length(text) > MASTODON_LIMIT:
        raise ValidationError(
            {field: f"is {mastodon_length(text)} characters; Mastodon takes {MASTODON_LIMIT}"}
        )
    if item.kind == ItemKind.BLUESKY and graphemes(text) > BLUESKY_LIMIT:
        raise ValidationError(
            {field: f"is {graphemes(text)} characters; Bluesky takes {BLUESKY_LIMIT}"}
        )
    if len(text) > EMAIL_LIMIT:
        raise ValidationError({field: f"must be at most {EMAIL_LIMIT} characters"})


def target(item: InboxItem) -> tuple[str, int]:
    """The transport and channel a reply to ``item`` goes through, or why none can."""
    if item.kind == ItemKind.REPORT:
        if not item.contact_email:
            raise Conflict("the report left no email address to answer")
        smtp = Channel.smtp()
        if smtp is None:
            raise Conflict("no email channel is enabled to answer reports")
        return "email", smtp.id
    channel = db.session.get(Channel, item.channel_id) if item.channel_id else None
    if channel is None:
        raise Conflict("the channel this was heard on has been removed")
    if not channel.enabled:
        raise Conflict(f"the channel {channel.name} is disabled")
    return str(channel.kind), channel.id


def can_reply(item: InboxItem) -> str | None:
    """Why ``item`` cannot be answered, or None."""
    try:
        target(item)
    except Conflict as exc:
        return str(exc)
    return None


def _queue(actor: User | None, item: InboxItem, text: str, kind: ReplyKind) -> InboxReply:
    transport, channel_id = target(item)
    reply = InboxReply(item=item, kind=kind, text=text, author_id=actor.id if actor else None)
    db.session.add(reply)
    db.session.flush()
    delivery = Delivery(
        reply_id=reply.id,
        target_kind=TargetKind.REPLY,
        target_id=item.id,
        channel_id=channel_id,
        transport=transport,
        mailbox=f"reply:{item.id}",
    )
    db.session.add(delivery)
    db.session.flush()
    queue_after_commit([delivery.id])
    before = {"state": str(item.state)}
    item.state = InboxState.ANSWERED
    record(
        actor,
        f"inbox.{kind}",
        "inbox_item",
        str(item.id),
        before,
        {"state": str(item.state), "reply": text},
    )
    return reply


def answer(*, actor: User | None, item_id: int, body: str) -> InboxReply:
    """Reply to one item where the customer spoke (or by email to a report's sender)."""
    item = db.session.get(InboxItem, item_id)
    if item is None:
        raise NotFound(f"inbox item {item_id}")
    try:
        text = compose(item, check_text("body", body, EMAIL_LIMIT))
        _check_length(item, text, "body")
        reply = _queue(actor, item, text, ReplyKind.ANSWER)
    except (ValidationError, Conflict):
        db.session.rollback()
        raise
    db.session.commit()
    return reply


def follow_up(
    *, actor: User | None, incident_id: str, body: str, item_ids: Sequence[int]
) -> list[InboxReply]:
    """One action after an incident is resolved: the same text, filled per item, to each
    chosen item linked to it. All are queued or, on any error, none."""
    incident = db.session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id}")
    if incident.status not in CLOSED_STATUSES:
        raise Conflict("follow-ups are sent once the incident is resolved")
    if not item_ids:
        raise ValidationError({"items": "choose at least one item to follow up"})
    items = list(db.session.scalars(select(InboxItem).where(InboxItem.id.in_(item_ids))))
    errors: dict[str, str] = {}
    template = check_text("body", body, EMAIL_LIMIT)
    if len(items) != len(set(item_ids)) or any(i.incident_id != incident.id for i in items):
        raise ValidationError({"items": "only items linked to this incident can be followed up"})
    replies = []
    for item in items:
        try:
            text = compose(item, fill(template, item))
            _check_length(item, text, "body")
            replies.append(_queue(actor, item, text, ReplyKind.FOLLOW_UP))
        except ValidationError as exc:
            errors[f"item {item.id} ({item.author})"] = exc.errors["body"]
        except Conflict as exc:
            errors[f"item {item.id} ({item.author})"] = str(exc)
    if errors:
        db.session.rollback()
        raise ValidationError(errors)
    db.session.commit()
    return replies


def _followed_up() -> object:
    return exists().where(
        InboxReply.item_id == InboxItem.id, InboxReply.kind == ReplyKind.FOLLOW_UP
    )


def pending_follow_ups() -> list[tuple[Incident, list[InboxItem]]]:
    """Recently resolved incidents with linked items nobody has followed up yet (and that
    can be answered: a report without an address cannot)."""
    rows = db.session.execute(
        select(Incident, InboxItem)
        .join(InboxItem, InboxItem.incident_id == Incident.id)
        .where(
            Incident.status.in_(CLOSED_STATUSES),
            Incident.resolved_at >= now() - FOLLOW_UP_WINDOW,
            InboxItem.state != InboxState.IGNORED,
            ~_followed_up(),
        )
        .order_by(Incident.resolved_at.desc(), InboxItem.posted_at)
    ).all()
    grouped: dict[str, tuple[Incident, list[InboxItem]]] = {}
    for incident, item in rows:
        if can_reply(item) is None:
            grouped.setdefault(incident.id, (incident, []))[1].append(item)
    return list(grouped.values())


def follow_up_candidates(incident_id: str) -> list[InboxItem]:
    return list(
        db.session.scalars(
            select(InboxItem)
            .where(
                InboxItem.incident_id == incident_id,
                InboxItem.state != InboxState.IGNORED,
                ~_followed_up(),
            )
            .order_by(InboxItem.posted_at)
        )
    )


def facts_for(delivery: Delivery) -> ReplyFacts | None:
    """The facts a worker sends for a reply row, or None if the reply is gone."""
    reply = db.session.get(InboxReply, delivery.reply_id) if delivery.reply_id else None
    if reply is None:
        return None
    item = reply.item
    facts = ReplyFacts(text=reply.text)
    if item.kind == ItemKind.REPORT:
        subject = f"Re: your problem report to {one_line(Page.get().name)}"
        return replace(facts, email=item.contact_email, subject=subject)
    visibility = None
    if item.kind == ItemKind.MASTODON:
        channel = db.session.get(Channel, delivery.channel_id)
        ours = (channel.config or {}).get("visibility") if channel else None
        visibility = _narrowest(ours or "public", item.visibility or "public")
    return replace(facts, in_reply_to=item.external_id, visibility=visibility)


def _narrowest(*visibilities: str) -> str:
    known = [v for v in visibilities if v in VISIBILITY_ORDER]
    return max(known, key=VISIBILITY_ORDER.index) if known else "public"


def record_sent(delivery: Delivery) -> None:
    """The item's first response time, in the caller's transaction (it commits with the
    delivery's ``sent`` state): only the first reply sent sets it."""
    db.session.execute(
        update(InboxItem)
        .where(InboxItem.id == delivery.target_id, InboxItem.first_response_at.is_(None))
        .values(first_response_at=now())
        .execution_options(synchronize_session=False)
    )


def deliveries_of(item: InboxItem) -> dict[int, Delivery]:
    """Each reply's delivery row, by reply id, for the item's page."""
    ids = [r.id for r in item.replies]
    if not ids:
        return {}
    rows = db.session.scalars(select(Delivery).where(Delivery.reply_id.in_(ids)))
    return {row.reply_id: row for row in rows if row.reply_id is not None}
