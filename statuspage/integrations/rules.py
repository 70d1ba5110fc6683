"""Alert rules: which labels an alert must carry, and what that means for the page.

Matchers are written the way Alertmanager routes write them, one per line:
``service="api"``, ``severity=~"critical|page"``, ``env!="staging"``, ``team!~"qa.*"``.
Regular expressions are anchored at both ends, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from statuspage.errors import ValidationError
from statuspage.models import AlertRule

OPERATORS = ("=~", "!~", "!=", "=")
MAX_MATCHERS = 20
_LINE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')


def parse_matchers(text: str) -> list[list[str]]:
    """``[[label, op, value], ...]`` from one matcher per line (or comma-separated)."""
    lines = [part for line in text.splitlines() for part in _split(line)]
    if len(lines) > MAX_MATCHERS:
        raise ValidationError({"matchers": f"at most {MAX_MATCHERS} matchers"})
    parsed = []
    for line in lines:
        found = _LINE.match(line)
        if found is None:
            raise ValidationError(
                {"matchers": f'cannot read {line.strip()!r}; write label="value" or label=~"regex"'}
            )
        label, op, value = found.group(1), found.group(2), found.group(3).replace('\\"', '"')
        if op in ("=~", "!~"):
            try:
                re.compile(value)
            except re.error as exc:
                raise ValidationError(
                    {"matchers": f"bad regular expression {value!r}: {exc}"}
                ) from None
        parsed.append([label, op, value])
    return parsed


def _split(line: str) -> list[str]:
    """Split on commas outside quotes, so ``a="x", b="y"`` is two matchers."""
    parts, current, quoted, escaped = [], "", False, False
    for char in line:
        if char == "," and not quoted:
            parts.append(current)
            current = ""
            continue
        if char == '"' and not escaped:
            quoted = not quoted
        escaped = char == "\\" and not escaped
        current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def format_matchers(matchers: Sequence[Sequence[str]]) -> str:
    return "\n".join(f'{label}{op}"{value}"' for label, op, value in matchers)


def matches(matchers: Sequence[Sequence[str]], labels: Mapping[str, str]) -> bool:
    """True when every matcher holds; a missing label reads as the empty string."""
    for label, op, value in matchers:
        actual = labels.get(label, "")
        if op == "=" and actual != value:
            return False
        if op == "!=" and actual == value:
            return False
        if op == "=~" and re.fullmatch(value, actual) is None:
            return False
        if op == "!~" and re.fullmatch(value, actual) is not None:
            return False
    return True


def first_match(rules: Sequence[AlertRule], labels: Mapping[str, str]) -> AlertRule | None:
    return next((r for r in rules if matches(r.matchers, labels)), None)
