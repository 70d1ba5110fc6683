"""Alert payloads parsed at the edge into one shape, or refused with a reason.

Three senders, one alert object: Prometheus Alertmanager's webhook (payload version 4),
Grafana alerting's webhook contact point (its version "1" body carries the same alert
objects) and the generic shape documented in the README, ``{"alerts": [{"status",
"labels", "annotations", "startsAt", "endsAt", "fingerprint"}]}`` where only ``status``
and ``labels`` are required.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from statuspage.models import AlertStatus, IntegrationKind
from statuspage.text_rules import storable

MAX_ALERTS = 1000
MAX_LABELS = 100
MAX_KEY = 255
MAX_VALUE = 4000
MAX_FINGERPRINT = 128
# Go's zero time, which Alertmanager and Grafana send as endsAt while an alert fires.
ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
_FRACTION = re.compile(r"(\.\d{6})\d+")


class PayloadError(Exception):
    """The payload cannot be used; the message is the reason the sender is told."""


@dataclass(frozen=True)
class Alert:
    status: AlertStatus
    fingerprint: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None


def parse_time(value: Any, where: str) -> datetime | None:
    """RFC 3339 as Go writes it (nanoseconds allowed); the zero time means unset."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where} must be an RFC 3339 time")
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"{where} is not an RFC 3339 time: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where} has no time zone offset")
    parsed = parsed.astimezone(UTC)
    return None if parsed <= ZERO_TIME else parsed


def _string_map(value: Any, where: str, *, required: bool) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object of strings")
    if required and not value:
        raise PayloadError(f"{where} must not be empty")
    if len(value) > MAX_LABELS:
        raise PayloadError(f"{where} has more than {MAX_LABELS} entries")
    clean: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}.{key} must be a string")
        if len(key) > MAX_KEY or len(item) > MAX_VALUE:
            raise PayloadError(f"{where}.{key} is too long")
        if not storable(key) or not storable(item):
            raise PayloadError(f"{where}.{key} has characters that cannot be stored")
        clean[key] = item
    return clean


def labels_fingerprint(labels: dict[str, str]) -> str:
    """A stable id for an alert without one: its sorted label set, hashed."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _alert(raw: Any, index: int, *, fingerprint_required: bool) -> Alert:
    where = f"alerts[{index}]"
    if not isinstance(raw, dict):
        raise PayloadError(f"{where} must be an object")
    status = raw.get("status")
    if status not in tuple(AlertStatus):
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved'")
    labels = _string_map(raw.get("labels"), f"{where}.labels", required=True)
    annotations = _string_map(raw.get("annotations"), f"{where}.annotations", required=False)
    fingerprint = raw.get("fingerprint")
    if fingerprint in (None, "") and not fingerprint_required:
        fingerprint = labels_fingerprint(labels)
    if not isinstance(fingerprint, str) or not fingerprint:
        raise PayloadError(f"{where}.fingerprint is required")
    if len(fingerprint) > MAX_FINGERPRINT or not storable(fingerprint):
        raise PayloadError(f"{where}.fingerprint is not a usable id")
    return Alert(
        status=AlertStatus(status),
        fingerprint=fingerprint,
        labels=labels,
        annotations=annotations,
        starts_at=parse_time(raw.get("startsAt"), f"{where}.startsAt"),
        ends_at=parse_time(raw.get("endsAt"), f"{where}.endsAt"),
    )


def parse(kind: IntegrationKind, body: bytes) -> list[Alert]:
    """The alerts of a request body, or ``PayloadError`` naming what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"the body is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise PayloadError("the body must be a JSON object")
    if kind == IntegrationKind.ALERTMANAGER and document.get("version") != "4":
        raise PayloadError(
            f"Alertmanager webhook payload version 4 expected, got {document.get('version')!r}"
        )
    alerts = document.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("'alerts' must be a list")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"at most {MAX_ALERTS} alerts per request")
    # Alertmanager and Grafana always send a fingerprint; a generic sender may leave it
    # out, and then the label set identifies the alert.
    required = kind != IntegrationKind.GENERIC
    return [_alert(raw, i, fingerprint_required=required) for i, raw in enumerate(alerts)]
