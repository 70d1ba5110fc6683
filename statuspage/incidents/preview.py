"""What an update being typed would send, channel by channel.

The facts are made as posting would make them (the same restored components on resolve,
the same promise, the link to the update's own id, chosen before it is posted) and each
channel's text comes from ``statuspage.channel_messages``, which the workers send with.
Nothing is written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from statuspage import channel_messages as cm
from statuspage.i18n import speaking
from statuspage.incidents import workflow
from statuspage.incidents.service import (
    Errors,
    load_channels,
    load_components,
    promise,
    restored_components,
)
from statuspage.messages import MessageFacts, compose_facts
from statuspage.models import Channel, ChannelKind, Impact, Incident
from statuspage.models.types import PUBLIC_ID
from statuspage.text_rules import check_line, check_text

_SLACK_LINK = re.compile(r"<([^|<>]+)\|([^<>]+)>")


def optional(check: Callable[..., str]) -> Callable[..., str]:
    """A text check that lets an empty field through: a preview shows a half-typed form."""
    return partial(check, required=False)


def _fresh(errors: Errors, field: str, value: object) -> str:
    if not isinstance(value, str) or not PUBLIC_ID.fullmatch(value):
        errors.errors[field] = "must be 12 lowercase letters or digits"
        return ""
    return value


def update_facts(
    incident: Incident,
    *,
    status: object,
    body: object,
    components: Mapping[str, str],
    update_id: object,
    at: datetime,
) -> MessageFacts:
    """The facts of the update ``post_update`` would write at ``at``; ValidationError
    names any field it would refuse (an empty message is shown as empty)."""
    allowed = (
        workflow.MAINTENANCE_STATUSES if incident.is_maintenance else workflow.INCIDENT_STATUSES
    )
    errors = Errors()
    text = errors.check(optional(check_text), "body", body, workflow.MAX_BODY)
    parsed = errors.check(workflow.parse_status, status, allowed)
    if parsed in workflow.CLOSED_STATUSES and incident.is_open:
        components = restored_components(incident, components)
    changes = load_components(components, errors)
    fresh = _fresh(errors, "update_id", update_id)
    errors.raise_any()
    assert parsed is not None
    return compose_facts(
        incident_id=incident.id,
        incident_name=incident.name,
        impact=Impact(incident.impact),
        update_id=fresh,
        status=parsed,
        body=text or "",
        changes=[(c, c.status, new) for c, new in changes],
        next_update_due=promise(incident, parsed, at),
        created_at=at,
        is_first=not incident.updates,
    )


def opening_facts(
    *,
    name: object,
    impact: object,
    update_interval: object,
    status: object,
    body: object,
    components: Mapping[str, str],
    incident_id: object,
    update_id: object,
    at: datetime,
) -> MessageFacts:
    """The facts of the first update ``open_incident`` would write at ``at``."""
    errors = Errors()
    title = errors.check(optional(check_line), "name", name, workflow.MAX_NAME)
    text = errors.check(optional(check_text), "body", body, workflow.MAX_BODY)
    parsed_impact = errors.check(workflow.parse_impact, impact)
    parsed = errors.check(workflow.parse_status, status, workflow.INCIDENT_STATUSES)
    interval = errors.check(workflow.check_interval, update_interval)
    changes = load_components(components, errors)
    incident = _fresh(errors, "incident_id", incident_id)
    fresh = _fresh(errors, "update_id", update_id)
    errors.raise_any()
    assert parsed is not None and parsed_impact is not None
    draft = Incident(impact=parsed_impact, update_interval=interval)  # never added
    return compose_facts(
        incident_id=incident,
        incident_name=title or "",
        impact=Impact(parsed_impact),
        update_id=fresh,
        status=parsed,
        body=text or "",
        changes=[(c, c.status, new) for c, new in changes],
        next_update_due=promise(draft, parsed, at),
        created_at=at,
        is_first=True,
    )


def targets(notify: bool, channels: Sequence[int] | None) -> list[Channel]:
    """The announcing channels an update goes to, as ``outbox.create_deliveries`` picks
    them (subscriber email is previewed apart)."""
    if not notify:
        return []
    errors = Errors()
    chosen = load_channels(channels, errors)
    errors.raise_any()
    return [
        c
        for c in Channel.announcing()
        if c.kind != ChannelKind.EMAIL_SMTP and (chosen is None or c.id in chosen)
    ]


def previews(facts: MessageFacts, channels: Sequence[Channel], notify: bool) -> list[dict]:
    """One entry per place the update goes: the page, each channel, subscribers' email."""
    found = [page_entry(facts)]
    for channel in channels:
        entry = channel_preview(facts, channel)
        if entry is not None:
            found.append(
                {"id": channel.id, "name": channel.name, "label": channel.kind_label, **entry}
            )
    if notify and Channel.smtp() is not None:
        text = cm.email_text(facts, manage_url="", unsubscribe_url="")
        found.append(
            {
                "kind": "email",
                "name": "Email to subscribers",
                "subject": cm.email_subject(facts),
                "text": text.split("\n--\n", 1)[0].rstrip(),
            }
        )
    return found


