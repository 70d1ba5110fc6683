"""One record that cannot be rendered never stops the page: the render leaves it out.

When rendering the whole site fails, each component and each incident is rendered on its
own; those that still fail are left out of every file of the snapshot, and the rest is
published. The operators hear of it: the error is logged, the admin shows a banner on
every page (read from ``problems.json`` beside the snapshots, so it needs no database),
and the operator-alert channels get an alert per incident. A record left out is tried
again once it changes, and comes back as soon as it renders.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from statuspage.alerts import alert_operators
from statuspage.lib.clock import iso, now
from statuspage.models import AlertKind, Component, Incident
from statuspage.publishing.pages import incident_fingerprint
from statuspage.publishing.state import PublicState
from statuspage.text_rules import one_line

log = logging.getLogger(__name__)

PROBLEMS = "problems.json"
Files = dict[str, bytes]
# (id, digest) of the records this process saw fail: rendering is deterministic, so they
# are left out at once until they change; a new process (after a deploy) tries them again.
_failing: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Problem:
    kind: str  # "incident" or "component"
    id: str
    name: str
    error: str
    digest: str  # what the record held when it failed; a change is worth another try
    since: str


def _digest(row: Incident | Component, at: datetime) -> str:
    if isinstance(row, Incident):
        held: Any = incident_fingerprint(row, at)
    else:
        held = [getattr(row, c.key) for c in row.__mapper__.column_attrs]
    return hashlib.sha256(repr(held).encode()).hexdigest()[:16]


def _error(exc: BaseException) -> str:
    return one_line(f"{type(exc).__name__}: {exc}")[:300]


def _fails(render: Callable[[PublicState], Files], state: PublicState) -> BaseException | None:
    try:
        render(state)
    except Exception as exc:
        return exc
    return None


def render_site(
    render: Callable[[PublicState], Files], state: PublicState, known: list[Problem]
) -> tuple[Files, list[Problem]]:
    """The files of ``state`` and the records left out of them. A record ``known`` to fail
    is left out without another try if this process saw it fail as it is now."""
    still = still_failing(state, known)
    try:
        return render(_without(state, still)), still
    except Exception:
        log.exception("publishing failed as a whole; rendering record by record")
        found = _culprits(render, _without(state, still))
        if not found:
            raise  # no one record is to blame: fail as before, the old snapshot stays
    problems = still + found
    return render(_without(state, problems)), problems


def still_failing(state: PublicState, known: list[Problem]) -> list[Problem]:
    """The records of ``state`` known to fail that this process saw fail as they are now."""
    rows = {row.id: row for row in [*state.components, *state.everything]}
    return [
        p
        for p in known
        if (p.id, p.digest) in _failing
        and p.id in rows
        and _digest(rows[p.id], state.at) == p.digest
    ]


def _without(state: PublicState, problems: list[Problem]) -> PublicState:
    return state.without(
        {p.id for p in problems if p.kind == "incident"},
        {p.id for p in problems if p.kind == "component"},
    )


def _culprits(render: Callable[[PublicState], Files], state: PublicState) -> list[Problem]:
    everyone = {i.id for i in state.everything}
    components = {c.id for c in state.components}
    if _fails(render, state.without(everyone, components)):
        return []  # the page fails with no record at all
    found = []
    for component in state.components:
        exc = _fails(render, state.without(everyone, components - {component.id}))
        if exc is not None:
            found.append(_problem("component", component, exc, state.at))
    for incident in state.everything:
        exc = _fails(render, state.without(everyone - {incident.id}, components))
        if exc is not None:
            found.append(_problem("incident", incident, exc, state.at))
    return found


def _problem(kind: str, row: Incident | Component, exc: BaseException, at: datetime) -> Problem:
    log.error("publishing leaves out %s %s: %s", kind, row.id, _error(exc), exc_info=exc)
    digest = _digest(row, at)
    _failing.add((row.id, digest))
    return Problem(kind, row.id, one_line(row.name or ""), _error(exc), digest, iso(now()))


def read_problems(publish_dir: Path) -> list[Problem]:
    """The records the served snapshot leaves out (none when the file is missing)."""
    try:
        rows = json.loads((publish_dir / PROBLEMS).read_text())
    except (OSError, ValueError):
        return []
    return [Problem(**row) for row in rows]


def record_problems(publish_dir: Path, problems: list[Problem]) -> None:
    """Replace the list the admin shows, and alert the operators about each incident that
    was just left out (once per incident update: the alerts' own de-duplication)."""
    before = {p.id: p for p in read_problems(publish_dir)}
    kept = [
        Problem(**{**asdict(p), "since": before[p.id].since}) if p.id in before else p
        for p in problems
    ]
    temporary = publish_dir / f".{PROBLEMS}.tmp"
    temporary.write_text(json.dumps([asdict(p) for p in kept]))
    os.replace(temporary, publish_dir / PROBLEMS)
    for problem in kept:
        if problem.kind == "incident" and problem.id not in before:
            text = f"The public page leaves out “{problem.name}”: {problem.error}"
            alert_operators(problem.id, AlertKind.UNPUBLISHED, text)
