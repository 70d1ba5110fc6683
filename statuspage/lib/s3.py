"""boto3 clients for S3-compatible object stores whose requests leave through ``http.py``.

boto3 signs, serialises, retries and parses; it does not open the connection. A
``before-send`` handler hands each signed request to a ``statuspage.lib.http`` session, so
an endpoint (and, with virtual-host addressing, ``<bucket>.<endpoint>``) is resolved once
per connection, every address is checked, and exactly the checked addresses are dialled
while TLS verifies the name: the same guard, DNS-rebinding proof, as every webhook. Private
addresses are reachable only with ``STATUSPAGE_ALLOW_PRIVATE_PUBLISH_TARGETS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
import requests
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from statuspage.lib import http

ADDRESSING = ("auto", "path", "virtual")


@dataclass(frozen=True)
class Endpoint:
    """Where a bucket lives and how to sign for it; ``url`` None means AWS itself.
    Without keys boto3's own credential chain applies (environment, instance role)."""

    bucket: str
    url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: str | None = None
    addressing: str = "auto"


class GuardedSender:
    """The ``before-send`` handler: one guarded session per client, reused across requests
    so uploads keep their connections."""

    def __init__(self, session: http.Session) -> None:
        self.session = session

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        url = request.url
        try:
            response = self.session.request(
                request.method,
                url,
                headers=dict(request.headers.items()),
                data=request.body,
                stream=True,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if "refused: " in str(reason):
                raise http.Refused(str(reason).split("refused: ", 1)[1]) from None
            # botocore's own exception types, so its retry rules apply as to its own sends.
            if isinstance(exc, requests.ConnectTimeout):
                raise ConnectTimeoutError(endpoint_url=http.redact_url(url), error=exc) from None
            if isinstance(exc, requests.ReadTimeout):
                raise ReadTimeoutError(endpoint_url=http.redact_url(url), error=exc) from None
            if http.never_sent(exc):
                raise EndpointConnectionError(
                    endpoint_url=http.redact_url(url), error=exc
                ) from None
            raise ConnectionClosedError(
                endpoint_url=http.redact_url(url), request=request, error=exc
            ) from None
        answer = AWSResponse(url, response.status_code, response.raw.headers, response.raw)
        if not request.stream_output:
            answer.content  # noqa: B018  (read now, as botocore's own sender does)
        return answer


def client(endpoint: Endpoint, *, allow_private: bool, timeout: float = http.READ_TIMEOUT) -> Any:
    """An S3 client for ``endpoint`` that sends only through the guarded session.

    Checksums are computed only where the operation requires one: several S3-compatible
    stores refuse the CRC headers newer boto3 adds to every upload by default.
    """
    config = Config(
        region_name=endpoint.region or "us-east-1",
        signature_version="s3v4",
        s3={"addressing_style": endpoint.addressing},
        retries={"mode": "standard", "total_max_attempts": 2},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    made = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint.url or None,
        aws_access_key_id=endpoint.access_key_id or None,
        aws_secret_access_key=endpoint.secret_access_key or None,
        config=config,
    )
    session = http.Session(
        allow_private=allow_private,
        timeout=(min(http.CONNECT_TIMEOUT, timeout), timeout),
        pool_size=16,
    )
    made.meta.events.register_first("before-send.s3", GuardedSender(session))
    return made
