"""Plain text from what customers send. Posts arrive as HTML (Mastodon) or as
HTML-escaped plain text (X); reports as whatever a browser, or a bot, submits. The inbox
keeps plain text only, and templates escape it again wherever it is shown."""

from __future__ import annotations

import html
import re

import nh3

MAX_TEXT = 10_000
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def tidy(text: str) -> str:
    """No control characters, tidy whitespace, bounded length."""
    text = _CONTROL.sub("", text).replace("\r\n", "\n")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:MAX_TEXT]


def without_markup(text: str) -> str:
    """A report's text with every tag removed (and the content of script and style)
    until none is left, so an escaped tag that unescaping revives goes too."""
    for _ in range(5):
        cleaned = html.unescape(nh3.clean(text, tags=set()))
        if cleaned == text:
            break
        text = cleaned
    return tidy(text)


def from_html(content: str) -> str:
    """A Mastodon status's HTML as the text its author typed, paragraphs kept apart."""
    return tidy(html.unescape(nh3.clean(_BREAKS.sub("\n", content or ""), tags=set())))


def from_x(text: str) -> str:
    """X escapes ``&``, ``<`` and ``>`` in post text."""
    return tidy(html.unescape(text or ""))
