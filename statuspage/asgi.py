"""The web entry point of ``statuspage up``: a request reaches a thread only once whole.

granian runs a WSGI app in a few threads per process, and a thread reading a request body
waits for the client: eight clients that send headers and then hold their bodies back used
to stall every thread, and the public page with them. Here granian runs this ASGI app
instead. It reads each body on the event loop, where a waiting client costs a coroutine
rather than a thread, for at most ``STATUSPAGE_BODY_TIMEOUT_SECONDS`` (then 408) and up to
the route's size limit (a larger declared length goes to the app unread, which answers
413), and only then hands the complete request to the Flask app in a thread pool (a2wsgi).
Files of the published snapshot are answered on the event loop itself, from the memory of
the snapshot middleware, without a thread at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ
from flask import Flask

from statuspage import create_app
from statuspage.public.site import PublishedSite
from statuspage.request_limits import body_limit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

THREADS = 8
BODY_HEADERS = (b"content-length", b"transfer-encoding")


class BodyNotReceived(Exception):
    """The client went away before its body was complete."""


async def _read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, or its first ``limit + 1`` bytes when it is longer."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise BodyNotReceived
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_length(scope: Scope, length: int) -> Scope:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() not in BODY_HEADERS]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


async def _answer(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BufferedBodies:
    """ASGI app: buffer each request body within a deadline, then run the WSGI app."""

    def __init__(self, app: Flask, threads: int = THREADS) -> None:
        self.config = app.config
        self.wsgi: Any = WSGIMiddleware(app, workers=threads)  # type: ignore[arg-type]
        # create_app wraps the Flask app in the snapshot middleware, outermost.
        site = app.wsgi_app
        self.site = site if isinstance(site, PublishedSite) else None

    async def _from_snapshot(self, scope: Scope, send: Send) -> bool:
        if self.site is None:
            return False
        answer = self.site.respond(build_environ(scope, None))  # type: ignore[arg-type]
        if answer is None:
            return False
        status, headers, body = answer
        await send(
            {
                "type": "http.response.start",
                "status": int(status.split(" ", 1)[0]),
                "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.wsgi(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"]}
        if not any(name in headers for name in BODY_HEADERS):
            if not await self._from_snapshot(scope, send):
                await self.wsgi(scope, _replay(b""), send)
            return
        limit = body_limit(self.config, scope["path"])
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            # The app refuses it by its declared length, in its own words, unread.
            await self.wsgi(_with_length(scope, int(declared)), _replay(b""), send)
            return
        try:
            async with asyncio.timeout(self.config["BODY_TIMEOUT"]):
                body = await _read_body(receive, limit)
        except TimeoutError:
            await _answer(send, 408, "The request body did not arrive in time.\n")
            return
        except BodyNotReceived:
            return
        if len(body) > limit:  # no declared length, and longer than allowed: refused unread
            await self.wsgi(_with_length(scope, len(body)), _replay(b""), send)
            return
        await self.wsgi(_with_length(scope, len(body)), _replay(body), send)


def create() -> BufferedBodies:
    """granian's factory: ``granian --interface asgi --factory statuspage.asgi:create``."""
    return BufferedBodies(create_app())
