"""A Discord webhook (``POST /api/webhooks/{id}/{token}``) in a text or a forum channel.

With ``wait=true`` it answers the message object it made (without it, 204, as Discord
does); it checks Discord's embed limits, refuses a forum post without ``thread_name`` or
``thread_id`` and a ``thread_id`` that names no post, and records every message with the
post (thread) it went to.
"""

from __future__ import annotations

import itertools

from tests.fakes.server import FakeServer, Recorded, Reply

HOOK_PATH = "/api/webhooks/1187000000000000001/WEBHOOKTOKENSECRET"
CHANNEL_ID = "1187000000000000100"
LIMITS = {"title": 256, "description": 4096}


class FakeDiscord(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.forum = False
        self.messages: list[dict] = []
        self._ids = itertools.count(1187000000000001000)

    def reset_state(self) -> None:
        self.forum = False
        self.messages.clear()

    @property
    def hook_url(self) -> str:
        return self.url + HOOK_PATH

    def threads(self) -> dict[str, list[dict]]:
        """Forum posts by id, each with its messages in order."""
        found: dict[str, list[dict]] = {}
        for message in self.messages:
            found.setdefault(message["channel_id"], []).append(message)
        return found

    def _error(self, doc: object, threads: set[str], thread_id: str | None) -> str | None:
        if not isinstance(doc, dict) or not (doc.get("content") or doc.get("embeds")):
            return "Cannot send an empty message"
        if len(doc.get("content") or "") > 2000:
            return "content: Must be 2000 or fewer in length."
        for embed in doc.get("embeds") or []:
            for field, limit in LIMITS.items():
                if len(embed.get(field) or "") > limit:
                    return f"embeds.0.{field}: Must be {limit} or fewer in length."
        if len(doc.get("thread_name") or "") > 100:
            return "thread_name: Must be 100 or fewer in length."
        if self.forum and not (doc.get("thread_name") or thread_id):
            return "Webhooks posted to forum channels must have a thread_name or thread_id"
        if not self.forum and doc.get("thread_name"):
            return "Webhooks can only create threads in forum channels"
        if thread_id and thread_id not in threads:
            return "Unknown Channel"
        return None

    def route(self, request: Recorded) -> Reply:
        if request.path != HOOK_PATH:
            return Reply(401, json={"message": "Invalid Webhook Token", "code": 50027})
        doc = request.json
        thread_id = (request.query.get("thread_id") or [None])[0]
        with self.lock:
            error = self._error(doc, {m["channel_id"] for m in self.messages}, thread_id)
            if error is not None:
                return Reply(400, json={"message": error, "code": 50035})
            message_id = str(next(self._ids))
            # A forum post's id is the id of its first message.
            channel = thread_id or (message_id if doc.get("thread_name") else CHANNEL_ID)
            message = {
                "id": message_id,
                "type": 0,
                "channel_id": channel,
                "content": doc.get("content") or "",
                "embeds": doc.get("embeds") or [],
                "webhook_id": HOOK_PATH.split("/")[3],
                "thread_name": doc.get("thread_name"),
                "allowed_mentions": doc.get("allowed_mentions"),
            }
            self.messages.append(message)
        if (request.query.get("wait") or ["false"])[0] != "true":
            return Reply(204)
        return Reply(200, json=message)
