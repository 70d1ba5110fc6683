"""A recording HTTP server on 127.0.0.1 for the fakes of external APIs.

Each fake answers like the real service and records every request it receives, so tests
assert on what actually arrived. Replies can be scripted per route (status, headers,
delay, a hook run before answering) to play rate limits, outages and timeouts.
"""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float
    raw_query: str = ""  # as sent, for signatures computed over the encoded query

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode())

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # answer late (after doing the work), to play a client timeout
    before: Callable[[], None] | None = None  # e.g. kill a worker between send and reply
    process: bool = False  # do the route's work anyway, then send this reply
    # "connection": promise the whole body, send half and hang up; "body": send half of the
    # body as if it were all (a garbled answer).
    cut: str | None = None


class FakeServer:
    """Subclasses implement ``route(request) -> Reply``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        self._scripts: dict[tuple[str, str], deque[Reply]] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self.scheme = "http"

    def route(self, request: Recorded) -> Reply:
        raise NotImplementedError

    # -- control ---------------------------------------------------------------
    def start(
        self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None
    ) -> FakeServer:
        """Listen on ``host:port`` (any free port by default), over TLS when given a context."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _request(self, body: bytes) -> Recorded:
                parts = urlsplit(self.path)
                return Recorded(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    dict(self.headers.items()),
                    body,
                    time.time(),
                    raw_query=parts.query,
                )

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if fake.drops(self.command, urlsplit(self.path).path):
                    # Hang up without reading the body; keep what already arrived.
                    fake.dropped(self._request(self.rfile.peek(length)[:length] if length else b""))
                    self.close_connection = True
                    return
                reply = fake._dispatch(self._request(self.rfile.read(length) if length else b""))
                if reply.before is not None:
                    reply.before()
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                if reply.json is not None:
                    payload = json.dumps(reply.json).encode()
                length = len(payload)
                if reply.cut is not None:
                    payload = payload[: len(payload) // 2]
                    length = length if reply.cut == "connection" else len(payload)
                    self.close_connection = True
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(length))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timed out or was killed)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # many workers connect at once

            def handle_error(self, request: Any, client_address: Any) -> None:
                if not isinstance(sys.exc_info()[1], ConnectionError):  # a client went away
                    super().handle_error(request, client_address)

        self._httpd = Server((host, port), Handler)
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"{self.scheme}://{host}:{port}"

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self._scripts.clear()
            self.reset_state()

    def reset_state(self) -> None:
        """Subclasses forget what they created."""

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """The next requests to ``method path`` get these replies, in order."""
        with self.lock:
            self._scripts.setdefault((method, path), deque()).extend(replies)

    def received(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def drops(self, method: str, path: str) -> bool:
        """Whether to close this connection before reading the request's body, as a far
        end that drops connections does; subclasses decide."""
        return False

    def dropped(self, request: Recorded) -> None:
        """Record a dropped request (with the part of its body that had arrived)."""
        with self.lock:
            self.requests.append(request)

    def _dispatch(self, request: Recorded) -> Reply:
        with self.lock:
            self.requests.append(request)
            queue = self._scripts.get((request.method, request.path))
            scripted = queue.popleft() if queue else None
        if scripted is None:
            return self.route(request)
        if scripted.process:
            done = self.route(request)
            return Reply(
                status=done.status,
                json=done.json,
                body=done.body,
                headers={**done.headers, **scripted.headers},
                delay=scripted.delay,
                before=scripted.before,
                cut=scripted.cut,
            )
        return scripted
