"""Things other sites embed: an SVG status badge and a small JSON widget document."""

from __future__ import annotations

from typing import Any

from flask import current_app

from statuspage.lib.clock import iso
from statuspage.models import Component, ComponentStatus
from statuspage.publishing.api_v2 import status_doc
from statuspage.publishing.state import PublicState
from statuspage.text_rules import xml_safe

# Colour per Statuspage indicator; the badge also says the status in words.
INDICATOR_COLOURS = {
    "none": "#1a7f37",
    "minor": "#9a6700",
    "major": "#bc4c00",
    "critical": "#cf222e",
    "maintenance": "#0969da",
}
COMPONENT_INDICATOR = {
    ComponentStatus.OPERATIONAL: "none",
    ComponentStatus.UNDER_MAINTENANCE: "maintenance",
    ComponentStatus.DEGRADED_PERFORMANCE: "minor",
    ComponentStatus.PARTIAL_OUTAGE: "major",
    ComponentStatus.MAJOR_OUTAGE: "critical",
}


def _text_width(text: str) -> int:
    """Close enough to Verdana 11px that the text fits its box without measuring fonts."""
    return int(sum(7.5 if ch.isupper() or ch in "mwMW%" else 6.2 for ch in text)) + 10


def badge(label: str, message: str, indicator: str) -> bytes:
    left, right = _text_width(label), _text_width(message)
    svg = current_app.jinja_env.get_template("public/badge.svg").render(
        label=xml_safe(label),
        message=xml_safe(message),
        colour=INDICATOR_COLOURS[indicator],
        left=left,
        right=right,
    )
    return svg.encode()


def widget_doc(state: PublicState) -> dict[str, Any]:
    """What an embedded status widget needs, in one small request."""
    status = status_doc(state)
    return {
        "page": {
            "name": state.page.name,
            "url": state.base_url,
            "updated_at": iso(state.updated_at),
        },
        "status": status,
        "incidents": [
            {
                "id": i.id,
                "name": i.name,
                "status": str(i.status),
                "impact": str(i.impact),
                "url": f"{state.base_url}/incidents/{i.id}",
                "updated_at": iso(i.updated_at),
            }
            for i in state.unresolved
        ],
        "scheduled_maintenances": [
            {
                "id": m.id,
                "name": m.name,
                "status": str(m.status),
                "scheduled_for": iso(m.scheduled_for),
                "scheduled_until": iso(m.scheduled_until),
                "url": f"{state.base_url}/incidents/{m.id}",
            }
            for m in state.active_maintenances + state.upcoming_maintenances
        ],
        "components": [
            {"id": c.id, "name": c.display_name, "status": str(c.status)} for c in state.components
        ],
    }


def documents(state: PublicState) -> dict[str, bytes]:
    status = status_doc(state)
    files = {"badge.svg": badge(state.page.name, status["description"], status["indicator"])}
    for component in state.components:
        files[f"components/{component.id}/badge.svg"] = component_badge(component)
    return files


def component_badge(component: Component) -> bytes:
    status = ComponentStatus(component.status)
    return badge(component.name, status.label, COMPONENT_INDICATOR[status])
