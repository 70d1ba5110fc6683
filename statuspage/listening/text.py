"""Plain text from what customers send. Posts arrive as HTML (Mastodon) or as
HTML-escaped plain text (X); reports as whatever a browser, or a bot, submits. The inbox
keeps plain text only, and templates escape it again wherever it is shown."""

from __future__ import annotations

import html
import re

import nh3

from statuspage.text_rules import strip_controls

MAX_TEXT = 10_000
_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)


def tidy(text: str) -> str:
    """No control characters, tidy whitespace, bounded length: a customer's post is
    cleaned, never refused."""
    text = strip_controls(text)
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:MAX_TEXT]


def from_html(content: str) -> str:
    """A Mastodon status's HTML as the text its author typed, paragraphs kept apart."""
    return tidy(html.unescape(nh3.clean(_BREAKS.sub("\n", content or ""), tags=set())))


def from_x(text: str) -> str:
    """X escapes ``&``, ``<`` and ``>`` in post text."""
    return tidy(html.unescape(text or ""))
