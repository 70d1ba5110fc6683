"""Publish targets beyond the local folder: S3-compatible buckets.

A bucket is configured in the admin (a ``Channel`` of kind ``s3``, its secret key
encrypted) or by settings (``STATUSPAGE_S3_*``). Each gets its own outbox row per update:
the row waits until the local snapshot holds the update, then mirrors that snapshot
(``bucket.mirror``). Page changes that are not updates (component edits, the five-minute
re-publish) are mirrored by a task after their render, without a ledger row.
"""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app

from statuspage.errors import ValidationError
from statuspage.lib import s3
from statuspage.lib.clock import now
from statuspage.models import Channel
from statuspage.publishing import bucket
from statuspage.publishing.snapshot import current_dir

SETTINGS_TARGET_ID = 1  # the bucket of the settings, a page target beside the folder (0)
SETTINGS_MAILBOX = "s3:settings"
_BUCKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9]$")
_PREFIX = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9_.-]{0,99}/){0,8}$")


@dataclass(frozen=True)
class Target:
    name: str
    endpoint: s3.Endpoint
    prefix: str
    channel_id: int | None  # None: the bucket of the settings

    @property
    def mailbox(self) -> str:
        return SETTINGS_MAILBOX if self.channel_id is None else f"s3:{self.channel_id}"


def normalise_prefix(raw: str) -> str:
    prefix = raw.strip().strip("/")
    return f"{prefix}/" if prefix else ""


def check_config(config: Mapping[str, Any]) -> None:
    """Refuse a bucket name or prefix that S3 would refuse or that could escape the
    folder (``..``), naming the field."""
    errors = {}
    if not _BUCKET.match(config.get("bucket") or "") or ".." in config.get("bucket", ""):
        errors["bucket"] = "is not a bucket name (3 to 63 letters, digits, dots, hyphens)"
    prefix = normalise_prefix(config.get("prefix") or "")
    if not _PREFIX.match(prefix) or "/../" in f"/{prefix}":
        errors["prefix"] = "must be folder names of letters, digits, _ . - separated by /"
    if errors:
        raise ValidationError(errors)


def from_channel(channel: Channel) -> Target:
    config = channel.config or {}
    return Target(
        name=channel.name,
        endpoint=s3.Endpoint(
            bucket=config["bucket"],
            url=config.get("endpoint_url") or None,
            region=config.get("region") or "us-east-1",
            access_key_id=config.get("access_key_id"),
            secret_access_key=channel.secrets.get("secret_access_key"),
            addressing=config.get("addressing") or "auto",
        ),
        prefix=normalise_prefix(config.get("prefix") or ""),
        channel_id=channel.id,
    )


def settings_target() -> Target | None:
    config = current_app.config
    if not config.get("S3_BUCKET"):
        return None
    return Target(
        name=f"Bucket {config['S3_BUCKET']} (settings)",
        endpoint=s3.Endpoint(
            bucket=config["S3_BUCKET"],
            url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION") or "us-east-1",
            access_key_id=config.get("S3_ACCESS_KEY_ID"),
            secret_access_key=config.get("S3_SECRET_ACCESS_KEY"),
            addressing=config.get("S3_ADDRESSING") or "auto",
        ),
        prefix=normalise_prefix(config.get("S3_PREFIX") or ""),
        channel_id=None,
    )


def enabled() -> list[Target]:
    """Every bucket the site is published to: the settings' one, then the admin's."""
    found = [from_channel(channel) for channel in Channel.publish_targets()]
    configured = settings_target()
    return [configured, *found] if configured else found


def client_for(target: Target) -> Any:
    allow = bool(current_app.config.get("ALLOW_PRIVATE_PUBLISH_TARGETS"))
    timeout = float(current_app.config.get("HTTP_TIMEOUT") or 10)
    return s3.client(target.endpoint, allow_private=allow, timeout=timeout)


@contextmanager
def _lock(publish_dir: Path, target: Target) -> Iterator[None]:
    """One mirror of a bucket at a time (per shared publish directory), so an older
    snapshot's upload never finishes after, and over, a newer one's."""
    publish_dir.mkdir(parents=True, exist_ok=True)
    with open(publish_dir / f".{target.mailbox.replace(':', '-')}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def mirror(target: Target, *, full: bool = False) -> tuple[str, bucket.Report] | None:
    """Mirror the snapshot being served to ``target``; returns its name and what was
    done, or None before anything was published. botocore's errors pass through.
    ``full``: list the bucket and put back what was changed there by hand (done on its
    own every ``bucket.VERIFY_EVERY``)."""
    publish_dir = Path(current_app.config["PUBLISH_DIR"])
    grace = timedelta(seconds=int(current_app.config.get("S3_DELETE_GRACE_SECONDS", 3600)))
    with _lock(publish_dir, target):
        snapshot = current_dir(publish_dir)
        if snapshot is None:
            return None
        report = bucket.mirror(
            client_for(target),
            target.endpoint.bucket,
            target.prefix,
            snapshot,
            grace=grace,
            at=now(),
            full=full,
        )
    return snapshot.name, report
