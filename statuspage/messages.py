"""MessageFacts: the one channel-neutral view of an update, and its rendering per channel.

Every channel renders from these facts with ``templates/messages/<kind>.txt``, so the page,
feeds, social posts, Slack, webhooks and emails can never disagree about status,
components, next update time or the link. Short channels are fitted with ``fit``: it cuts
the message body first, then the component list, then the title, always with an ellipsis,
and never the status, the next update time or the link.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
import regex
from flask import current_app
from markdown_it import MarkdownIt

from statuspage import labels
from statuspage.branding import brand
from statuspage.i18n import speaking
from statuspage.lib.timefmt import human
from statuspage.models import (
    Component,
    ComponentStatus,
    Impact,
    IncidentStatus,
    IncidentUpdate,
    OperatorAlert,
    Page,
)
from statuspage.text_rules import one_line, strip_controls

ELLIPSIS = "…"
URL_WEIGHT = 23  # X (t.co) and Mastodon count every link as 23 characters
X_LIMIT = 280
_URL = re.compile(r"https?://\S+")
# twitter-text v3: these code point ranges weigh 1, everything else (CJK, emoji) 2.
_X_LIGHT = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_md = MarkdownIt("commonmark").enable("table")


@dataclass(frozen=True)
class ComponentFact:
    id: str
    name: str
    old_status: ComponentStatus
    new_status: ComponentStatus

    @property
    def text(self) -> str:
        return f"{self.name} ({labels.in_sentence(labels.component(self.new_status))})"

    @property
    def status_label(self) -> str:
        return labels.component(self.new_status)


@dataclass(frozen=True)
class MessageFacts:
    incident_id: str
    incident_name: str
    impact: Impact
    update_id: str
    status: IncidentStatus
    body: str
    components: tuple[ComponentFact, ...]
    next_update_due: datetime | None
    created_at: datetime
    url: str
    is_first: bool
    page_name: str = "Status"
    incident_url: str = ""
    language: str = "en"  # the page's default: the fixed words of every public message
    brand_colour: str | None = None
    logo_url: str | None = None  # a PNG logo only: mail readers show SVGs poorly

    @property
    def status_label(self) -> str:
        return labels.incident(self.status)

    @property
    def impact_label(self) -> str:
        return labels.impact(self.impact)

    @property
    def next_update_text(self) -> str | None:
        """The promise in the one wording every channel uses (the page's own format)."""
        return human(self.next_update_due) if self.next_update_due else None

    @property
    def components_text(self) -> str:
        return ", ".join(c.text for c in self.components)

    @property
    def body_text(self) -> str:
        return plain_text(self.body)


def incident_url(incident_id: str) -> str:
    return f"{current_app.config['BASE_URL']}/incidents/{incident_id}"


def build_facts(update: IncidentUpdate) -> MessageFacts:
    """The facts of a stored update."""
    incident = update.incident
    first = min(incident.updates, key=lambda u: u.created_at)
    return compose_facts(
        incident_id=incident.id,
        incident_name=incident.name,
        impact=Impact(incident.impact),
        update_id=update.id,
        status=IncidentStatus(update.status),
        body=update.body,
        changes=[(a.component, a.old_status, a.new_status) for a in update.affected],
        next_update_due=update.next_update_due,
        created_at=update.created_at,
        is_first=first.id == update.id,
    )


def compose_facts(
    *,
    incident_id: str,
    incident_name: str,
    impact: Impact,
    update_id: str,
    status: IncidentStatus,
    body: str,
    changes: Sequence[tuple[Component, str, str]],
    next_update_due: datetime | None,
    created_at: datetime,
    is_first: bool,
) -> MessageFacts:
    """Facts of an update, stored or still being typed (the console's preview). Names are
    made one plain line and bodies lose control characters here, whatever a stored row
    holds, so no channel (an email subject above all) can be broken by one."""
    page = Page.get()
    return MessageFacts(
        incident_id=incident_id,
        incident_name=one_line(incident_name),
        impact=impact,
        update_id=update_id,
        status=status,
        body=strip_controls(body),
        components=tuple(
            ComponentFact(
                id=component.id,
                name=one_line(component.display_name),
                old_status=ComponentStatus(old),
                new_status=ComponentStatus(new),
            )
            for component, old, new in changes
        ),
        next_update_due=next_update_due,
        created_at=created_at,
        url=f"{incident_url(incident_id)}#update-{update_id}",
        is_first=is_first,
        page_name=one_line(page.name),
        incident_url=incident_url(incident_id),
        language=page.default_language or "en",
        brand_colour=page.brand_colour,
        logo_url=_logo_url(page),
    )


def _logo_url(page: Page) -> str | None:
    look = brand(page)
    if not look.logo or not look.logo.endswith(".png"):
        return None
    return f"{current_app.config['BASE_URL']}{look.url(look.logo)}"


def plain_text(markdown: str) -> str:
    """Markdown as readable plain text for channels that show no formatting."""
    rendered = _md.render(markdown or "")
    rendered = re.sub(r"</(p|h\d|pre|blockquote|tr)>|<br\s*/?>", "\n", rendered)
    rendered = re.sub(r"<li>", "• ", rendered)
    text = html.unescape(nh3.clean(rendered, tags=set()))
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def render_file(template: str, **values: Any) -> str:
    """Render a message template without request context processors: messages are
    rendered by workers, and nothing of the web request belongs in them."""
    return current_app.jinja_env.get_template(template).render(**values)


def render(kind: str, facts: MessageFacts, **extra: Any) -> str:
    """Render ``templates/messages/<kind>`` (``.txt`` unless a suffix is given)."""
    name = kind if "." in kind else f"{kind}.txt"
    # Operators' own alerts stay English, as the admin does.
    with speaking(None if name.startswith("alert") else facts.language):
        values: dict[str, Any] = {
            "name": facts.incident_name,
            "body": facts.body_text,
            "components": facts.components_text,
        }
        values.update(extra)
        text = render_file(f"messages/{name}", f=facts, **values)
    if name.endswith(".txt"):
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text


def _weight(text: str) -> int:
    total = 0
    for char in unicodedata.normalize("NFC", text):
        point = ord(char)
        total += 1 if any(lo <= point <= hi for lo, hi in _X_LIGHT) else 2
    return total


def _with_urls(text: str, plain: Callable[[str], int]) -> int:
    total, position = 0, 0
    for match in _URL.finditer(text):
        total += plain(text[position : match.start()]) + URL_WEIGHT
        position = match.end()
    return total + plain(text[position:])


def graphemes(text: str) -> int:
    """Length as Bluesky counts it: extended grapheme clusters (an emoji flag is one)."""
    return len(regex.findall(r"\X", text))


def x_length(text: str) -> int:
    """Length as X counts it: weighted characters, every URL as 23."""
    return _with_urls(text, _weight)


def mastodon_length(text: str) -> int:
    """Length as Mastodon counts it: code points, every URL as 23."""
    return _with_urls(text, lambda part: len(unicodedata.normalize("NFC", part)))


def _cut(text: str, keep: int) -> str:
    if keep >= len(text):
        return text
    if keep <= 0:
        return ""
    return text[:keep].rstrip() + ELLIPSIS


# Shortening order: the body first, then the component list and the title down to a
# readable stub, and only then further.
_CUTS = (("body", 0), ("components", 60), ("name", 60), ("components", 1), ("name", 1))


def fit(
    kind: str, facts: MessageFacts, limit: int, measure: Callable[[str], int], **extra: Any
) -> str:
    """Render ``kind`` within ``limit`` as ``measure`` counts, shortening the free text."""
    return fitted(kind, facts, limit, measure, **extra)[0]


def fitted(
    kind: str, facts: MessageFacts, limit: int, measure: Callable[[str], int], **extra: Any
) -> tuple[str, dict[str, int]]:
    """``fit``'s text and how many characters of the name, body and component list it
    kept (the preview shows where a post is cut)."""
    with speaking(facts.language):
        return _fit(kind, facts, limit, measure, **extra)


def _fit(
    kind: str, facts: MessageFacts, limit: int, measure: Callable[[str], int], **extra: Any
) -> tuple[str, dict[str, int]]:
    full = {
        "name": facts.incident_name,
        "body": facts.body_text,
        "components": facts.components_text,
    }
    keep = {field: len(value) for field, value in full.items()}

    def attempt(**lengths: int) -> str:
        values = {f: _cut(full[f], lengths.get(f, keep[f])) for f in full}
        return render(kind, facts, **values, **extra)

    text = attempt()
    for field, floor in _CUTS:
        if measure(text) <= limit:
            return text, keep
        low, high = min(floor, keep[field]), keep[field]
        while low < high:  # the longest cut of this field that fits, not below its floor
            middle = (low + high + 1) // 2
            if measure(attempt(**{field: middle})) <= limit:
                low = middle
            else:
                high = middle - 1
        keep[field] = low
        text = attempt()
    return text, keep  # only the fixed facts remain; a limit this small cannot hold them


def admin_incident_url(incident_id: str) -> str:
    """Operator alerts link to the incident in the admin, where the next update is posted."""
    return f"{current_app.config['BASE_URL']}/admin/incidents/{incident_id}"


def notice_text(alert: OperatorAlert) -> str:
    """An operator alert about something not public: its text and where to act on it."""
    return render_file("messages/notice.txt", text=alert.text, admin_url=admin_url(alert)).strip()


def admin_url(alert: OperatorAlert) -> str:
    return f"{current_app.config['BASE_URL']}{alert.link or '/admin/'}"
