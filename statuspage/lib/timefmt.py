"""Times and numbers for people, in the current language (UTC in the HTML; scripts may
localise to the reader's zone). Outside a request or a forced locale that is English."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.numbers import format_decimal
from flask_babel import get_locale

from statuspage.lib.clock import iso


def _locale() -> Locale:
    return get_locale() or Locale.parse("en")


def human(value: datetime | None) -> str:
    """ "Nov 27, 2026 18:00 UTC", "27. Nov. 2026, 18:00 UTC", "2026年11月27日 18:00 UTC"."""
    if value is None:
        return ""
    locale = _locale()
    if locale.language == "en":  # the form feeds, posts and emails have always used
        return value.strftime("%b %-d, %Y %H:%M UTC")
    return _human(value.astimezone(UTC) if value.tzinfo else value, str(locale))


@lru_cache(maxsize=65536)
def _human(at: datetime, locale: str) -> str:
    """Babel parses its patterns on every call; a page shows the same times in every
    language copy and on several pages, so each is formatted once."""
    parsed = Locale.parse(locale)
    glue = parsed.datetime_formats["medium"]
    moment = glue.format(
        format_time(at, "HH:mm", locale=parsed),
        format_skeleton("yMMMd", at, locale=parsed),
    )
    return f"{moment} UTC"


def day(value: date) -> str:
    """A calendar day: "Nov 27, 2026", "27. Nov. 2026", "2026年11月27日"."""
    return format_skeleton("yMMMd", value, locale=_locale())


def month(value: date) -> str:
    """A month of a year: "November 2026", "novembre 2026", "2026年11月"."""
    return format_skeleton("yMMMM", value, locale=_locale())


def number(value: float, digits: int = 0) -> str:
    """A number with the locale's separators: 1,234.5 or 1.234,5."""
    return format_decimal(value, "#,##0" + ("." + "0" * digits if digits else ""), _locale())


def clock_time(value: datetime) -> str:
    """A time of today as a sentence quotes it ("next update by 14:30 UTC")."""
    return value.strftime("%H:%M UTC")


def machine(value: datetime | None) -> str:
    return iso(value) or ""
