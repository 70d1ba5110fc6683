"""The Telegram Bot API (``/bot<token>/<method>``), as much as a bot posting to a channel
needs: ``getMe``, ``getChat`` and ``sendMessage`` with ``reply_parameters``, answering
``{"ok", "result"}`` or ``{"ok": false, "error_code", "description", "parameters"}`` as
the real one does, and checking the text limit (4,096 UTF-16 code units)."""

from __future__ import annotations

import itertools
import time

from tests.fakes.server import FakeServer, Recorded, Reply

TOKEN = "123456789:AAFakeTelegramBotTokenSecret"
CHAT = {
    "id": -1001234567890,
    "type": "channel",
    "title": "Example Status",
    "username": "examplestatus",
}
BOT = {"id": 123456789, "is_bot": True, "first_name": "Status", "username": "example_status_bot"}


def too_many(seconds: int) -> Reply:
    """Telegram's flood control: 429 with the wait in the body only."""
    return Reply(
        429,
        json={
            "ok": False,
            "error_code": 429,
            "description": f"Too Many Requests: retry after {seconds}",
            "parameters": {"retry_after": seconds},
        },
    )


def _failure(code: int, description: str) -> Reply:
    return Reply(code, json={"ok": False, "error_code": code, "description": description})


class FakeTelegram(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict] = []
        self._ids = itertools.count(101)

    def reset_state(self) -> None:
        self.messages.clear()
        self._ids = itertools.count(101)

    def route(self, request: Recorded) -> Reply:
        prefix = f"/bot{TOKEN}/"
        if not request.path.startswith(prefix):
            return _failure(401, "Unauthorized")
        method = request.path[len(prefix) :]
        doc = request.json or {}
        if method == "getMe":
            return Reply(json={"ok": True, "result": BOT})
        chat = doc.get("chat_id")
        if chat not in (CHAT["id"], str(CHAT["id"]), "@" + CHAT["username"]):
            return _failure(400, "Bad Request: chat not found")
        if method == "getChat":
            return Reply(json={"ok": True, "result": CHAT})
        if method != "sendMessage":
            return _failure(404, "Not Found")
        text = doc.get("text") or ""
        if not text.strip():
            return _failure(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return _failure(400, "Bad Request: message is too long")
        reply = doc.get("reply_parameters") or {}
        with self.lock:
            known = {m["message_id"] for m in self.messages}
            if reply and reply.get("message_id") not in known:
                if not reply.get("allow_sending_without_reply"):
                    return _failure(400, "Bad Request: message to be replied not found")
                reply = {}
            message = {
                "message_id": next(self._ids),
                "sender_chat": CHAT,
                "chat": CHAT,
                "date": int(time.time()),
                "text": text,
                "link_preview_options": doc.get("link_preview_options"),
            }
            if reply:
                message["reply_to_message"] = next(
                    m for m in self.messages if m["message_id"] == reply["message_id"]
                )
            self.messages.append(message)
        return Reply(json={"ok": True, "result": message})
