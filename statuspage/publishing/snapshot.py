"""Render the whole public site into a new directory and swap it in atomically.

The web process only ever serves ``<publish_dir>/current``, a symlink that is replaced
with one ``rename``; readers see the old snapshot or the new one, never a mix. Renders
are serialised by a file lock, so the newest render always wins.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app, render_template

from statuspage.publishing import api_v2
from statuspage.publishing.state import load_state

CURRENT = "current"
SNAPSHOTS = "snapshots"
KEEP = 3


@contextmanager
def _render_lock(publish_dir: Path) -> Iterator[None]:
    publish_dir.mkdir(parents=True, exist_ok=True)
    with open(publish_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(root: Path, relative: str, data: bytes) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _json(doc: object) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def render(target: Path) -> None:
    """Write every public file of the current state under ``target``."""
    state = load_state(current_app.config["BASE_URL"])
    for name, doc in api_v2.documents(state).items():
        _write(target, f"api/v2/{name}", _json(doc))
    status = api_v2.status_doc(state)
    _write(
        target, "index.html", render_template("public/index.html", s=state, status=status).encode()
    )
    for incident in [*state.incidents, *state.maintenances]:
        html = render_template("public/incident.html", s=state, incident=incident)
        _write(target, f"incidents/{incident.id}.html", html.encode())
    # Static assets travel with the snapshot, so any static server can serve it alone.
    shutil.copytree(current_app.static_folder, target / "static")


def _prune(snapshots: Path, keep: Path) -> None:
    old = sorted((p for p in snapshots.iterdir() if p != keep), key=lambda p: p.name)
    for path in old[:-KEEP] if len(old) > KEEP else []:
        shutil.rmtree(path, ignore_errors=True)


def publish(publish_dir: Path | None = None) -> Path:
    """Render a complete snapshot and make it the one served; returns its directory."""
    root = Path(publish_dir or current_app.config["PUBLISH_DIR"])
    with _render_lock(root):
        snapshots = root / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        target = snapshots / f"{time.time_ns():020d}"
        target.mkdir()
        try:
            render(target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        link = root / f".{CURRENT}.tmp"
        link.unlink(missing_ok=True)
        link.symlink_to(Path(SNAPSHOTS) / target.name)
        os.replace(link, root / CURRENT)
        _prune(snapshots, target)
    return target


def current_dir(publish_dir: Path) -> Path | None:
    """The directory now being served, or None before the first publish."""
    path = publish_dir / CURRENT
    return path.resolve() if path.exists() else None
