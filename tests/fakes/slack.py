"""Slack incoming webhooks: every path under ``/services/`` is one (a channel's, or a
subscriber's own); each accepts ``{"text", "blocks"}`` JSON and answers ``ok``."""

from __future__ import annotations

from tests.fakes.server import FakeServer, Recorded, Reply

HOOK_PATH = "/services/T0000/B0000/XXXXXXXXXXXXXXXX"


class FakeSlack(FakeServer):
    @property
    def hook_url(self) -> str:
        return self.url + HOOK_PATH

    def messages(self, path: str = HOOK_PATH) -> list[dict]:
        return [r.json for r in self.received("POST", path)]

    def route(self, request: Recorded) -> Reply:
        if not request.path.startswith("/services/"):
            return Reply(404, body=b"no_service", headers={"Content-Type": "text/plain"})
        doc = request.json
        if not isinstance(doc, dict) or not (doc.get("text") or doc.get("blocks")):
            return Reply(400, body=b"no_text", headers={"Content-Type": "text/plain"})
        return Reply(body=b"ok", headers={"Content-Type": "text/plain"})
