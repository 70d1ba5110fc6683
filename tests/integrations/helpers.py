"""Shared steps of the alert intake tests: fixtures on disk, an integration with a rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from statuspage.integrations import registry
from statuspage.models import Integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "alerts"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> dict[str, Any]:
    return json.loads(fixture(name))


def integration_with_rule(
    kind: str,
    components: dict[str, str],
    matchers: str,
    targets: tuple[str, ...] = ("API",),
    **rule: Any,
) -> tuple[Integration, str]:
    """An integration and one rule sending matching alerts to ``targets``."""
    integration, secret = registry.create(actor=None, kind=kind, name=f"{kind} test")
    fields = {
        "name": "API errors",
        "matchers": matchers,
        "mode": "draft",
        "component_status": "partial_outage",
        "impact": "major",
        "component_ids": [components[t] for t in targets],
    }
    fields.update(rule)
    registry.save_rule(actor=None, integration_id=integration.id, fields=fields)
    return integration, secret
