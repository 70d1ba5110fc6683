"""The one JSON error shape of the write API, for every 4xx it answers.

``{"error": message, "code": slug, "status": http status, "fields": {field: message}}``;
``error`` is a string as in Statuspage's own errors, so existing clients can print it.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}


CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    415: "unsupported_media_type",
    422: "unprocessable",
}


def error_response(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "error": message,
        "code": code,
        "status": status,
        "fields": fields or {},
    }
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def from_exception(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, exc.fields, exc.headers)
