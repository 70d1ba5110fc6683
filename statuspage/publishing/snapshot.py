"""Write rendered files as a new snapshot and swap it in atomically.

The web process (or nginx, or a CDN origin) only ever serves ``<publish_dir>/current``, a
symlink replaced with one ``rename``. Renders are serialised by a file lock and coalesced: a
caller whose changes were committed before a render *started* is covered by that render and
does not start another, so a burst of changes costs at most one render in progress plus one
more.

A snapshot directory holds the files every change shows (home page, ``/api/v2``, feeds,
assets: a few dozen) and links to a *generation* under ``shared/`` for the files that grow
with history (``incidents/``, ``history/``, ``components/``, at the root and in each
language's folder). An incremental publish
writes the history files it changed into that generation before the swap, each by its own
``rename``, new files before changed ones; files that left the site stay until no kept
snapshot can link to them. So a page being served links only to files that exist, and a
publish touches as many files as its change, never the whole history. A full publish (the
first one, ``statuspage publish --full``, or new templates or code) writes a new
generation, so it swaps in as a whole. Snapshots and generations no longer served are
deleted by ``cleanup.clean_up`` on beat, never inside a publish: a caller waits only for
its render and the swap.

Files whose bytes did not change keep their inode (hard links, or untouched in the
generation): their mtime, and so ``Last-Modified`` and nginx's ETag, stay put across
re-publishes, and the unchanged ``.gz`` siblings need no second compression.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import current_app

from statuspage.extensions import db
from statuspage.i18n import LANGUAGES
from statuspage.publishing import gzipped, manifest, months
from statuspage.publishing.quarantine import read_problems, record_problems
from statuspage.publishing.render import Render, render

CURRENT = "current"
SNAPSHOTS = "snapshots"
GENERATIONS = "shared"
TRASH = ".trash"  # what the cleanup set aside, deleted a slice at a time (see cleanup.py)
# The directories that grow with history, at the root and in each language's folder.
SHARED = ("incidents", "history", "components")
KEEP = 3  # the served snapshot and two before it, for readers still streaming old files
COMPRESSIBLE = (".html", ".json", ".rss", ".atom", ".ics", ".svg", ".css", ".js")
MIN_COMPRESS = 256


@contextmanager
def render_lock(publish_dir: Path) -> Iterator[None]:
    publish_dir.mkdir(parents=True, exist_ok=True)
    with open(publish_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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
            path.with_name(path.name + ".gz").write_bytes(gzipped.compress(data))


def _shared(relative: str) -> bool:
    """A history-sized file: under a shared directory at the root or in a language's copy."""
    parts = relative.split("/", 2)
    return parts[0] in SHARED or (len(parts) == 3 and parts[0] in LANGUAGES and parts[1] in SHARED)


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` by a rename, so a reader gets the old bytes or the new ones."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def update_in_place(generation: Path, files: dict[str, bytes]) -> None:
    """Write the files of ``files`` that differ from the generation's, new files first:
    nothing served links to them yet, and the changed ones may link to them."""
    missing, differing = [], []
    for relative, data in files.items():
        path = generation / relative
        if not path.exists():
            missing.append((path, relative, data))
        elif not _same(path, data):
            differing.append((path, relative, data))
    for path, relative, data in missing + differing:
        path.parent.mkdir(parents=True, exist_ok=True)
        gz = path.with_name(path.name + ".gz")
        if relative.endswith(COMPRESSIBLE) and len(data) >= MIN_COMPRESS:
            _replace(gz, gzipped.compress(data))
        else:
            gz.unlink(missing_ok=True)
        _replace(path, data)


def _link_generation(target: Path, generation: str) -> None:
    """Link the shared directories of the root and of each language's copy (``de/…``)."""
    shared = target.parent.parent / GENERATIONS / generation
    for folder in ("", *LANGUAGES):
        up = [".."] * (3 if folder else 2)
        (target / folder).mkdir(exist_ok=True)
        for name in SHARED:
            (shared / folder / name).mkdir(parents=True, exist_ok=True)
            (target / folder / name).symlink_to(Path(*up, GENERATIONS, generation, folder, name))


def generation_of(snapshot: Path) -> str | None:
    try:
        return Path(os.readlink(snapshot / SHARED[0])).parent.name
    except OSError:
        return None  # an older layout, holding its own copies


def write_snapshot(root: Path, target: Path, served: Path | None, result: Render) -> None:
    """Write ``result`` as the snapshot ``target``, sharing what it can with ``served``."""
    head = {k: v for k, v in result.files.items() if not _shared(k)}
    shared = {k: v for k, v in result.files.items() if _shared(k)}
    if result.full:
        result.manifest.generation = target.name
        generation = root / GENERATIONS / target.name
        write_files(generation, shared, served)
    else:
        generation = root / GENERATIONS / result.manifest.generation
        update_in_place(generation, shared)
        for relative in shared:
            result.manifest.pending.pop(relative, None)
        for relative in result.removed:
            result.manifest.pending.setdefault(relative, target.name)
    for (folder, key), listed in result.entries.items():
        months.write(generation, folder, key, listed)
    write_files(target, head, served)
    _link_generation(target, result.manifest.generation)


def _started_ns(snapshot: Path | None) -> int:
    try:
        return int(snapshot.name) if snapshot is not None else -1
    except ValueError:
        return -1


def _drop_left(root: Path, served: Path, pending: dict[str, str]) -> None:
    """Remove the files that left the site which no snapshot still kept can link to (the
    snapshots themselves and whole generations are the cleanup's, see cleanup.py)."""
    oldest = min(p.name for p in (root / SNAPSHOTS).iterdir())
    generation = root / GENERATIONS / (generation_of(served) or "")
    for relative, since in list(pending.items()):
        if since <= oldest:
            for path in (generation / relative, generation / (relative + ".gz")):
                path.unlink(missing_ok=True)
            del pending[relative]


def publish(publish_dir: Path | None = None, full: bool = False) -> Path:
    """Make a snapshot that includes every change committed before this call the one
    served; returns its directory (a newer render's, when one already covers the call).
    ``full`` renders every file again, whatever changed."""
    root = Path(publish_dir or current_app.config["PUBLISH_DIR"])
    asked_ns = time.time_ns()
    with render_lock(root):
        served = current_dir(root)
        if _started_ns(served) > asked_ns and not full:
            assert served is not None
            return served
        snapshots = root / SNAPSHOTS
        snapshots.mkdir(exist_ok=True)
        target = snapshots / f"{time.time_ns():020d}"
        target.mkdir()
        try:
            previous = manifest.read(served)
            shared = root / GENERATIONS / previous.generation if previous else None
            result = render(previous, read_problems(root), full, shared)
            db.session.commit()
            write_snapshot(root, target, served, result)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        link = root / f".{CURRENT}.tmp"
        link.unlink(missing_ok=True)
        link.symlink_to(Path(SNAPSHOTS) / target.name)
        os.replace(link, root / CURRENT)
        _drop_left(root, target, result.manifest.pending)
        manifest.write(target, result.manifest)
        record_problems(root, result.problems)
        db.session.commit()  # the operator alerts about records left out
    return target


def current_dir(publish_dir: Path) -> Path | None:
    """The directory now being served, or None before the first publish."""
    path = publish_dir / CURRENT
    return path.resolve() if path.exists() else None
