"""Bluesky: one thread per incident, posted with the atproto SDK.

Each update is an ``app.bsky.feed.post`` whose reply refs name the incident's first post
(root) and its previous one (parent), as Bluesky threads require; the text fits 300
graphemes and every link in it is a link facet (UTF-8 byte offsets). The SDK's httpx
client goes out through ``statuspage.lib.http``'s guarded transport.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import regex
from atproto import Client, models
from atproto_client import exceptions as atp
from atproto_client.request import Request
from atproto_core.uri import AtUri

from statuspage import outbox
from statuspage.channel_messages import bluesky_post
from statuspage.lib import http
from statuspage.listening.replies import ReplyFacts
from statuspage.messages import MessageFacts
from statuspage.models import Channel, ChannelThread, Delivery
from workers.channels.base import (
    DeliveryError,
    HttpTransport,
    SendResult,
    channel_secrets,
    load_channel,
    thread_root,
)

DEFAULT_SERVICE = "https://bsky.social"
COLLECTION = "app.bsky.feed.post"
POST_URL = "https://bsky.app/profile/{did}/post/{rkey}"
_URL = regex.compile(r"https?://\S+")
_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
# channel id -> (credentials fingerprint, exported session): createSession is limited to
# 30 logins in 5 minutes per account, so a worker logs in once and refreshes after that.
_sessions: dict[int, tuple[str, str]] = {}
STALE_SESSION = frozenset({"ExpiredToken", "InvalidToken"})


class SessionClient(Client):
    """A client that resumes a kept session and, when the server no longer takes it, logs
    in with the app password once and repeats the call that was refused.

    A kept session ends without notice: the access token is revoked or rotated, or expires
    between the SDK's own refresh check and the call (clocks differ). The PDS then answers
    ``InvalidToken`` (401) or ``ExpiredToken`` (400); neither says anything about the post.
    """

    def __init__(self, service: str, handle: str, password: str) -> None:
        super().__init__(base_url=service, request=Request(**http.httpx_options()))
        self._credentials = (handle, password)
        self._fresh = False  # logged in with the password during this client's life

    def resume(self, session: str | None) -> None:
        """Resume ``session`` (an exported session string), or log in when there is none."""
        if session is None:
            self._fresh = True
            self.login(*self._credentials, fetch_bsky_profile=False)
        else:
            self.login(session_string=session, fetch_bsky_profile=False)

    def _invoke(self, invoke_type: Any, **kwargs: Any) -> Any:
        try:
            return super()._invoke(invoke_type, **kwargs)
        except (atp.UnauthorizedError, atp.BadRequestError) as exc:
            # A login or refresh call is not repeated itself: its caller's call is.
            stale = _xrpc_error(exc) in STALE_SESSION and not kwargs.get("ignore_session_check")
            if self._fresh or not stale:
                raise
        self.resume(None)
        return super()._invoke(invoke_type, **kwargs)


def link_facets(text: str) -> list[models.AppBskyRichtextFacet.Main]:
    """A link facet per URL in ``text``; Bluesky shows no link that has no facet."""
    facets = []
    for match in _URL.finditer(text):
        start = len(text[: match.start()].encode())
        facets.append(
            models.AppBskyRichtextFacet.Main(
                index=models.AppBskyRichtextFacet.ByteSlice(
                    byte_start=start, byte_end=start + len(match.group().encode())
                ),
                features=[models.AppBskyRichtextFacet.Link(uri=match.group())],
            )
        )
    return facets


def record_key(at: datetime, clock_id: int) -> str:
    """A TID (the record key posts use) fixed by the delivery: the same row always writes
    the same record, so a repeated send finds its post instead of making a second one."""
    value = (int(at.timestamp() * 1_000_000) << 10) | (clock_id % 1024)
    return "".join(_TID_ALPHABET[(value >> shift) & 31] for shift in range(60, -1, -5))


def post_url(uri: str) -> str:
    parsed = AtUri.from_str(uri)
    return POST_URL.format(did=parsed.host, rkey=parsed.rkey)


class Bluesky(HttpTransport):
    """The record key is chosen from the delivery, so a send whose outcome is unknown is
    sent again safely: every later attempt first looks up that key in the account's repo."""

    safe_to_resend = True
    threaded = True

    @contextmanager
    def connect(self, channel: Channel) -> Iterator[tuple[Client, str]]:
        """A logged-in client and the account's DID; SDK errors leave as DeliveryError.
        Listening reads through the same session."""
        keys = channel_secrets(channel)
        handle, password = channel.config.get("handle") or "", keys.get("app_password") or ""
        service = channel.config.get("service") or DEFAULT_SERVICE
        fingerprint = hashlib.sha256(f"{service}\0{handle}\0{password}".encode()).hexdigest()
        client = SessionClient(service, handle, password)
        account: dict[str, str] = {}

        def keep(_event: Any, session: Any) -> None:
            account["did"] = session.did
            _sessions[channel.id] = (fingerprint, session.encode())

        client.on_session_change(keep)
        cached = _sessions.get(channel.id)
        try:
            client.resume(cached[1] if cached and cached[0] == fingerprint else None)
            yield client, account["did"]
        except (atp.AtProtocolError, httpx.HTTPError) as exc:
            # The SDK wraps timeouts and network errors; others of httpx's (a cut answer)
            # come through as they are.
            if isinstance(exc, atp.UnauthorizedError):
                _sessions.pop(channel.id, None)  # log in afresh next time
            raise delivery_error(exc, (password,)) from None
        finally:
            client.request.close()

    @staticmethod
    def _strong_ref(client: Client, uri: str) -> models.ComAtprotoRepoStrongRef.Main | None:
        """A post of our own repo by its URI, with its CID; None if it was deleted."""
        parsed = AtUri.from_str(uri)
        try:
            found = client.com.atproto.repo.get_record(
                models.ComAtprotoRepoGetRecord.Params(
                    repo=parsed.host, collection=parsed.collection, rkey=parsed.rkey
                )
            )
        except atp.BadRequestError as exc:
            if _xrpc_error(exc) == "RecordNotFound":
                return None
            raise
        return models.ComAtprotoRepoStrongRef.Main(uri=found.uri, cid=found.cid or "")

    def _thread(
        self, client: Client, channel_id: int, incident_id: str
    ) -> models.AppBskyFeedPost.ReplyRef | None:
        root_uri = thread_root(channel_id, incident_id)
        if root_uri is None:
            return None
        root = self._strong_ref(client, root_uri)
        if root is None:
            return None  # the thread's first post was deleted: start afresh
        last = ChannelThread.last_post(channel_id, incident_id)
        parent = self._strong_ref(client, last) if last and last != root_uri else None
        return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent or root)

    def _create(
        self,
        client: Client,
        did: str,
        delivery: Delivery,
        text: str,
        reply: models.AppBskyFeedPost.ReplyRef | None,
        langs: list[str] | None,
    ) -> SendResult:
        rkey = record_key(delivery.created_at, delivery.id)
        uri = f"at://{did}/{COLLECTION}/{rkey}"
        if delivery.attempts > 1 and self._strong_ref(client, uri) is not None:
            return SendResult(external_id=uri, external_url=post_url(uri))  # an earlier try
        record = models.AppBskyFeedPost.Record(
            text=text,
            created_at=client.get_current_time_iso(),
            facets=link_facets(text) or None,
            reply=reply,
            langs=langs,
        )
        outbox.mark_started(delivery, {"rkey": rkey})
        made = client.com.atproto.repo.create_record(
            models.ComAtprotoRepoCreateRecord.Data(
                repo=did, collection=COLLECTION, rkey=rkey, record=record
            )
        )
        return SendResult(external_id=made.uri, external_url=post_url(made.uri))

    def send(self, delivery: Delivery, facts: MessageFacts) -> SendResult:
        channel = load_channel(delivery.channel_id)
        text = bluesky_post(facts).text
        language = channel.config.get("language")
        with self.connect(channel) as (client, did):
            reply = self._thread(client, channel.id, facts.incident_id)
            return self._create(
                client, did, delivery, text, reply, [language] if language else None
            )

    def send_reply(self, delivery: Delivery, reply: ReplyFacts) -> SendResult:
        """An answer under a customer's post: the post is read back for its CID and its
        thread's root, so the reply lands in their thread and notifies them."""
        if not reply.in_reply_to:
            raise DeliveryError("the post to answer is not known", permanent=True)
        channel = load_channel(delivery.channel_id)
        language = channel.config.get("language")
        did, _, rkey = reply.in_reply_to.rpartition("/")
        uri = f"at://{did}/{COLLECTION}/{rkey}"
        with self.connect(channel) as (client, ours):
            found = client.app.bsky.feed.get_posts(
                models.AppBskyFeedGetPosts.Params(uris=[uri])
            ).posts
            if not found:
                raise DeliveryError("the post was deleted", permanent=True)
            parent = models.ComAtprotoRepoStrongRef.Main(uri=found[0].uri, cid=found[0].cid)
            thread = getattr(found[0].record, "reply", None)
            refs = models.AppBskyFeedPost.ReplyRef(
                root=thread.root if thread is not None else parent, parent=parent
            )
            return self._create(
                client, ours, delivery, reply.text, refs, [language] if language else None
            )

    def test(self, channel: Channel, recipient: str) -> str:
        """Logs in (a test post would be public noise)."""
        with self.connect(channel) as (_client, did):
            pass
        return f"Connected as @{channel.config.get('handle')} ({did})."


