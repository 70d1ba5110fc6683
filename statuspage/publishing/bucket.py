"""Mirror a finished snapshot directory into an S3-compatible bucket.

The bucket's key space is the site's URL space (``/history`` is the key ``history``,
``/`` is ``index.html``), so a CDN or a static website endpoint serves it as it is.

- **Only what changed** goes up: a manifest object (``.statuspage-manifest.json``, a name
  no snapshot file can have, written last) records each uploaded key's SHA-256 and the
  ETag the store answered. An ordinary mirror reads that one object and uploads the files
  whose hash differs from it, without listing the bucket: its cost follows the change, not
  the site. A full mirror (asked for, or when the last was ``VERIFY_EVERY`` ago) also
  lists the bucket and compares ETags, so an object changed or removed by hand is put back.
- **Links never dangle**: uploads go in waves, leaves first: assets and badges, then pages
  and documents (deeper paths before the shallower ones that link to them), and last the
  entry points: ``index.html``, ``api/v2/summary.json`` and the feeds.
- **Removals wait**: an object that left the site is deleted only after ``grace`` has
  passed since a mirror first saw it gone, for readers and caches still holding pages
  that link to it. Only keys this mirror uploaded are ever deleted.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from statuspage.public.site import ASSET_CACHE, PAGE_CACHE, TYPES

MANIFEST = ".statuspage-manifest.json"
PARALLEL = 8
ENTRY_POINTS = {"index.html", "api/v2/summary.json"}
FEEDS = (".rss", ".atom")
VERIFY_EVERY = timedelta(hours=1)
_MISSING = {"NoSuchKey", "404"}


@dataclass
class Report:
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    leaving: int = 0  # gone from the site, deleted once the grace has passed

    def summary(self) -> str:
        return (
            f"{len(self.uploaded)} uploaded, {self.unchanged} unchanged, "
            f"{len(self.deleted)} deleted, {self.leaving} awaiting deletion"
        )


@dataclass(frozen=True)
class SiteFile:
    key: str
    path: Path
    sha256: str

    @property
    def content_type(self) -> str:
        return TYPES.get(self.path.suffix, "application/octet-stream")

    @property
    def cache_control(self) -> str:
        return ASSET_CACHE if self.key.startswith("static/") else PAGE_CACHE

    @property
    def wave(self) -> tuple[int, int]:
        """Upload order: (tier, -depth). Tier 0 is what pages link to and that links to
        nothing, 2 the entry points readers and clients start from."""
        if self.key in ENTRY_POINTS or self.key.endswith(FEEDS):
            tier = 2
        elif self.path.suffix in (".html", ".json"):
            tier = 1
        else:
            tier = 0
        return tier, -self.key.count("/")


def object_key(relative: str) -> str:
    """The key a snapshot file is served under: its URL path without the leading slash."""
    if relative != "index.html" and relative.endswith(".html"):
        return relative.removesuffix(".html")
    return relative


# SHA-256 of the files this process has read, by what identifies a file's bytes without
# reading them. A publish keeps the inode (and mtime) of every file it does not change, so
# a mirror reads the files the change wrote, not the history.
_hashes: dict[tuple[int, int, int, int], str] = {}


def _sha256(path: Path) -> str | None:
    """The file's hash; None when ``path`` is not a regular file."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    key = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
    digest = _hashes.get(key)
    if digest is None:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if len(_hashes) > 262144:
            _hashes.clear()
        _hashes[key] = digest
    return digest


def site_files(snapshot: Path) -> Iterator[SiteFile]:
    """Every file of the snapshot (not the precompressed ``.gz`` siblings: a CDN
    compresses for its readers, and a bucket cannot choose by ``Accept-Encoding``)."""
    found = [
        Path(folder) / name
        for folder, _, names in os.walk(snapshot, followlinks=True)  # history is linked in
        for name in names
        if not name.endswith(".gz")
    ]
    for path in sorted(found):
        digest = _sha256(path)
        if digest is not None:
            relative = path.relative_to(snapshot).as_posix()
            yield SiteFile(object_key(relative), path, digest)


