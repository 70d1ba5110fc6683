"""Month pages of the history, assembled from one rendered entry per incident.

A month lists hundreds of incidents once history is long; an update changes one of them.
So each incident's entry is rendered on its own, and the entries a month page was built
from are kept with the generation of history files (``entries/<month>.jsonl``, beside
the served ``history/``, never served), one file per month and copy of the site (a language
folder), to which each re-publish appends the entries it changed. Re-publishing a month
renders the entries of the incidents that changed and reuses the others as they were
written, without reading their rows. A full render writes every month's entries into its
new generation, so an entry is always one the current templates and code rendered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import get_locale
from markupsafe import Markup

from statuspage.models import Incident
from statuspage.publishing.pages import digest, templates
from statuspage.publishing.state import Month, history_order

FOLDER = "entries"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Entry:
    order: tuple[int, int, str]  # history_order in microseconds, so it survives JSON exactly
    updated_at: datetime  # the incident's, for the month's "last updated"
    html: str


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _fingerprint(incident: Incident) -> tuple[Any, ...]:
    """What an entry shows, so an equal fingerprint means an equal entry."""
    first = incident.updates[0].body if incident.updates else None
    return (
        incident.name,
        str(incident.status),
        str(incident.impact),
        incident.updated_at,
        incident.created_at,
        incident.started_at,
        incident.resolved_at,
        incident.scheduled_for,
        incident.scheduled_until,
        first,
    )


# Entries this process rendered, by copy and incident, as plain values (see pages.digest):
# a full render and the next incremental one render the same entries again.
_rendered: dict[tuple[str, str], tuple[bytes, tuple[int, int, str], datetime, str]] = {}


def entry(incident: Incident, folder: str) -> Entry:
    """The month list entry of ``incident`` in the copy under ``folder``, in the current
    language."""
    key = digest((str(get_locale()), *_fingerprint(incident)))
    held = _rendered.get((folder, incident.id))
    if held is not None and held[0] == key:
        return Entry(*held[1:])
    macro = templates().get_template("public/macros.html").module.month_entry  # type: ignore[attr-defined]
    started, created, _ = history_order(incident)
    html = str(macro(incident, f"/{folder}" if folder else ""))
    made = Entry((_micros(started), _micros(created), incident.id), incident.updated_at, html)
    if len(_rendered) > 65536:
        _rendered.clear()
    _rendered[folder, incident.id] = (key, made.order, made.updated_at, made.html)
    return made


def entries(incidents: Iterable[Incident], folder: str) -> dict[str, Entry]:
    return {i.id: entry(i, folder) for i in incidents}


def page(
    context: dict[str, Any], months: list[Month], index: int, listed: dict[str, Entry]
) -> bytes:
    """``months[index]`` listing ``listed``, newest first; its neighbours need their keys
    only."""
    ordered = sorted(listed.values(), key=lambda e: e.order, reverse=True)
    return (
        templates()
        .get_template("public/history_month.html")
        .render(
            context,
            path=f"/history/{months[index].key}",
            month=months[index],
            entries=Markup("".join(e.html for e in ordered)),
            page_updated=max(e.updated_at for e in ordered),
            newer=months[index - 1] if index > 0 else None,
            older=months[index + 1] if index + 1 < len(months) else None,
        )
        .encode()
    )


def _path(generation: Path, folder: str, key: str) -> Path:
    return generation / FOLDER / (folder or "_") / f"{key}.jsonl"


# entries file -> (its inode, size and mtime when this process last wrote or read it, the
# entries, its lines): a month re-published by the same worker is not read and parsed again.
_kept: dict[Path, tuple[tuple[int, int, int], dict[str, Entry], int]] = {}
_MOST_LINES = 64  # appended changes before the file is written again whole


def _stamp(path: Path) -> tuple[int, int, int]:
    found = path.stat()
    return found.st_ino, found.st_size, found.st_mtime_ns


def read(generation: Path | None, folder: str, key: str) -> dict[str, Entry]:
    """The entries month ``key`` of the copy under ``folder`` was last built from (none
    when they were not kept, or when any line of them is unreadable: a write cut short).
    Not to be changed: it may be the one this process holds."""
    if generation is None:
        return {}
    path = _path(generation, folder, key)
    try:
        stamp = _stamp(path)
        held = _kept.get(path)
        if held is not None and held[0] == stamp:
            return held[1]
        lines = path.read_text().splitlines()
        listed: dict[str, Entry] = {}
        for line in lines:
            for incident_id, value in json.loads(line).items():
                if value is None:
                    listed.pop(incident_id, None)
                else:
                    started, created, updated, html = value
                    at = _EPOCH + updated * _MICROSECOND
                    listed[incident_id] = Entry((started, created, incident_id), at, html)
    except (OSError, ValueError, TypeError):
        return {}
    _kept[path] = (stamp, listed, len(lines))
    return listed


def _line(changed: dict[str, Entry | None]) -> str:
    """One JSON object of changed entries (None: the incident left the month)."""
    return json.dumps(
        {
            i: None if e is None else [e.order[0], e.order[1], _micros(e.updated_at), e.html]
            for i, e in changed.items()
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


def write(generation: Path, folder: str, key: str, listed: dict[str, Entry]) -> None:
    """Keep ``listed`` as the entries of month ``key`` in the copy under ``folder``. Where
    this process holds what the file says, the entries that differ are appended as one
    line (an update changes one entry of hundreds); otherwise, and every so many lines, the
    file is written whole and replaced by a rename."""
    path = _path(generation, folder, key)
    held = _kept.get(path)
    try:
        current = _stamp(path)
    except FileNotFoundError:
        current = None
    if held is not None and held[0] == current and held[2] < _MOST_LINES:
        kept = held[1]
        changed: dict[str, Entry | None] = {i: e for i, e in listed.items() if kept.get(i) != e}
        changed.update(dict.fromkeys(kept.keys() - listed.keys()))
        if changed:
            with path.open("a") as log:
                log.write(_line(changed) + "\n")
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(_line(dict(listed)) + "\n")
        os.replace(temporary, path)
        # Not held: a full render writes every month, and the next publish reads the few
        # it changes (the tens of thousands of entries held would slow every collection).
        _kept.pop(path, None)
        return
    if len(_kept) > 1024:
        _kept.clear()
    _kept[path] = (_stamp(path), listed, held[2] + bool(changed))
