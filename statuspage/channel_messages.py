"""What each channel sends for an update, built from ``MessageFacts``.

The transports in ``workers/channels`` send exactly these texts and payloads, and the
console's compose preview shows them, so what an operator reads before posting is what
goes out: the same fitting to each network's limit, the same escaping, the same clipping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext

from statuspage.i18n import speaking
from statuspage.lib.clock import iso
from statuspage.messages import (
    ELLIPSIS,
    X_LIMIT,
    MessageFacts,
    fit,
    fitted,
    graphemes,
    mastodon_length,
    render,
    x_length,
)
from statuspage.models import IncidentStatus

OVER = (IncidentStatus.RESOLVED, IncidentStatus.COMPLETED, IncidentStatus.POSTMORTEM)


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, an ellipsis marking a cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


# Short posts: X, Mastodon, Bluesky, Telegram ------------------------------------------------


@dataclass(frozen=True)
class Post:
    """A post fitted to its network's limit. ``cut`` is the end of the message text left
    out, and ``shortened`` says whether anything (text, title, components) was."""

    text: str
    length: int
    limit: int
    cut: str
    shortened: bool


def fit_post(kind: str, facts: MessageFacts, limit: int, measure: Callable[[str], int]) -> Post:
    text, kept = fitted(kind, facts, limit, measure)
    full = {
        "name": facts.incident_name,
        "body": facts.body_text,
        "components": facts.components_text,
    }
    return Post(
        text=text,
        length=measure(text),
        limit=limit,
        cut=full["body"][kept["body"] :],
        shortened=any(kept[field] < len(value) for field, value in full.items()),
    )


MASTODON_DEFAULT_LIMIT = 500  # Mastodon's own default, until the instance says otherwise


def x_post(facts: MessageFacts) -> Post:
    """X weighs most characters 1, CJK and emoji 2, and every link 23 (t.co)."""
    return fit_post("x", facts, X_LIMIT, x_length)


def mastodon_post(facts: MessageFacts, limit: int) -> Post:
    """Mastodon counts code points and every link as 23, up to the instance's limit."""
    return fit_post("mastodon", facts, limit, mastodon_length)


# Slack -------------------------------------------------------------------------------------

SLACK_HEADER_LIMIT = 150  # Block Kit limits
SLACK_SECTION_LIMIT = 3000


def slack_escape(text: str) -> str:
    """Slack mrkdwn treats &, < and > as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(facts: MessageFacts) -> dict[str, Any]:
    """Every interpolated field is escaped; only our own link stays Slack markup."""
    name = slack_escape(facts.incident_name)
    body = render(
        "slack",
        facts,
        name=name,
        body=slack_escape(facts.body_text),
        components=slack_escape(facts.components_text),
    )
    title = f"{facts.status_label}: {name}"
    return {
        "text": f"{title} · <{facts.url}|View incident>",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": clip(title, SLACK_HEADER_LIMIT)},
            },
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": clip(body, SLACK_SECTION_LIMIT)},
            },
            {
                "type": "context",
                "elements": [
                    {"type": "mrkdwn", "text": slack_escape(f"{facts.page_name} status updates")}
                ],
            },
        ],
        "unfurl_links": False,
    }


# Email -------------------------------------------------------------------------------------


def email_subject(facts: MessageFacts) -> str:
    return render("email_subject", facts)


def email_text(facts: MessageFacts, *, manage_url: str, unsubscribe_url: str) -> str:
    return render("email", facts, manage_url=manage_url, unsubscribe_url=unsubscribe_url)


def email_html(facts: MessageFacts, *, manage_url: str, unsubscribe_url: str) -> str:
    return render("email.html", facts, manage_url=manage_url, unsubscribe_url=unsubscribe_url)


# Microsoft Teams ---------------------------------------------------------------------------

TEAMS_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
TEAMS_CARD_VERSION = "1.4"  # what Teams renders on every client
TEAMS_TEXT_LIMIT = 20_000  # a Teams message holds about 28 KB, card markup included
TEAMS_COLOURS = {
    "none": "Default",
    "minor": "Warning",
    "major": "Attention",
    "critical": "Attention",
}


def teams_card(title: str, text: str, *, url: str | None = None, colour: str = "Default") -> dict:
    """A Workflows ``message`` carrying one Adaptive Card: the title, then each line of
    ``text`` as its own wrapped block (a card block shows a single newline as a space)."""
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": title,
            "weight": "Bolder",
            "size": "Medium",
            "color": colour,
            "wrap": True,
        }
    ]
    body += [
        {"type": "TextBlock", "text": line, "wrap": True, "spacing": "Small"}
        for line in text.splitlines()
        if line.strip()
    ]
    content: dict[str, Any] = {
        "$schema": TEAMS_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": TEAMS_CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if url:
        content["actions"] = [
            {"type": "Action.OpenUrl", "title": gettext("View incident"), "url": url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": content,
            }
        ],
    }


def teams_payload(facts: MessageFacts) -> dict[str, Any]:
    over = facts.status in OVER
    colour = "Good" if over else TEAMS_COLOURS.get(str(facts.impact), "Default")
    with speaking(facts.language):  # the card's own words, like the text's
        return teams_card(
            f"{facts.status_label}: {facts.incident_name}",
            fit("teams", facts, TEAMS_TEXT_LIMIT, len),
            url=facts.url,
            colour=colour,
        )


# Discord -----------------------------------------------------------------------------------

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
DISCORD_TITLE_LIMIT = 256
DISCORD_DESCRIPTION_LIMIT = 4096
DISCORD_COLOURS = {"none": 0x6B7280, "minor": 0xD97706, "major": 0xEA580C, "critical": 0xDC2626}
DISCORD_MAINTENANCE_COLOUR = 0x2563EB
DISCORD_OVER_COLOUR = 0x16A34A
NO_MENTIONS: dict[str, list[str]] = {"parse": []}  # no text of ours pings anyone


def _discord_colour(facts: MessageFacts) -> int:
    if facts.status in OVER:
        return DISCORD_OVER_COLOUR
    return DISCORD_COLOURS.get(str(facts.impact), DISCORD_MAINTENANCE_COLOUR)


def discord_payload(facts: MessageFacts) -> dict[str, Any]:
    with speaking(facts.language):  # the title's status and the footer, like the text
        title = f"{facts.status_label}: {facts.incident_name}"
        footer = gettext("%(page)s status updates", page=facts.page_name)
        description = fit("discord", facts, DISCORD_DESCRIPTION_LIMIT, len)
    return {
        "embeds": [
            {
                "title": clip(title, DISCORD_TITLE_LIMIT),
                "url": facts.url,
                "description": description,
                "color": _discord_colour(facts),
                "timestamp": iso(facts.created_at),
                "footer": {"text": clip(footer, 2048)},
            }
        ],
        "allowed_mentions": NO_MENTIONS,
    }


# Telegram and Bluesky ----------------------------------------------------------------------

TELEGRAM_LIMIT = 4096  # https://core.telegram.org/bots/api#sendmessage
BLUESKY_LIMIT = 300  # graphemes: https://docs.bsky.app/docs/advanced-guides/post-richtext


def telegram_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji may count 2)."""
    return len(text.encode("utf-16-le")) // 2


def telegram_post(facts: MessageFacts) -> Post:
    return fit_post("telegram", facts, TELEGRAM_LIMIT, telegram_length)


def bluesky_post(facts: MessageFacts) -> Post:
    return fit_post("bluesky", facts, BLUESKY_LIMIT, graphemes)
