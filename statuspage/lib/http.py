"""The one way out to the network over HTTP: timeouts, the private-address guard, redaction.

Every outbound request (webhooks, Slack, Mastodon.py's and tweepy's sessions, the atproto
SDK's httpx client) uses a session or transport from here. Each new connection resolves
its host once, checks every address, and dials exactly the addresses it checked, while
TLS still sends and verifies the host name: a name that answers a public address to the
check and 127.0.0.1 to the dial (DNS rebinding) never reaches 127.0.0.1. Redirects open
new connections, so each hop passes the same guard. Logs and stored errors only ever see
redacted URLs.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.exceptions import HTTPError as TransportError
from urllib3.util.connection import create_connection

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 10.0
USER_AGENT = "statuspage/0.1 (status notifications)"
MAX_RETRY_AFTER = timedelta(hours=6)
# Their DEBUG output prints full request URLs and OAuth headers; ours prints redacted ones.
for _noisy in ("urllib3.connectionpool", "tweepy.client", "requests_oauthlib", "oauthlib"):
    logging.getLogger(_noisy).setLevel(logging.INFO)

# 169.254.169.254 and friends are link-local; fd00:ec2::254 is unique-local: both non-global.
_METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data"}


class HttpError(Exception):
    """A request failed; ``message`` is safe to log and to show operators."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_at: datetime | None = None,
        permanent: bool = False,
        unknown_outcome: bool = False,
        answer: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.answer = answer  # the start of an error status's body, unredacted: not for logs
        self.status = status
        self.retry_at = retry_at
        self.permanent = permanent
        self.unknown_outcome = unknown_outcome  # sent, but no whole answer came back


# Forms that carry an IPv4 address inside IPv6: the IPv4 address decides.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Refused whatever they carry: local-use NAT64 (RFC 8215), IPv4-compatible (deprecated),
# Teredo tunnels, and ranges Python's is_global does not yet know as non-global.
_NEVER_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in ("64:ff9b:1::/48", "::/96", "2001::/32", "192.0.0.0/24", "192.88.99.0/24")
)


def is_public_address(address: str) -> bool:
    """True for a globally reachable unicast address, judged by the IPv4 address that an
    IPv6 form (NAT64, 6to4) embeds; mapped, compatible and Teredo forms are refused."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return False
        embedded = ip.sixtofour
        if ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    if any(ip in network for network in _NEVER_PUBLIC if network.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast


class Refused(Exception):
    """Connecting to a host is refused; the message says why and is safe to show."""


def resolve(host: str, port: int) -> list[str]:
    """Every address of ``host``, in the resolver's order: the one lookup per connection."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(host: str, port: int) -> list[str]:
    """Resolve ``host`` once and return its addresses, or raise ``Refused`` if any of them
    is not public; ``socket.gaierror`` passes through."""
    if host.lower().rstrip(".") in _METADATA_HOSTS:
        raise Refused(f"{host} is a cloud metadata address")
    addresses = resolve(host, port)
    for address in addresses:
        if not is_public_address(address):
            raise Refused(f"{host} resolves to a non-public address ({address})")
    return addresses


def refusal(host: str, port: int) -> str | None:
    """Why connecting to ``host`` would be refused, or None when every address is public."""
    try:
        checked_addresses(host, port)
    except Refused as exc:
        return str(exc)
    except socket.gaierror:
        return None  # the connection itself will report the resolution failure
    return None


class _GuardedConnection:
    """Resolves once, checks every address, then dials only those addresses.

    ``host`` stays the name, so the Host header, TLS SNI and certificate verification
    use it; only the socket is opened on a checked address (an IP literal: no second
    lookup).
    """

    def _new_conn(self):  # type: ignore[no-untyped-def]
        host: str = self._dns_host  # type: ignore[attr-defined]
        try:
            addresses = checked_addresses(host, self.port)  # type: ignore[attr-defined]
        except Refused as exc:
            raise NewConnectionError(self, f"refused: {exc}") from None  # type: ignore[arg-type]
        except socket.gaierror as exc:
            raise NameResolutionError(host, self, exc) from exc  # type: ignore[arg-type]
        failure: OSError | None = None
        for address in addresses:
            try:
                sock = create_connection(
                    (address, self.port),  # type: ignore[attr-defined]
                    self.timeout,  # type: ignore[attr-defined]
                    source_address=self.source_address,  # type: ignore[attr-defined]
                    socket_options=self.socket_options,  # type: ignore[attr-defined]
                )
            except OSError as exc:
                failure = exc
                continue
            sys.audit("http.client.connect", self, self.host, self.port)  # type: ignore[attr-defined]
            return sock
        if isinstance(failure, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {host} timed out. (connect timeout={self.timeout})"
            )  # type: ignore[attr-defined]
        raise NewConnectionError(  # type: ignore[arg-type]
            self, f"Failed to establish a new connection: {failure}"
        )


class _GuardedHTTPConnection(_GuardedConnection, HTTPConnection):
    pass


class _GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {  # type: ignore[attr-defined]
            "http": _GuardedHTTPPool,
            "https": _GuardedHTTPSPool,
        }


