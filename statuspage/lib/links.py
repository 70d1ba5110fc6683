"""Links that came from far ends (a post's URL in an API answer) and are shown to people."""

from __future__ import annotations

from urllib.parse import urlsplit


def web_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) address, else None.

    A far end may answer with any string; only http(s) addresses are stored or rendered
    as links, so a ``javascript:`` or ``data:`` URL can never run in the admin.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        return None
    return url


def is_web_url(url: str | None) -> bool:
    """Jinja test: ``{% if d.external_url is web_url %}``."""
    return web_url(url) is not None
