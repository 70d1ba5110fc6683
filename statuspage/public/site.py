"""WSGI middleware that serves the published snapshot before Flask sees the request.

Readers arrive in a flood exactly when something is broken, so the public site must cost
almost nothing per request and never touch the database. Each file of the snapshot being
served is read once per process into memory with its precomputed headers: a strong ETag
from the content hash (a different one for the gzip variant), ``Last-Modified`` from the
file (kept across re-publishes while the bytes stay the same) and a ``Cache-Control`` that
lets a CDN serve stale copies while it revalidates or while the origin is down. Anything
not in the snapshot falls through to the Flask app (admin, write API, subscriptions).

URLs map to files the way ``deploy/nginx/snapshot-locations.conf`` maps them: ``/`` is
``index.html``, ``/de/`` is ``de/index.html`` and a path whose last segment has no dot is
``<path>.html``. ``/`` alone is negotiated: a reader whose ``Accept-Language`` prefers a
shipped language gets that language's home page (``Vary: Accept-Language``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any

from statuspage.i18n import LANGUAGES, best_match

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PAGE_CACHE = "public, max-age=10, stale-while-revalidate=30, stale-if-error=86400"
# Pages link assets with a content hash (``?v=``); only such URLs are immutable.
VERSIONED_ASSET_CACHE = "public, max-age=31536000, immutable"
ASSET_CACHE = "public, max-age=300, stale-while-revalidate=86400, stale-if-error=86400"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".ics": "text/calendar; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
}
# Pages are ours and use no inline script or style; the badge SVG carries its own styling.
HTML_SECURITY = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    ),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
]
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
ALLOW = "GET, HEAD, OPTIONS"
# What a 304 repeats (RFC 9110 15.4.5), so caches can refresh their stored copy.
KEEP_ON_304 = {"Cache-Control", "ETag", "Last-Modified", "Vary", "Access-Control-Allow-Origin"}


def snapshot_path(url_path: str) -> str | None:
    """The file under the snapshot that a URL path names, or None if it cannot name one."""
    if url_path == "/":
        return "index.html"
    if url_path.endswith("/") and url_path.count("/") == 2:  # a language's home: /de/
        url_path += "index"
    segments = url_path.split("/")
    if segments[0] != "" or not all(_SEGMENT.match(s) for s in segments[1:]):
        return None
    relative = "/".join(segments[1:])
    if relative.endswith(".gz"):
        return None
    return relative if "." in segments[-1] else relative + ".html"


class _File:
    __slots__ = ("body", "gzip", "headers", "gzip_headers", "etag", "gzip_etag", "modified")

    def __init__(self, path: Path, cache_control: str, negotiated: bool = False) -> None:
        self.body = path.read_bytes()
        try:
            self.gzip: bytes | None = path.with_name(path.name + ".gz").read_bytes()
        except FileNotFoundError:
            self.gzip = None
        mtime = int(path.stat().st_mtime)
        self.modified = mtime
        tag = hashlib.sha256(self.body).hexdigest()[:24]
        etag, gzip_etag = self.etag, self.gzip_etag = f'"{tag}"', f'"{tag}-gz"'
        common = [
            ("Content-Type", TYPES.get(path.suffix, "application/octet-stream")),
            ("Cache-Control", cache_control),
            ("Last-Modified", formatdate(mtime, usegmt=True)),
            ("Access-Control-Allow-Origin", "*"),
            ("X-Content-Type-Options", "nosniff"),
        ]
        if path.suffix == ".html":
            common += HTML_SECURITY
        vary = ["Accept-Encoding"] if self.gzip is not None else []
        if negotiated:
            vary.append("Accept-Language")
            if path.parent.name in LANGUAGES:
                common.append(("Content-Language", path.parent.name))
        if vary:
            common.append(("Vary", ", ".join(vary)))
        self.headers = [*common, ("ETag", etag), ("Content-Length", str(len(self.body)))]
        self.gzip_headers = [
            *common,
            ("ETag", gzip_etag),
            ("Content-Encoding", "gzip"),
            ("Content-Length", str(len(self.gzip or b""))),
        ]

    def not_modified(self, environ: dict[str, Any], etag: str) -> bool:
        match = environ.get("HTTP_IF_NONE_MATCH")
        if match is not None:
            if match.strip() == "*":
                return True
            # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
            return etag in {t.strip().removeprefix("W/") for t in match.split(",")}
        since = environ.get("HTTP_IF_MODIFIED_SINCE")
        if since:
            try:
                return parsedate_to_datetime(since).timestamp() >= self.modified
            except (TypeError, ValueError):
                return False
        return False


def accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "x-gzip", "*"):
            q = params.strip().lower()
            if not q.startswith("q="):
                return True
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
    return False


class PublishedSite:
    """Serve ``<publish_dir>/current`` from memory; hand everything else to ``app``."""

    def __init__(self, app: WSGIApp, publish_dir: str | os.PathLike[str]) -> None:
        self.app = app
        self.link = Path(publish_dir) / "current"
        # (snapshot served, its files read so far), swapped as one value between threads.
        self._loaded: tuple[str, dict[str, _File]] = ("", {})

    def _lookup(self, url_path: str, versioned: bool, language: str | None = None) -> _File | None:
        try:
            target = os.readlink(self.link)
        except OSError:
            return None  # nothing published yet: Flask says so
        loaded = self._loaded
        if loaded[0] != target:
            loaded = self._loaded = (target, {})
        files = loaded[1]
        key = url_path + "?v" if versioned else url_path
        if url_path == "/":
            key += f"#{language or ''}"
        found = files.get(key)
        if found is not None:
            return found
        relative = snapshot_path(url_path)
        if relative is None:
            return None
        if url_path == "/" and language:
            relative = f"{language}/{relative}"
        path = self.link.parent / target / relative
        if not path.is_file():
            return None
        cache = PAGE_CACHE
        if relative.startswith("static/"):
            cache = VERSIONED_ASSET_CACHE if versioned else ASSET_CACHE
        try:
            found = _File(path, cache, negotiated=url_path == "/")
        except FileNotFoundError:  # pruned between readlink and read: the next request retries
            return None
        files[key] = found
        return found

    def respond(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """The snapshot's answer (status, headers, body), or None when it has no such file."""
        url_path = environ.get("PATH_INFO") or "/"
        versioned = environ.get("QUERY_STRING", "").startswith("v=")
        found = None
        if url_path == "/":
            language = best_match(environ.get("HTTP_ACCEPT_LANGUAGE"))
            found = self._lookup(url_path, versioned, language) if language else None
        if found is None:
            found = self._lookup(url_path, versioned)
        if found is None:
            return None
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "OPTIONS":
            return (
                "204 No Content",
                [
                    ("Allow", ALLOW),
                    ("Access-Control-Allow-Origin", "*"),
                    ("Access-Control-Allow-Methods", ALLOW),
                    ("Access-Control-Allow-Headers", "If-None-Match, If-Modified-Since"),
                    ("Access-Control-Max-Age", "86400"),
                ],
                b"",
            )
        if method not in ("GET", "HEAD"):
            return "405 Method Not Allowed", [("Allow", ALLOW), ("Content-Length", "0")], b""
        use_gzip = found.gzip is not None and accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        headers = found.gzip_headers if use_gzip else found.headers
        if found.not_modified(environ, found.gzip_etag if use_gzip else found.etag):
            return "304 Not Modified", [(k, v) for k, v in headers if k in KEEP_ON_304], b""
        body = (found.gzip or b"") if use_gzip else found.body
        return "200 OK", headers, b"" if method == "HEAD" else body

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        answer = self.respond(environ)
        if answer is None:
            return self.app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body] if body else []