def _listing(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    """Every key under the prefix with its ETag, as the store lists them."""
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"][len(prefix) :]] = item["ETag"]
    return found


def _read_manifest(s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
    try:
        body = s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _MISSING:
            return {"files": {}}
        raise
    try:
        manifest = json.loads(body)
    except ValueError:
        return {"files": {}}  # unreadable: everything is uploaded again, nothing deleted
    return manifest if isinstance(manifest.get("files"), dict) else {"files": {}}


def _verified_at(manifest: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(manifest["verified_at"])
    except (KeyError, TypeError, ValueError):
        return None


def mirror(
    s3: Any,
    bucket: str,
    prefix: str,
    snapshot: Path,
    *,
    grace: timedelta,
    at: datetime,
    full: bool = False,
) -> Report:
    """Make the bucket serve ``snapshot``; raises botocore's errors as they come, after
    recording in the manifest whatever did reach the bucket. ``full``: list the bucket
    and put back what changed there, whenever the last full mirror was."""
    manifest = _read_manifest(s3, bucket, prefix)
    known: dict[str, dict[str, str]] = manifest["files"]
    verified_at = _verified_at(manifest)
    full = full or verified_at is None or at - verified_at >= VERIFY_EVERY
    listed = _listing(s3, bucket, prefix) if full else None
    report = Report()
    files = list(site_files(snapshot))
    present = {f.key for f in files}
    changed = []
    for item in files:
        entry = known.get(item.key)
        if (
            entry
            and entry.get("sha256") == item.sha256
            and (listed is None or listed.get(item.key) == entry.get("etag"))
        ):
            entry.pop("gone_since", None)
            report.unchanged += 1
        else:
            changed.append(item)
    try:
        _upload(s3, bucket, prefix, changed, known, report)
        _remove_gone(s3, bucket, prefix, present, listed, known, grace, at, report)
        if full:
            verified_at = at  # only once all of it reached the bucket
    finally:
        written = {"snapshot": snapshot.name, "files": known}
        if verified_at is not None:
            written["verified_at"] = verified_at.isoformat()
        s3.put_object(
            Bucket=bucket,
            Key=prefix + MANIFEST,
            Body=json.dumps(written).encode(),
            ContentType="application/json",
            CacheControl="no-store",
        )
    return report


def _upload(
    s3: Any,
    bucket: str,
    prefix: str,
    changed: list[SiteFile],
    known: dict[str, dict[str, str]],
    report: Report,
) -> None:
    waves: dict[tuple[int, int], list[SiteFile]] = {}
    for item in changed:
        waves.setdefault(item.wave, []).append(item)

    def put(item: SiteFile) -> tuple[SiteFile, str]:
        answer = s3.put_object(
            Bucket=bucket,
            Key=prefix + item.key,
            Body=item.path.read_bytes(),
            ContentType=item.content_type,
            CacheControl=item.cache_control,
        )
        return item, answer["ETag"]

    with ThreadPoolExecutor(PARALLEL) as pool:
        for wave in sorted(waves):
            # A wave starts only when the one before it is wholly in the bucket.
            for item, etag in pool.map(put, waves[wave]):
                known[item.key] = {"sha256": item.sha256, "etag": etag}
                report.uploaded.append(item.key)


def _remove_gone(
    s3: Any,
    bucket: str,
    prefix: str,
    present: set[str],
    listed: dict[str, str] | None,
    known: dict[str, dict[str, str]],
    grace: timedelta,
    at: datetime,
    report: Report,
) -> None:
    due = []
    for key in sorted(set(known) - present):
        if listed is not None and key not in listed:
            del known[key]  # already gone from the bucket
            continue
        since = datetime.fromisoformat(known[key].setdefault("gone_since", at.isoformat()))
        if at - since >= grace:
            due.append(key)
        else:
            report.leaving += 1
    for start in range(0, len(due), 1000):  # DeleteObjects takes at most 1,000 keys
        chunk = due[start : start + 1000]
        answer = s3.delete_objects(
            Bucket=bucket,
            Delete={"Objects": [{"Key": prefix + k} for k in chunk], "Quiet": True},
        )
        failed = {e["Key"][len(prefix) :] for e in answer.get("Errors", [])}
        for key in chunk:
            if key not in failed:
                del known[key]
                report.deleted.append(key)
