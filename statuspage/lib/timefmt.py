"""Human-readable times for templates (UTC in the HTML; scripts may localise)."""

from __future__ import annotations

from datetime import datetime

from statuspage.lib.clock import iso


def human(value: datetime | None) -> str:
    return value.strftime("%b %-d, %Y %H:%M UTC") if value else ""


def clock_time(value: datetime) -> str:
    """A time of today as a sentence quotes it ("next update by 14:30 UTC")."""
    return value.strftime("%H:%M UTC")


def machine(value: datetime | None) -> str:
    return iso(value) or ""
