"""The one source of "now", so tests and the cadence logic can pin time."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """Statuspage's timestamp form: milliseconds and an explicit offset."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds")
