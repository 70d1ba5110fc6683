"""Reading a Statuspage-v2 ``summary.json`` (Atlassian Statuspage, incident.io, this product
itself): the page's name and link, and its components with their groups."""

from __future__ import annotations

import json
from dataclasses import dataclass

from statuspage.lib.links import web_url
from statuspage.models import ComponentStatus
from statuspage.text_rules import plain_line

STATUSES = {str(s) for s in ComponentStatus}


class SummaryError(Exception):
    """The document is not a summary.json we can read; the message says why."""


@dataclass(frozen=True)
class VendorComponent:
    vendor_id: str
    name: str
    group_name: str | None
    status: str
    position: int


@dataclass(frozen=True)
class Summary:
    name: str
    page_url: str | None
    components: list[VendorComponent]


def _text(value: object, limit: int) -> str:
    return plain_line(value)[:limit] if isinstance(value, str) else ""


def parse(body: bytes) -> Summary:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SummaryError("the answer is not JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("page"), dict):
        raise SummaryError("no 'page' object: not a Statuspage summary.json")
    raw = document.get("components")
    if not isinstance(raw, list):
        raise SummaryError("no 'components' list: not a Statuspage summary.json")
    objects = [c for c in raw if isinstance(c, dict) and isinstance(c.get("id"), str)]
    groups = {c["id"]: _text(c.get("name"), 255) for c in objects if c.get("group") is True}
    components = []
    for position, item in enumerate(c for c in objects if c.get("group") is not True):
        status = item.get("status")
        name = _text(item.get("name"), 255)
        if status not in STATUSES or not name:
            continue  # a vendor's own extension we cannot show truthfully
        group_id = item.get("group_id")
        components.append(
            VendorComponent(
                vendor_id=item["id"][:64],
                name=name,
                group_name=groups.get(group_id) if isinstance(group_id, str) else None,
                status=status,
                position=position,
            )
        )
    page = document["page"]
    return Summary(
        name=_text(page.get("name"), 255) or "Vendor",
        page_url=web_url(page.get("url") if isinstance(page.get("url"), str) else None),
        components=components,
    )
