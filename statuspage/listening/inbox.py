"""The inbox: items stored once, listed with filters, and triaged (state, incident link).

Each operator action is one transaction with its audit events.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.incidents.workflow import CLOSED_STATUSES, Conflict
from statuspage.lib.clock import now
from statuspage.listening.text import tidy
from statuspage.models import (
    Channel,
    Component,
    InboxItem,
    InboxState,
    Incident,
    ItemKind,
    User,
)
from statuspage.models.audit import record
from statuspage.subscriptions.service import normalise_email
from statuspage.text_rules import check_text, one_line, storable, without_markup

MAX_REPORT = 5_000
MAX_SOURCE = 4 * MAX_REPORT  # before its markup is removed
PAGE_SIZE = 50
REPORTS = "reports"  # the channel filter value for problem reports


@dataclass(frozen=True)
class Found:
    """A post as a poller found it, already in plain text."""

    external_id: str
    text: str
    posted_at: datetime
    author_id: str | None = None
    author_handle: str | None = None
    author_name: str | None = None
    url: str | None = None
    conversation_id: str | None = None
    visibility: str | None = None


def _cut(value: str | None, length: int) -> str | None:
    return value[:length] if value else value


def _web_link(url: str | None) -> str | None:
    """Links come from the far end; only http(s) ones become links in the admin."""
    return url[:1024] if url and url.startswith(("https://", "http://")) else None


def store(channel: Channel, source: str, found: Sequence[Found]) -> int:
    """Insert what is new, in one statement; an item already stored (by an earlier poll,
    a poll repeated after a crash, or another source of the channel) is left as it is.
    Returns how many were new."""
    if not found:
        return 0
    at = now()
    rows = {
        f.external_id: {
            "kind": str(channel.kind),
            "channel_id": channel.id,
            "source": source[:128],
            "external_id": f.external_id[:64],
            "conversation_id": _cut(f.conversation_id, 64),
            "author_id": _cut(f.author_id, 64),
            "author_handle": _cut(one_line(f.author_handle or ""), 255),
            "author_name": _cut(one_line(f.author_name or ""), 255),
            "text": tidy(f.text),
            "url": _web_link(f.url),
            "visibility": _cut(f.visibility, 16),
            "posted_at": f.posted_at,
            "received_at": at,
            "updated_at": at,
            "state": str(InboxState.NEW),
        }
        for f in found
    }
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(InboxItem.__table__)
        .values(list(rows.values()))
        .on_conflict_do_nothing(index_elements=["channel_id", "external_id"])
        .returning(InboxItem.__table__.c.id)  # only the rows inserted
    )
    added = len(db.session.execute(statement).all())
    db.session.commit()
    return added


def add_report(*, text: str | None, component_id: str | None, email: str | None) -> InboxItem:
    """A problem report from the public form. Control characters are refused, as in every
    form; markup is removed, and a report that was only markup (a script, say) is empty and
    refused."""
    errors: dict[str, str] = {}
    clean = ""
    try:
        clean = tidy(without_markup(check_text("text", text, MAX_SOURCE, required=False)))
    except ValidationError as exc:
        errors.update(exc.errors)
    else:
        if not clean:
            errors["text"] = "describe what is wrong"
        elif len(clean) > MAX_REPORT:
            errors["text"] = f"must be at most {MAX_REPORT} characters"
    component = None
    if component_id and storable(str(component_id)):
        component = db.session.get(Component, str(component_id)[:12])
        if component is None or str(component_id) != component.id:
            errors["component"] = "no such component"
    elif component_id:
        errors["component"] = "no such component"
    address = None
    if email and email.strip():
        try:
            address = normalise_email(email)
        except ValidationError as exc:
            errors.update(exc.errors)
    if errors:
        db.session.rollback()
        raise ValidationError(errors)
    at = now()
    item = InboxItem(
        kind=ItemKind.REPORT,
        channel_id=None,
        source="form",
        external_id=uuid.uuid4().hex,
        text=clean,
        posted_at=at,
        received_at=at,
        updated_at=at,
        state=InboxState.NEW,
        component=component,
        contact_email=address,
    )
    db.session.add(item)
    db.session.commit()
    return item


@dataclass(frozen=True)
class Filters:
    channel: str = ""  # "", REPORTS or a channel id
    source: str = ""  # "mentions", "search", "tag:<name>" or "form"
    state: str = ""
    incident: str = ""  # "", "none", "linked" or an incident id
    q: str = ""
    page: int = 1

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> Filters:
        page = args.get("page", "")
        return cls(
            channel=args.get("channel", "")[:32],
            source=args.get("source", "")[:128],
            state=args.get("state", "") if args.get("state") in set(InboxState) else "",
            incident=args.get("incident", "")[:12],
            q=args.get("q", "").strip()[:100],
            page=int(page) if page.isascii() and page.isdigit() and 0 < len(page) < 5 else 1,
        )

    def query(self, **changes: object) -> dict[str, object]:
        """These filters as URL parameters (for links), with ``changes`` applied."""
        values = {**self.__dict__, **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}


def listing(filters: Filters, limit: int = PAGE_SIZE) -> tuple[list[InboxItem], bool]:
    """Newest first (by the time the customer posted), a page at a time; also whether
    an older page exists."""
    query = select(InboxItem)
    if filters.channel == REPORTS:
        query = query.where(InboxItem.kind == ItemKind.REPORT)
    elif filters.channel.isascii() and filters.channel.isdigit():
        query = query.where(InboxItem.channel_id == int(filters.channel[:9]))
    if filters.source:
        query = query.where(InboxItem.source == filters.source)
    if filters.state:
        query = query.where(InboxItem.state == filters.state)
    if filters.incident == "none":
        query = query.where(InboxItem.incident_id.is_(None))
    elif filters.incident == "linked":
        query = query.where(InboxItem.incident_id.is_not(None))
    elif filters.incident:
        query = query.where(InboxItem.incident_id == filters.incident)
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
        query = query.where(InboxItem.text.ilike(f"%{escaped}%", escape="\\"))
    query = (
        query.order_by(InboxItem.posted_at.desc(), InboxItem.id.desc())
        .offset((filters.page - 1) * limit)
        .limit(limit + 1)
    )
    rows = list(db.session.scalars(query))
    return rows[:limit], len(rows) > limit


def sources_heard() -> list[str]:
    """The sources items came from, for the filter."""
    return list(db.session.scalars(select(InboxItem.source).distinct().order_by(InboxItem.source)))


def new_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(InboxItem).where(InboxItem.state == InboxState.NEW)
    )


def open_incidents() -> list[Incident]:
    """Incidents an item can be linked to: open ones, newest first (maintenance too, since
    customers complain about those as well)."""
    return list(
        db.session.scalars(
            select(Incident)
            .where(Incident.status.not_in(CLOSED_STATUSES))
            .order_by(Incident.created_at.desc())
        )
    )


def _items(item_ids: Sequence[int]) -> list[InboxItem]:
    if not item_ids:
        raise ValidationError({"items": "choose at least one item"})
    rows = list(db.session.scalars(select(InboxItem).where(InboxItem.id.in_(item_ids))))
    if len(rows) != len(set(item_ids)):
        db.session.rollback()
        raise NotFound("inbox item")
    return rows


def set_state(*, actor: User | None, item_ids: Sequence[int], state: str) -> list[InboxItem]:
    """Acknowledge, ignore or reopen items. "Answered" is set by sending a reply."""
    if state not in (InboxState.NEW, InboxState.ACKNOWLEDGED, InboxState.IGNORED):
        raise ValidationError({"state": "must be new, acknowledged or ignored"})
    items = _items(item_ids)
    for item in items:
        if item.state != state:
            record(
                actor,
                "inbox.state",
                "inbox_item",
                str(item.id),
                {"state": item.state},
                {"state": state},
            )
            item.state = InboxState(state)
    db.session.commit()
    return items


def linked_elsewhere(item_ids: Sequence[int], incident_id: str) -> list[InboxItem]:
    """The chosen items that linking to ``incident_id`` would take from another incident."""
    return list(
        db.session.scalars(
            select(InboxItem)
            .where(
                InboxItem.id.in_(item_ids),
                InboxItem.incident_id.is_not(None),
                InboxItem.incident_id != incident_id,
            )
            .order_by(InboxItem.id)
        )
    )


def link(
    *, actor: User | None, item_ids: Sequence[int], incident_id: str, replace: bool = False
) -> list[InboxItem]:
    """Link items to an open incident; new ones count as acknowledged from then on. An
    item linked to another incident moves only when ``replace`` says the operator agreed."""
    incident = db.session.get(Incident, incident_id) if incident_id else None
    if incident is None:
        raise ValidationError({"incident": "choose an incident"})
    if not incident.is_open:
        raise Conflict("items can only be linked to an open incident")
    items = _items(item_ids)
    if not replace and any(i.incident_id not in (None, incident.id) for i in items):
        db.session.rollback()
        raise Conflict("some items are linked to another incident; confirm to move them")
    for item in items:
        if item.incident_id == incident.id:
            continue
        record(
            actor,
            "inbox.link",
            "inbox_item",
            str(item.id),
            {"incident_id": item.incident_id},
            {"incident_id": incident.id},
        )
        item.incident_id = incident.id
        if item.state == InboxState.NEW:
            item.state = InboxState.ACKNOWLEDGED
    db.session.commit()
    return items


def unlink(*, actor: User | None, item_id: int) -> InboxItem:
    (item,) = _items([item_id])
    if item.incident_id is not None:
        record(actor, "inbox.unlink", "inbox_item", str(item.id), {"incident_id": item.incident_id})
        item.incident_id = None
    db.session.commit()
    return item


def open_incident_from(*, actor: User | None, item_id: int, **fields: object) -> Incident:
    """Open an incident (with its first public update) and link the item to it. The
    incident commits first: if linking then failed, the incident still stands and the
    item can be linked to it from the list."""
    (item,) = _items([item_id])
    incident = service.open_incident(actor=actor, **fields)  # type: ignore[arg-type]
    link(actor=actor, item_ids=[item.id], incident_id=incident.id)
    return incident


def suggested_incident(item: InboxItem) -> dict[str, object]:
    """A prefilled incident for "open an incident from this item"."""
    first_line = item.text.split("\n", 1)[0]
    title = first_line if len(first_line) <= 80 else first_line[:79].rstrip() + "…"
    components = {item.component_id: "degraded_performance"} if item.component_id else {}
    return {
        "name": f"Reports: {title}" if item.kind == ItemKind.REPORT else title,
        "body": "We are investigating reports of problems and will post an update shortly.",
        "components": components,
    }


def channel_names() -> dict[int, str]:
    return {c.id: c.name for c in db.session.scalars(select(Channel))}


def awaiting_first_response() -> int:
    """Items that still wait for any answer (not ignored)."""
    return db.session.scalar(
        select(func.count())
        .select_from(InboxItem)
        .where(
            InboxItem.first_response_at.is_(None),
            or_(InboxItem.state == InboxState.NEW, InboxItem.state == InboxState.ACKNOWLEDGED),
        )
    )
