"""Request bodies and query strings as Statuspage clients send them.

Statuspage accepts JSON and Rails-style form fields (``incident[components][id]=...``,
``incident[component_ids][]=...``); both arrive here as the same nested mapping.
"""

from __future__ import annotations

import re
from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest

from statuspage.api.errors import ApiError

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
TRUE = {"true", "1", "yes", "on"}
FALSE = {"false", "0", "no", "off"}
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _set_form_value(target: dict[str, Any], key: str, value: str) -> None:
    match = _KEY.match(key)
    if not match:
        raise ApiError(400, "bad_request", f"cannot read form field {key!r}")
    parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        following = None if last else parts[i + 1]
        if part == "":
            if not isinstance(node, list):
                raise ApiError(400, "bad_request", f"cannot read form field {key!r}")
            if last:
                node.append(value)
                return
            raise ApiError(400, "bad_request", f"cannot read form field {key!r}")
        if not isinstance(node, dict):
            raise ApiError(400, "bad_request", f"cannot read form field {key!r}")
        if last:
            node[part] = value
            return
        node = node.setdefault(part, [] if following == "" else {})


def body_object(wrapper: str) -> dict[str, Any]:
    """The ``{wrapper: {...}}`` object of the request, as JSON or Rails-style form fields."""
    mimetype = request.mimetype
    if mimetype in FORM_TYPES:
        data: dict[str, Any] = {}
        for key, values in request.form.lists():
            for value in values:
                _set_form_value(data, key, value)
    elif mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            data = request.get_json()
        except BadRequest:
            raise ApiError(400, "bad_request", "the body is not valid JSON") from None
    else:
        raise ApiError(
            415, "unsupported_media_type", "send application/json (or Statuspage form fields)"
        )
    if not isinstance(data, dict) or not isinstance(data.get(wrapper), dict):
        raise ApiError(400, "bad_request", f'the body must be an object {{"{wrapper}": {{...}}}}')
    return data[wrapper]


def _form() -> bool:
    """Form fields are all text, so only they may spell booleans and numbers as strings."""
    return request.mimetype in FORM_TYPES


def as_bool(fields: dict[str, Any], name: str, errors: dict[str, str]) -> bool | None:
    """A boolean, or in form fields its spelling ("true"/"false")."""
    if name not in fields or fields[name] is None:
        return None
    value = fields[name]
    if isinstance(value, bool):
        return value
    if _form() and isinstance(value, str) and value.lower() in TRUE | FALSE:
        return value.lower() in TRUE
    errors[name] = "must be true or false"
    return None


def as_int(fields: dict[str, Any], name: str, errors: dict[str, str]) -> int | None:
    if name not in fields or fields[name] is None:
        return None
    value = fields[name]
    if isinstance(value, float) and value.is_integer():  # JSON's 5.0 is the number 5
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if _form() and isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value):
        return int(value)
    errors[name] = "must be a whole number"
    return None


def query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d{1,9}", raw) or not low <= int(raw) <= high:
        raise ApiError(
            400,
            "bad_request",
            f"{name} must be a whole number from {low} to {high}",
            {name: f"must be a whole number from {low} to {high}"},
        )
    return int(raw)


def query_text(name: str, limit: int = 255) -> str | None:
    raw = request.args.get(name)
    if raw is not None and len(raw) > limit:
        raise ApiError(400, "bad_request", f"{name} is too long", {name: "is too long"})
    return raw or None