_BOT_TOKEN = re.compile(r"bot\d+:")


def redact_url(url: str) -> str:
    """Keep scheme, host and the first path segment: Slack and many webhook URLs carry
    their credential in the path, and query strings often carry tokens."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "<unparseable URL>"
    segments = [s for s in parts.path.split("/") if s]
    if segments and _BOT_TOKEN.match(segments[0]):
        segments[0] = "bot***"  # Telegram's Bot API has the bot's token as the first segment
    path = f"/{segments[0]}/…" if len(segments) > 1 else parts.path
    return f"{parts.scheme}://{host}{port}{path}"


_URL = re.compile(r"https?://[^\s'\"<>)]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Scrub known secret values and URL paths from an error message."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return _URL.sub(lambda m: redact_url(m.group(0)), text)


# Rate-limit headers that name when to come back, as the far ends we speak to spell them:
# Retry-After (RFC 9110: seconds or an HTTP date), RateLimit-Reset (IETF draft: seconds),
# X-RateLimit-Reset (epoch seconds on GitHub-style APIs and Discord, an ISO 8601 time on
# Mastodon), X-RateLimit-Reset-After (Discord: seconds) and x-rate-limit-reset (X: epoch
# seconds).
RESET_HEADERS = (
    "retry-after",
    "ratelimit-reset",
    "x-ratelimit-reset",
    "x-ratelimit-reset-after",
    "x-rate-limit-reset",
)
_EPOCH_FLOOR = 1_000_000_000  # larger numbers are Unix times (after 2001), smaller are seconds


def retryable_status(status: int) -> bool:
    """Whether an HTTP error status may succeed later: timeouts, conflicts, "too early",
    rate limits and server errors; any other 4xx will not."""
    return status in (408, 409, 425, 429) or status >= 500


def status_text(far_end: str, status: int) -> str:
    """How a retryable error status reads in the ledger."""
    if status == 429:
        return f"{far_end} rate limit reached (429)"
    if status >= 500:
        return f"{far_end} server error {status}"
    return f"{far_end} answered {status}"


def reset_at(headers: Mapping[str, str], at: datetime | None = None) -> datetime | None:
    """When the far end asked us to come back, from whichever reset headers it sent.

    Numbers are seconds from now, or a Unix time when they are that large; text is an ISO
    8601 time or an HTTP date. The latest time named wins, so no header is retried early;
    the result lies between now (``at``) and ``MAX_RETRY_AFTER`` from now.
    """
    at = at or datetime.now(UTC)
    named = {name.lower(): value for name, value in headers.items()}
    times = [
        when for name in RESET_HEADERS if (when := _moment(named.get(name, ""), at)) is not None
    ]
    if not times:
        return None
    return min(max(max(times), at), at + MAX_RETRY_AFTER)


def _moment(raw: str, at: datetime) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError:
        pass
    else:
        if not 0 <= number < 1e11:  # also refuses nan and inf
            return None
        if number >= _EPOCH_FLOOR:
            return datetime.fromtimestamp(number, UTC)
        return at + timedelta(seconds=number)
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        try:
            when = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def epoch_to_datetime(value: float) -> datetime:
    at = datetime.now(UTC)
    return min(max(datetime.fromtimestamp(value, UTC), at), at + MAX_RETRY_AFTER)


class Session(requests.Session):
    """A requests session with default timeouts, redacted logging and host aliases.

    ``aliases`` maps a fixed API origin to another (tweepy hard-codes api.twitter.com;
    an operator may route it through a compatible gateway, tests through a local one).
    """

    def __init__(
        self,
        *,
        allow_private: bool = False,
        aliases: Mapping[str, str] | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
        pool_size: int = 10,
    ) -> None:
        super().__init__()
        self.trust_env = False  # no .netrc credentials or proxy surprises from the host
        self.headers["User-Agent"] = USER_AGENT
        self.aliases = {k.rstrip("/"): v.rstrip("/") for k, v in (aliases or {}).items()}
        self.default_timeout = timeout
        self.max_redirects = 5
        adapter_cls = HTTPAdapter if allow_private else _GuardedAdapter
        for scheme in ("http://", "https://"):
            self.mount(scheme, adapter_cls(pool_connections=pool_size, pool_maxsize=pool_size))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        for origin, target in self.aliases.items():
            if url.startswith(origin + "/") or url == origin:
                url = target + url[len(origin) :]
                break
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        started = time.monotonic()
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            log.info("%s %s failed: %s", method, redact_url(url), type(exc).__name__)
            raise
        log.debug(
            "%s %s -> %s in %.3fs",
            method,
            redact_url(url),
            response.status_code,
            time.monotonic() - started,
        )
        return response


def session(allow_private: bool | None = None, **kwargs: Any) -> Session:
    """A session configured from the app: private addresses only where the setting allows."""
    from flask import current_app

    if allow_private is None:
        allow_private = bool(current_app.config.get("ALLOW_PRIVATE_WEBHOOKS"))
    read = float(current_app.config.get("HTTP_TIMEOUT") or READ_TIMEOUT)
    kwargs.setdefault("timeout", (min(CONNECT_TIMEOUT, read), read))
    return Session(allow_private=allow_private, **kwargs)


def never_sent(exc: BaseException) -> bool:
    """True when the request certainly did not reach the server (no connection was made),
    so even a channel without idempotency may send it again."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        return isinstance(getattr(exc.args[0], "reason", None), NewConnectionError)
    return False


