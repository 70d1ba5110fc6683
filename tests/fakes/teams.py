"""A Teams Workflows trigger ("Post to a channel when a webhook request is received"):
takes a ``message`` whose attachments are Adaptive Cards and answers 202 with no body,
as Power Automate does; anything else (an Office 365 connector card) is a 400."""

from __future__ import annotations

from tests.fakes.server import FakeServer, Recorded, Reply

FLOW_PATH = "/workflows/0f1e2d3c/triggers/manual/paths/invoke"
FLOW_QUERY = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETSIGNATURE"
CARD = "application/vnd.microsoft.card.adaptive"


class FakeTeams(FakeServer):
    @property
    def flow_url(self) -> str:
        return f"{self.url}{FLOW_PATH}?{FLOW_QUERY}"

    def cards(self) -> list[dict]:
        """The Adaptive Cards accepted, in order."""
        return [
            a["content"]
            for r in self.received("POST", FLOW_PATH)
            if self._valid(r) is None
            for a in r.json["attachments"]
        ]

    @staticmethod
    def _valid(request: Recorded) -> str | None:
        if "sig=SECRETSIGNATURE" not in request.raw_query:
            return "missing signature"
        doc = request.json
        if not isinstance(doc, dict) or doc.get("type") != "message":
            return "the body is not a message"
        attachments = doc.get("attachments")
        if not attachments or any(a.get("contentType") != CARD for a in attachments):
            return "attachments must be Adaptive Cards"
        for attachment in attachments:
            content = attachment.get("content") or {}
            if content.get("type") != "AdaptiveCard" or not content.get("body"):
                return "an Adaptive Card needs a type and a body"
        return None

    def route(self, request: Recorded) -> Reply:
        if request.path != FLOW_PATH:
            return Reply(404, json={"error": {"code": "TriggerNotFound"}})
        problem = self._valid(request)
        if problem is not None:
            return Reply(400, json={"error": {"code": "InvalidRequestContent", "message": problem}})
        return Reply(202, headers={"Content-Type": "text/plain"})
