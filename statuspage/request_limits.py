"""What one request may carry: a body size per route and a JSON nesting depth.

Every body is refused with 413 before it is read once its declared length is over the
route's limit (a body without a declared length is cut off at the limit while read). JSON
nested deeper than ``MAX_JSON_DEPTH`` is refused as a bad request rather than exhausting
the parser's recursion.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, abort, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

MAX_JSON_DEPTH = 32
# Operators' forms and the write API carry Markdown bodies of up to 20,000 characters,
# which percent-encoding can make ten times larger; nothing else needs more than a little.
OPERATOR_PREFIXES = ("/admin/", "/api/v1/")


def body_limit(config: Mapping[str, Any], path: str) -> int:
    """The largest body, in bytes, that a request to ``path`` may send."""
    if path.startswith("/integrations"):  # alert senders post whole alert groups
        return config["INTEGRATION_MAX_BYTES"]
    if path.startswith(OPERATOR_PREFIXES):
        return config["MAX_OPERATOR_BODY_BYTES"]
    return config["MAX_BODY_BYTES"]


def json_depth(value: Any, stop_after: int = MAX_JSON_DEPTH) -> int:
    """How deeply ``value`` nests arrays and objects (counting stops past ``stop_after``)."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, dict):
            children = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop_after:
            break
        pending.extend((child, level + 1) for child in children)
    return deepest


class DepthLimitedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than ``MAX_JSON_DEPTH``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        too_deep = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
        try:
            value = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(too_deep) from None
        if json_depth(value) > MAX_JSON_DEPTH:
            raise ValueError(too_deep)
        return value


def _limit_body(_endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # A URL value preprocessor runs before any before_request hook (the CSRF check there
    # already reads the form).
    limit = body_limit(current_app.config, request.path)
    request.max_content_length = limit
    if request.content_length is not None and request.content_length > limit:
        abort(413, description=f"the request body is larger than the {limit} bytes allowed here")


def _too_large(exc: RequestEntityTooLarge) -> Response | tuple[str, int, dict[str, str]]:
    message = exc.description or "the request body is too large"
    if request.path.startswith("/api/"):
        response = jsonify({"error": message, "code": "too_large", "status": 413, "fields": {}})
        response.status_code = 413
        return response
    return f"Request too large: {message}.\n", 413, {"Content-Type": "text/plain; charset=utf-8"}


def limit_requests(app: Flask) -> None:
    """Apply the body and JSON limits to every route of ``app``."""
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    app.json = DepthLimitedJSONProvider(app)
    app.url_value_preprocessor(_limit_body)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