def _post(kind: str, post: cm.Post, unit: str, **extra: Any) -> dict:
    return {"kind": kind, **asdict(post), "unit": unit, **extra}


def channel_preview(facts: MessageFacts, channel: Channel) -> dict | None:
    kind = ChannelKind(channel.kind)
    if kind == ChannelKind.X:
        return _post("x", cm.x_post(facts), "weighted characters (links 23)")
    if kind == ChannelKind.MASTODON:
        known = channel.post_limit is not None
        post = cm.mastodon_post(facts, channel.post_limit or cm.MASTODON_DEFAULT_LIMIT)
        return _post("mastodon", post, "characters (links 23)", limit_known=known)
    if kind == ChannelKind.BLUESKY:
        return _post("bluesky", cm.bluesky_post(facts), "graphemes")
    if kind == ChannelKind.TELEGRAM:
        return _post("telegram", cm.telegram_post(facts), "UTF-16 units")
    if kind == ChannelKind.SLACK:
        payload = cm.slack_payload(facts)
        title = payload["blocks"][0]["text"]["text"]
        text = slack_readable(payload["blocks"][1]["text"]["text"])
        return {"kind": "slack", "title": title, "text": text, "payload": payload}
    if kind == ChannelKind.TEAMS:
        payload = cm.teams_payload(facts)
        blocks = payload["attachments"][0]["content"]["body"]
        lines = [b["text"] for b in blocks[1:]]
        return {
            "kind": "teams",
            "title": blocks[0]["text"],
            "text": "\n".join(lines),
            "payload": payload,
        }
    if kind == ChannelKind.DISCORD:
        payload = cm.discord_payload(facts)
        embed = payload["embeds"][0]
        return {
            "kind": "discord",
            "title": embed["title"],
            "text": embed["description"],
            "payload": payload,
        }
    return None  # webhooks carry the update's JSON, not a text to read


def slack_readable(mrkdwn: str) -> str:
    """Slack mrkdwn as a reader sees it: links as their label, entities unescaped."""
    return html.unescape(_SLACK_LINK.sub(r"\2", mrkdwn))


def page_entry(facts: MessageFacts) -> dict:
    """The update as the public page will show it, from the page's own macros."""
    from statuspage.publishing.pages import HELPERS, templates

    update = SimpleNamespace(
        affected=[
            SimpleNamespace(
                component=SimpleNamespace(display_name=c.name),
                old_status=c.old_status,
                new_status=c.new_status,
            )
            for c in facts.components
        ]
    )
    with speaking(facts.language):
        fragment = (
            templates()
            .get_template("admin/page_entry_preview.html")
            .render(**HELPERS, f=facts, update=update, status=str(facts.status))
        )
    return {"kind": "page", "name": "Public page", "html": fragment.strip()}