def describe_failure(exc: requests.RequestException, secrets: Iterable[str] = ()) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if "refused: " in str(reason):
        return "refused: " + redact(str(reason).split("refused: ", 1)[1], secrets)
    if isinstance(exc, requests.ConnectionError):
        return "connection failed: " + redact(text, secrets)[:300]
    return redact(f"{type(exc).__name__}: {text}", secrets)[:300]


def post(
    http: Session,
    url: str,
    *,
    secrets: Iterable[str] = (),
    **kwargs: Any,
) -> requests.Response:
    """POST and classify the outcome: 2xx returns; anything else raises HttpError with a
    redacted message, ``retry_at`` from the reset headers, 4xx (but 408, 409, 425 and 429)
    marked permanent, and a request sent without a whole answer marked ``unknown_outcome``.

    Redirects are not followed: a receiver that moved must be reconfigured, and a body
    re-sent to wherever a Location points is how a public endpoint aims a delivery inward.
    """
    secrets = tuple(secrets)
    kwargs.setdefault("allow_redirects", False)
    try:
        response = http.post(url, **kwargs)
    except requests.RequestException as exc:
        message = describe_failure(exc, secrets)
        if never_sent(exc):
            raise HttpError(message, permanent=message.startswith("refused: ")) from None
        raise HttpError(f"no answer after sending ({message})", unknown_outcome=True) from None
    if 200 <= response.status_code < 300:
        return response
    answer = response.text[:2000]
    snippet = redact(answer[:200].strip(), secrets)
    message = f"HTTP {response.status_code} from {redact_url(url)}" + (
        f": {snippet}" if snippet else ""
    )
    status = response.status_code
    if 300 <= status < 400:
        message += " (redirects are not followed)"
    response.close()
    raise HttpError(
        message,
        status=status,
        retry_at=reset_at(response.headers),
        permanent=not retryable_status(status),
        answer=answer,
    )


MAX_DOCUMENT = 4 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: Mapping[str, str]
    body: bytes


def get(
    http: Session,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    limit: int = MAX_DOCUMENT,
) -> Fetched:
    """GET a document: 2xx and 304 return with the body read (at most ``limit`` bytes);
    anything else raises HttpError as ``post`` does. Redirects are followed, each hop a
    new connection through the same guard; nothing is sent but the request line."""
    try:
        response = http.get(url, headers=dict(headers or {}), stream=True)
    except requests.RequestException as exc:
        message = describe_failure(exc)
        raise HttpError(message, permanent=message.startswith("refused: ")) from None
    with response:
        status = response.status_code
        if 200 <= status < 300 or status == 304:
            try:
                body = response.raw.read(limit + 1, decode_content=True)
            except (requests.RequestException, OSError, TransportError) as exc:
                raise HttpError(f"the answer broke off: {type(exc).__name__}") from None
            if len(body) > limit:
                raise HttpError(f"the answer is larger than {limit} bytes")
            return Fetched(status, response.headers, body)
        snippet = redact(response.text[:200].strip())
    message = f"HTTP {status} from {redact_url(url)}" + (f": {snippet}" if snippet else "")
    raise HttpError(
        message,
        status=status,
        retry_at=reset_at(response.headers),
        permanent=not retryable_status(status),
    )


def check_url(url: str, *, allow_private: bool) -> str | None:
    """A reason to refuse ``url`` as a delivery target at save time, or None.

    The connect-time guard is the real protection; this only gives operators and
    subscribers an immediate, clear error.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http(s) URL"
    if parts.username or parts.password:
        return "must not contain a user name or password"
    if allow_private:
        return None
    if parts.scheme != "https":
        return "must use https"
    return refusal(parts.hostname, port)


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend with the same guard as the requests sessions: resolve
    once, check every address, dial only those (TLS still verifies the host name)."""

    def connect_tcp(  # type: ignore[override]
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port)
        except Refused as exc:
            raise httpcore.ConnectError(f"refused: {exc}") from None
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure


def httpx_options(allow_private: bool | None = None) -> dict[str, Any]:
    """Keyword arguments for an ``httpx.Client`` (the atproto SDK's HTTP client) that goes
    out only through the guard, with the app's timeouts and no proxies from the host."""
    from flask import current_app

    if allow_private is None:
        allow_private = bool(current_app.config.get("ALLOW_PRIVATE_WEBHOOKS"))
    read = float(current_app.config.get("HTTP_TIMEOUT") or READ_TIMEOUT)
    transport = httpx.HTTPTransport()
    if not allow_private:
        transport._pool._network_backend = _GuardedBackend()  # httpcore's one hook for it
    return {
        "transport": transport,
        "timeout": httpx.Timeout(read, connect=min(CONNECT_TIMEOUT, read)),
        "trust_env": False,
        "headers": {"User-Agent": USER_AGENT},
    }