def _xrpc_error(exc: atp.RequestErrorBase) -> str | None:
    content = exc.response.content if exc.response is not None else None
    return getattr(content, "error", None)


def delivery_error(exc: Exception, secrets: tuple[str, ...]) -> DeliveryError:
    """The SDK's errors in the ledger's classes: a connection never made is retried, a
    request without a whole answer is an unknown outcome, 4xx (but 408, 409, 425, 429)
    permanent, and every reset header honoured (Bluesky sends ``RateLimit-Reset``)."""
    if isinstance(exc, atp.RequestErrorBase) and exc.response is not None:
        status = exc.response.status_code
        if http.retryable_status(status):
            return DeliveryError(
                http.status_text("Bluesky", status), retry_at=http.reset_at(exc.response.headers)
            )
        detail = http.redact(str(exc), secrets)[:300]
        return DeliveryError(f"Bluesky refused it ({status}): {detail}", permanent=True)
    cause = exc if isinstance(exc, httpx.HTTPError) else exc.__cause__
    if isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
        text = http.redact(str(cause), secrets)[:300]
        refused = text.startswith("refused: ")
        return DeliveryError(f"Bluesky unreachable: {text}", permanent=refused)
    if isinstance(cause, httpx.HTTPError):
        what = "timed out" if isinstance(cause, httpx.TimeoutException) else type(cause).__name__
        return DeliveryError(f"no answer from Bluesky after sending ({what})", unknown_outcome=True)
    return DeliveryError(http.redact(f"Bluesky: {exc}", secrets)[:300], unknown_outcome=True)
