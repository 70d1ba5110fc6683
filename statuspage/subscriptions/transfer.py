"""Subscribers to and from CSV, so a list can move between installations or tools.

Columns: ``kind`` (email, webhook or slack; empty means email), ``address``,
``components`` (one component name or id per line in the cell; empty means all) and
``confirmed_at`` (when the subscriber confirmed, RFC 3339, or ``yes``; empty means they
have not). An import is all or nothing: every line is checked first, and a file with any
bad line changes nothing and names each bad line. Confirmed rows stay confirmed, each
with an audit record; the others are sent a confirmation. A webhook endpoint always is:
it must learn the signing secret this installation gives it. Addresses already
subscribed are left as they are. Cells that a spreadsheet would run as a formula are
written with a leading ``'`` and read back without it (OWASP, CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import iso, now
from statuspage.lib.crypto import new_secret
from statuspage.models import Component, Subscriber, SubscriberKind, User
from statuspage.models.audit import record
from statuspage.models.subscribers import new_nonce
from statuspage.subscriptions import service

COLUMNS = ("kind", "address", "components", "confirmed_at", "created_at")
MAX_BYTES = 1_000_000
MAX_ROWS = 10_000
MAX_ERRORS = 50  # shown; the count says how many more
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
YES = {"yes", "true", "1"}


@dataclass
class ImportReport:
    confirmed: int = 0
    waiting: int = 0  # sent a confirmation
    existing: int = 0  # already subscribed, left alone


@dataclass
class ImportRefused(Exception):
    """The file or some of its lines are bad; nothing was imported."""

    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, message); 0 = file
    more: int = 0


@dataclass(frozen=True)
class _Row:
    line: int
    kind: SubscriberKind
    address: str
    components: list[str] | None
    confirmed_at: datetime | None


def _cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_START) else value


def _time(value: datetime | None) -> str:
    return value.astimezone(UTC).isoformat() if value else ""


def export_rows(subscribers: Iterable[Subscriber]) -> Iterator[str]:
    """The CSV text, a header line and then one line per subscriber."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    for s in subscribers:
        writer.writerow(
            _cell(v)
            for v in (
                str(s.kind),
                s.address,
                "\n".join(c.name for c in s.components),
                _time(s.confirmed_at),
                _time(s.created_at),
            )
        )
        yield flush()


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRefused([(0, f"the file is larger than {MAX_BYTES:,} bytes")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused([(0, f"the file is not UTF-8 text (byte {exc.start + 1})")]) from None


def _component_lookup() -> dict[str, str]:
    """Component names and ids, both leading to the id."""
    lookup: dict[str, str] = {}
    for c in db.session.scalars(select(Component)):
        lookup.setdefault(c.name, c.id)
        lookup[c.id] = c.id
    return lookup


def _parse_time(raw: str) -> datetime:
    if raw.lower() in YES:
        return now()
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("confirmed_at: give a time like 2026-11-27T18:00:00Z, or yes") from None
    if value.tzinfo is None:
        raise ValueError("confirmed_at: the time needs an offset, such as Z")
    if value > now():
        raise ValueError("confirmed_at: the time is in the future")
    return value.astimezone(UTC)


def _row(line: int, cells: dict[str, str], lookup: dict[str, str]) -> _Row:
    raw_kind = cells.get("kind", "").strip().lower() or "email"
    try:
        kind = SubscriberKind(raw_kind)
    except ValueError:
        kinds = ", ".join(str(k) for k in SubscriberKind)
        raise ValueError(f"kind: {raw_kind[:20]!r} is not one of {kinds}") from None
    raw = cells.get("address", "").strip()
    try:
        address = service.normalise(kind, raw)
    except ValidationError as exc:
        raise ValueError(f"address: {'; '.join(exc.errors.values())}") from None
    names = [n.strip() for n in cells.get("components", "").splitlines() if n.strip()]
    unknown = [n for n in names if n not in lookup]
    if unknown:
        raise ValueError(f"components: no component named {unknown[0][:80]!r}")
    raw_time = cells.get("confirmed_at", "").strip()
    confirmed = _parse_time(raw_time) if raw_time else None
    return _Row(line, kind, address, sorted({lookup[n] for n in names}) or None, confirmed)


def read(data: bytes) -> list[_Row]:
    """Every line checked; raises ImportRefused naming each bad one."""
    reader = csv.DictReader(io.StringIO(_decode(data), newline=""))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if "address" not in header:
        raise ImportRefused([(1, "the first line must name the columns, among them address")])
    reader.fieldnames = header
    lookup = _component_lookup()
    rows: list[_Row] = []
    errors: list[tuple[int, str]] = []
    seen: dict[tuple[SubscriberKind, str], int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= MAX_ROWS:
                raise ImportRefused([(line, f"a file may hold at most {MAX_ROWS:,} subscribers")])
            if None in cells:
                errors.append((line, "more cells than the header names"))
                continue
            values = {k: _uncell(v or "") for k, v in cells.items()}
            if not any(v.strip() for v in values.values()):
                continue
            try:
                row = _row(line, values, lookup)
            except ValueError as exc:
                errors.append((line, str(exc)))
                continue
            first = seen.setdefault((row.kind, row.address), line)
            if first != line:
                errors.append((line, f"address: the same address as line {first}"))
                continue
            rows.append(row)
    except csv.Error as exc:
        errors.append((reader.line_num, f"not readable as CSV ({exc})"))
    if errors:
        raise ImportRefused(errors[:MAX_ERRORS], max(0, len(errors) - MAX_ERRORS))
    return rows


def import_csv(*, actor: User, data: bytes) -> ImportReport:
    """Add the file's subscribers in one transaction (see the module docstring)."""
    rows = read(data)
    confirm_mail = [r for r in rows if r.kind == SubscriberKind.EMAIL and r.confirmed_at is None]
    if confirm_mail and not service.email_available():
        raise ImportRefused(
            [(confirm_mail[0].line, "address: confirmation mail needs an enabled SMTP channel")],
            len(confirm_mail) - 1,
        )
    existing = {
        (s.kind, s.address)
        for s in db.session.scalars(
            select(Subscriber).where(Subscriber.address.in_([r.address for r in rows]))
        )
    }
    components = {c.id: c for c in db.session.scalars(select(Component))}
    report = ImportReport()
    added: list[tuple[_Row, Subscriber]] = []
    at = now()
    for row in rows:
        if (row.kind, row.address) in existing:
            report.existing += 1
            continue
        subscriber = Subscriber(
            kind=row.kind, address=row.address, link_nonce=new_nonce(), created_at=at
        )
        if row.kind == SubscriberKind.WEBHOOK:
            subscriber.secret = new_secret()
        if row.confirmed_at is not None and row.kind != SubscriberKind.WEBHOOK:
            subscriber.confirmed_at = row.confirmed_at
            subscriber.components = [components[c] for c in row.components or []]
            report.confirmed += 1
        else:
            subscriber.pending_filter = {"components": row.components}
            subscriber.confirm_requested_at = at
            report.waiting += 1
        db.session.add(subscriber)
        added.append((row, subscriber))
    db.session.flush()
    for row, subscriber in added:
        record(
            actor,
            "subscriber.import",
            "subscriber",
            str(subscriber.id),
            None,
            {
                "kind": str(row.kind),
                "address": row.address,
                "source": f"CSV line {row.line}",
                "confirmed_at": iso(subscriber.confirmed_at),
                "components": row.components,
            },
        )
    db.session.commit()
    service.ring([s.id for _, s in added if s.confirmed_at is None])
    return report
