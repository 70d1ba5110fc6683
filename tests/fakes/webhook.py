"""A webhook receiver that checks ``X-Statuspage-Signature`` the way integrators are told
to, and records whether each request was authentic."""

from __future__ import annotations

from statuspage.lib.crypto import verify_webhook_signature
from tests.fakes.server import FakeServer, Recorded, Reply


class FakeReceiver(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, str] = {}  # path -> secret the receiver was configured with
        self.verified: list[tuple[str, bool]] = []

    def reset_state(self) -> None:
        self.secrets.clear()
        self.verified.clear()

    def events(self, path: str | None = None) -> list[dict]:
        return [r.json for r in self.received("POST", path)]

    def route(self, request: Recorded) -> Reply:
        secret = self.secrets.get(request.path)
        header = request.header("X-Statuspage-Signature") or ""
        doc = request.json or {}
        if secret is None and doc.get("type") == "subscription.confirm":
            secret = self.secrets[request.path] = doc["secret"]  # learn it from the handshake
        ok = secret is not None and verify_webhook_signature(secret, header, request.body)
        with self.lock:
            self.verified.append((request.path, ok))
        return Reply(204) if ok else Reply(401, json={"error": "bad signature"})
