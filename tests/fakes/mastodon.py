"""Mastodon, as much as posting needs: ``POST /api/v1/statuses`` (honouring
``Idempotency-Key`` like the real server), ``GET /api/v1/instance``,
``GET /api/v2/instance`` and ``GET /api/v1/accounts/verify_credentials``."""

from __future__ import annotations

import itertools
import re

from tests.fakes.server import FakeServer, Recorded, Reply

TOKEN = "mastodon-test-token"
_LINK = re.compile(r"https?://\S+")


def counted(text: str) -> int:
    """Mastodon's count: every link weighs 23 characters, whatever its length."""
    return len(_LINK.sub("x" * 23, text))


MAX_CHARACTERS = 500


class FakeMastodon(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[dict] = []
        self.by_key: dict[str, dict] = {}
        self.max_characters = MAX_CHARACTERS
        self._ids = itertools.count(111000000000000001)

    def reset_state(self) -> None:
        self.statuses.clear()
        self.by_key.clear()
        self.max_characters = MAX_CHARACTERS

    def _instance(self, v2: bool) -> dict:
        config = {
            "statuses": {"max_characters": self.max_characters, "characters_reserved_per_url": 23}
        }
        doc = {"version": "4.3.0", "title": "Fake", "configuration": config}
        if v2:
            doc.update({"domain": "127.0.0.1", "api_versions": {"mastodon": 2}})
        else:
            doc["uri"] = "127.0.0.1"
        return doc

    def route(self, request: Recorded) -> Reply:
        if request.path in ("/api/v1/instance", "/api/v1/instance/"):
            return Reply(json=self._instance(v2=False))
        if request.path in ("/api/v2/instance", "/api/v2/instance/"):
            return Reply(json=self._instance(v2=True))
        if request.header("Authorization") != f"Bearer {TOKEN}":
            return Reply(401, json={"error": "The access token is invalid"})
        if request.path == "/api/v1/accounts/verify_credentials":
            return Reply(json={"id": "1", "username": "status", "acct": "status"})
        if request.method == "POST" and request.path == "/api/v1/statuses":
            content_type = request.header("Content-Type") or ""
            if "json" in content_type:
                form = request.json or {}
            else:
                form = {k: v[0] for k, v in request.form.items()}
            key = request.header("Idempotency-Key")
            with self.lock:
                if key and key in self.by_key:
                    return Reply(json=self.by_key[key])
                if counted(form.get("status", "")) > self.max_characters:
                    limit = self.max_characters
                    error = f"Validation failed: Text character limit of {limit} exceeded"
                    return Reply(422, json={"error": error})
                status_id = str(next(self._ids))
                status = {
                    "id": status_id,
                    "url": f"{self.url}/@status/{status_id}",
                    "content": form.get("status", ""),
                    "in_reply_to_id": form.get("in_reply_to_id"),
                    "visibility": form.get("visibility", "public"),
                    "language": form.get("language"),
                }
                self.statuses.append(status)
                if key:
                    self.by_key[key] = status
            return Reply(json=status)
        return Reply(404, json={"error": "Record not found"})
