"""Render the whole public site into a new directory and swap it in atomically.

The web process (or nginx, or a CDN origin) only ever serves ``<publish_dir>/current``, a
symlink replaced with one ``rename``: readers see the old snapshot or the new one, never a
mix. Renders are serialised by a file lock and coalesced: a caller whose changes were
committed before a render *started* is covered by that render and does not start another,
so a burst of changes costs at most one render in progress plus one more.

Files whose bytes did not change are hard links to the previous snapshot's files. Their
mtime, and so ``Last-Modified`` and nginx's ETag, stay put across re-publishes, and the
unchanged ``.gz`` siblings need no second compression.
"""

from __future__ import annotations

import fcntl
import gzip
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app

from statuspage.extensions import db
from statuspage.publishing import api_v2, calendar, embed, feeds, pages
from statuspage.publishing.quarantine import (
    Problem,
    read_problems,
    record_problems,
    render_site,
)
from statuspage.publishing.state import PublicState, load_state

CURRENT = "current"
SNAPSHOTS = "snapshots"
KEEP = 3  # the served snapshot and two before it, for readers still streaming old files
COMPRESSIBLE = (".html", ".json", ".rss", ".atom", ".ics", ".svg", ".css", ".js")
MIN_COMPRESS = 256


@contextmanager
def _render_lock(publish_dir: Path) -> Iterator[None]:
    publish_dir.mkdir(parents=True, exist_ok=True)
    with open(publish_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _json(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def render_files(known: list[Problem] | None = None) -> tuple[dict[str, bytes], list[Problem]]:
    """Every public file of the current state, keyed by its path in the snapshot, and the
    records left out because they cannot be rendered (see quarantine)."""
    state = load_state(current_app.config["BASE_URL"])
    return render_site(render_state, state, known or [])


def render_state(state: PublicState) -> dict[str, bytes]:
    status = api_v2.status_doc(state)
    files = {f"api/v2/{name}": _json(doc) for name, doc in api_v2.documents(state).items()}
    files["widget.json"] = _json(embed.widget_doc(state))
    files.update(pages.documents(state, status))
    files.update(feeds.documents(state))
    files.update(embed.documents(state))
    files.update(calendar.documents(state))
    static = Path(current_app.static_folder or "static")
    for name in pages.ASSETS:
        files[f"static/{name}"] = (static / name).read_bytes()
    return files


def _same(old: Path, data: bytes) -> bool:
    try:
        return old.stat().st_size == len(data) and old.read_bytes() == data
    except FileNotFoundError:
        return False


def _reuse(old: Path, new: Path) -> None:
    try:
        os.link(old, new)
    except OSError:  # a filesystem without hard links: a copy keeps the mtime too
        shutil.copy2(old, new)


def write_files(target: Path, files: dict[str, bytes], previous: Path | None) -> None:
    made: set[Path] = set()
    for relative, data in files.items():
        path = target / relative
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        old = previous / relative if previous is not None else None
        compress = relative.endswith(COMPRESSIBLE) and len(data) >= MIN_COMPRESS
        if old is not None and _same(old, data):
            _reuse(old, path)
            old_gz = old.with_name(old.name + ".gz")
            if compress and old_gz.exists():
                _reuse(old_gz, path.with_name(path.name + ".gz"))
                continue
        else:
            path.write_bytes(data)
        if compress:
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, 6, mtime=0))


def _started_ns(snapshot: Path | None) -> int:
    try:
        return int(snapshot.name) if snapshot is not None else -1
    except ValueError:
        return -1


def _prune(snapshots: Path, keep: Path) -> None:
    old = sorted((p for p in snapshots.iterdir() if p != keep), key=lambda p: p.name)
    for path in old[: max(0, len(old) - (KEEP - 1))]:
        shutil.rmtree(path, ignore_errors=True)


def publish(publish_dir: Path | None = None) -> Path:
    """Make a snapshot that includes every change committed before this call the one
    served; returns its directory (a newer render's, when one already covers the call)."""
    root = Path(publish_dir or current_app.config["PUBLISH_DIR"])
    asked_ns = time.time_ns()
    with _render_lock(root):
        served = current_dir(root)
        if _started_ns(served) > asked_ns:
            assert served is not None
            return served
        snapshots = root / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        target = snapshots / f"{time.time_ns():020d}"
        target.mkdir()
        try:
            files, problems = render_files(read_problems(root))
            db.session.commit()  # the page row, when this render created it
            write_files(target, files, served)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        link = root / f".{CURRENT}.tmp"
        link.unlink(missing_ok=True)
        link.symlink_to(Path(SNAPSHOTS) / target.name)
        os.replace(link, root / CURRENT)
        _prune(snapshots, target)
        record_problems(root, problems)
        db.session.commit()  # the operator alerts about records left out
    return target


def current_dir(publish_dir: Path) -> Path | None:
    """The directory now being served, or None before the first publish."""
    path = publish_dir / CURRENT
    return path.resolve() if path.exists() else None
