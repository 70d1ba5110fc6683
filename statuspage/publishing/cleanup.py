"""Delete the snapshots and generations no served page needs, outside any publish.

A full publish leaves the whole previous generation behind (some hundred thousand files at
a long history); deleting it took seconds, minutes under load, and the worker publishing an
incident update waited for it. So a publish only swaps, and this cleanup, run by beat,
first sets aside (one ``rename`` each, under the render lock) the snapshots beyond ``KEEP``
whose successor has been served for ``GRACE`` seconds and the generations none of the kept
snapshots links to, then deletes what was set aside a slice at a time, without the lock.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import current_app

from statuspage.publishing import manifest
from statuspage.publishing.snapshot import (
    GENERATIONS,
    KEEP,
    SNAPSHOTS,
    TRASH,
    current_dir,
    generation_of,
    render_lock,
)

GRACE = 120  # seconds a superseded snapshot and its generation stay, for pages loaded before
SLICE = 5000  # files deleted per run: a run holds a worker for well under a second


def clean_up(publish_dir: Path | None = None, grace: float = GRACE, budget: int = SLICE) -> int:
    """Set aside what no served page needs any more and delete up to ``budget`` entries of
    what was set aside; returns how many were deleted (``budget`` means: run again)."""
    root = Path(publish_dir or current_app.config["PUBLISH_DIR"])
    with render_lock(root):
        _set_aside(root, time.time_ns() - int(grace * 1e9))
    return _delete(root / TRASH, budget)


def _superseded_ns(successor: Path) -> int:
    """When ``successor`` was swapped in: its manifest is written right after the swap."""
    try:
        return manifest.path_for(successor).stat().st_mtime_ns
    except FileNotFoundError:
        return time.time_ns()


def _set_aside(root: Path, cutoff_ns: int) -> None:
    snapshots = root / SNAPSHOTS
    if not snapshots.is_dir():
        return
    ordered = sorted(snapshots.iterdir(), key=lambda p: p.name)
    kept = set(ordered[-KEEP:]) | {current_dir(root)}
    for snapshot, successor in zip(ordered, ordered[1:], strict=False):
        if snapshot in kept or _superseded_ns(successor) > cutoff_ns:
            kept.add(snapshot)
        else:
            _discard(root, snapshot)
            manifest.path_for(snapshot).unlink(missing_ok=True)
    used = {generation_of(p) for p in kept if p is not None}
    generations = root / GENERATIONS
    for path in generations.iterdir() if generations.is_dir() else []:
        if path.name not in used:
            _discard(root, path)


def _discard(root: Path, path: Path) -> None:
    trash = root / TRASH
    trash.mkdir(exist_ok=True)
    os.replace(path, trash / f"{path.parent.name}-{path.name}-{time.time_ns()}")


def _delete(trash: Path, budget: int) -> int:
    """Delete up to ``budget`` files, links and emptied directories under ``trash``,
    deepest first, so what a slice leaves is still a tree the next slice can walk."""
    deleted = 0
    for folder, directories, names in os.walk(trash, topdown=False):
        links = [d for d in directories if os.path.islink(os.path.join(folder, d))]
        for name in names + links:
            if deleted >= budget:
                return deleted
            os.unlink(os.path.join(folder, name))
            deleted += 1
        if folder != str(trash):
            if deleted >= budget:
                return deleted
            os.rmdir(folder)
            deleted += 1
    return deleted
