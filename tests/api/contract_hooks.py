"""What the OpenAPI document cannot say, taught to schemathesis' generator: a maintenance
window's end comes after its start (JSON Schema cannot compare two fields; the document
says it in words). Loaded by the contract test through SCHEMATHESIS_HOOKS; ``before_call``
sees the cases of every phase, the coverage phase's fixed ones included."""

from __future__ import annotations

from typing import Any

import schemathesis

from statuspage.errors import ValidationError
from statuspage.incidents.maintenance import parse_when

LATEST = "9000-01-01T00:00:00Z"
EARLIEST = "2000-01-02T00:00:00Z"


@schemathesis.hook
def before_call(context: Any, case: Any, **kwargs: Any) -> None:
    body = case.body
    fields = body.get("incident") if isinstance(body, dict) else None
    if isinstance(fields, dict):
        _ordered(fields)


def _ordered(fields: dict[str, Any]) -> None:
    try:
        start = parse_when("scheduled_for", fields.get("scheduled_for"))
        end = parse_when("scheduled_until", fields.get("scheduled_until"))
    except ValidationError:
        return  # not a window (a negative case, say): left as drawn
    if start is None or end is None or end > start:
        return
    if end < start:
        fields["scheduled_for"], fields["scheduled_until"] = (
            fields["scheduled_until"],
            fields["scheduled_for"],
        )
    elif start < parse_when("latest", LATEST):
        fields["scheduled_until"] = LATEST
    else:
        fields["scheduled_for"] = EARLIEST
