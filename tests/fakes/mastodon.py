"""Mastodon, as much as posting and listening need: ``POST /api/v1/statuses``
(honouring ``Idempotency-Key`` like the real server), ``GET /api/v1/instance``,
``GET /api/v2/instance``, ``GET /api/v1/accounts/verify_credentials``, and
``GET /api/v1/notifications`` and ``GET /api/v1/timelines/tag/:tag`` with Mastodon's
paging (``since_id``, ``max_id``, ``min_id``, ``limit`` and ``Link`` headers)."""

from __future__ import annotations

import html
import itertools
import re
import zlib
from datetime import UTC, datetime

from tests.fakes.server import FakeServer, Recorded, Reply

TOKEN = "mastodon-test-token"
_LINK = re.compile(r"https?://\S+")


def counted(text: str) -> int:
    """Mastodon's count: every link weighs 23 characters, whatever its length."""
    return len(_LINK.sub("x" * 23, text))


MAX_CHARACTERS = 500
OWN_ACCOUNT = {"id": "1", "username": "status", "acct": "status", "display_name": "Status"}


class FakeMastodon(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.statuses: list[dict] = []
        self.by_key: dict[str, dict] = {}
        self.max_characters = MAX_CHARACTERS
        self.public: list[dict] = []  # customers' statuses, for hashtag timelines
        self.notifications: list[dict] = []
        self.status_link: str | None = None  # answer posts with this "url", whatever it is
        self._ids = itertools.count(111000000000000001)
        self._notification_ids = itertools.count(9001)

    def reset_state(self) -> None:
        self.statuses.clear()
        self.by_key.clear()
        self.public.clear()
        self.notifications.clear()
        self.max_characters = MAX_CHARACTERS
        self.status_link = None

    def customer_post(
        self,
        acct: str,
        text: str,
        *,
        mention: bool = True,
        tags: tuple[str, ...] = (),
        visibility: str = "public",
    ) -> dict:
        """A customer's status as Mastodon renders it (HTML content); with ``mention`` it
        names our account and notifies us."""
        with self.lock:
            status_id = str(next(self._ids))
            parts = [html.escape(text)]
            if mention:
                parts.insert(
                    0,
                    f'<span class="h-card"><a href="{self.url}/@status" class="u-url mention">'
                    "@<span>status</span></a></span>",
                )
            parts += [
                f'<a href="{self.url}/tags/{t}" class="mention hashtag">#<span>{t}</span></a>'
                for t in tags
            ]
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            account = {
                "id": str(zlib.crc32(acct.encode())),
                "username": acct.split("@")[0],
                "acct": acct,
                "display_name": acct.split("@")[0].title(),
                "url": f"{self.url}/@{acct}",
            }
            status = {
                "id": status_id,
                "created_at": created,
                "in_reply_to_id": None,
                "visibility": visibility,
                "url": f"{self.url}/@{acct}/{status_id}",
                "uri": f"{self.url}/users/{acct}/statuses/{status_id}",
                "content": "<p>" + " ".join(parts) + "</p>",
                "account": account,
                "tags": [{"name": t.lower()} for t in tags],
            }
            if visibility in ("public", "unlisted"):
                self.public.append(status)
            if mention:
                self.notifications.append(
                    {
                        "id": str(next(self._notification_ids)),
                        "type": "mention",
                        "created_at": created,
                        "account": account,
                        "status": status,
                    }
                )
        return status

    def replies_to(self, status_id: str) -> list[dict]:
        return [s for s in self.statuses if s["in_reply_to_id"] == status_id]

    def _page(self, request: Recorded, rows: list[dict], default: int, most: int) -> Reply:
        """Newest first, between since_id/min_id and max_id; with min_id the page is the
        oldest ``limit`` above it, as Mastodon does. Links name the next and previous page."""
        query = {k: v[0] for k, v in request.query.items()}
        limit = min(int(query.get("limit", default)), most)
        low = int(query.get("min_id") or query.get("since_id") or 0)
        high = int(query.get("max_id") or 10**30)
        chosen = sorted((r for r in rows if low < int(r["id"]) < high), key=lambda r: int(r["id"]))
        chosen = chosen[:limit] if "min_id" in query else chosen[-limit:]
        chosen.reverse()
        headers = {}
        if chosen:
            base = f"{self.url}{request.path}?limit={limit}"
            headers["Link"] = (
                f'<{base}&max_id={chosen[-1]["id"]}>; rel="next", '
                f'<{base}&min_id={chosen[0]["id"]}>; rel="prev"'
            )
        return Reply(json=chosen, headers=headers)

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
            return Reply(json=OWN_ACCOUNT)
        if request.method == "GET" and request.path == "/api/v1/notifications":
            types = set(request.query.get("types[]", []))
            with self.lock:
                rows = [n for n in self.notifications if not types or n["type"] in types]
            return self._page(request, rows, default=40, most=80)
        if request.method == "GET" and request.path.startswith("/api/v1/timelines/tag/"):
            tag = request.path.rsplit("/", 1)[1].lower()
            with self.lock:
                rows = [s for s in self.public if {"name": tag} in s["tags"]]
            return self._page(request, rows, default=20, most=40)
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
                    "url": self.status_link or f"{self.url}/@status/{status_id}",
                    "content": form.get("status", ""),
                    "in_reply_to_id": form.get("in_reply_to_id"),
                    "visibility": form.get("visibility", "public"),
                    "language": form.get("language"),
                    "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "account": OWN_ACCOUNT,
                    "tags": [
                        {"name": t.lower()} for t in re.findall(r"#(\w+)", form.get("status", ""))
                    ],
                }
                self.statuses.append(status)
                if status["visibility"] in ("public", "unlisted"):
                    self.public.append(status)  # our own posts show in hashtag timelines too
                if key:
                    self.by_key[key] = status
            return Reply(json=status)
        return Reply(404, json={"error": "Record not found"})
