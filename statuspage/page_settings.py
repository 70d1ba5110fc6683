"""The page's own settings: the name customers see on the page, in feeds, posts and
emails, the language they read first, and the time zone the Statuspage API reports."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from statuspage.extensions import db
from statuspage.i18n import LANGUAGES
from statuspage.incidents.republish import request_publish
from statuspage.incidents.service import Errors
from statuspage.models import Page, User
from statuspage.models.audit import record
from statuspage.text_rules import check_line

MAX_PAGE_NAME = 100


@lru_cache(maxsize=1)  # reading the zone database walks the file system
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def time_zones() -> list[str]:
    return sorted(_zones())


def is_time_zone(name: object) -> bool:
    return isinstance(name, str) and name in _zones()


def update_page(
    *, actor: User | None, name: object, time_zone: object, default_language: object = None
) -> Page:
    """Rename the page, change its time zone or its default language (None: unchanged);
    the public site is re-published."""
    errors = Errors()
    if default_language is not None and default_language not in LANGUAGES:
        errors.errors["default_language"] = f"must be one of {', '.join(LANGUAGES)}"
    clean_name = errors.check(check_line, "name", name, MAX_PAGE_NAME)
    if not isinstance(time_zone, str) or time_zone not in _zones():
        errors.errors["time_zone"] = "is not a known time zone (IANA name, e.g. Europe/Paris)"
    errors.raise_any()
    assert clean_name and isinstance(time_zone, str)
    page = Page.get()
    before = {"name": page.name, "time_zone": page.time_zone, "language": page.default_language}
    page.name, page.time_zone = clean_name, time_zone
    if isinstance(default_language, str):
        page.default_language = default_language
    after = {"name": clean_name, "time_zone": time_zone, "language": page.default_language}
    record(actor, "page.update", "page", page.id, before, after)
    request_publish("page settings changed")
    db.session.commit()
    return page
