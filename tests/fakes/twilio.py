"""Twilio's REST API (2010-04-01), as much as texting subscribers needs: creating a
Message (form-encoded, Basic auth with the Account SID and auth token) and fetching the
Account, answering with Twilio's JSON and its error documents (``code``, ``message``,
``more_info``, ``status``). Numbers that texted STOP to the carrier are refused with
21610, as Twilio does. Also signs inbound webhooks as Twilio does, with the library's
own validator."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from twilio.request_validator import RequestValidator

from tests.fakes.server import FakeServer, Recorded, Reply

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
SENDER = "+15005550006"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
ACCOUNT = f"/2010-04-01/Accounts/{ACCOUNT_SID}.json"


def error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status,
        headers=headers or {},
        json={
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
    )


def too_many(seconds: int) -> Reply:
    return error(429, 20429, "Too Many Requests", {"Retry-After": str(seconds)})


def signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature of an inbound webhook Twilio sends to ``url``."""
    return RequestValidator(token).compute_signature(url, params)


class FakeTwilio(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self.stopped: set[str] = set()  # numbers the carrier blocks after a STOP
        self._ids = itertools.count(1)

    def reset_state(self) -> None:
        self.messages.clear()
        self.stopped.clear()
        self._ids = itertools.count(1)

    def route(self, request: Recorded) -> Reply:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.header("Authorization") != f"Basic {expected}":
            return error(401, 20003, "Authenticate")
        if request.method == "GET" and request.path == ACCOUNT:
            return Reply(
                json={"sid": ACCOUNT_SID, "friendly_name": "Example Ops", "status": "active"}
            )
        if request.method != "POST" or request.path != MESSAGES:
            return error(404, 20404, "The requested resource was not found")
        form = {k: v[0] for k, v in request.form.items()}
        to, body = form.get("To", ""), form.get("Body", "")
        if not to.startswith("+") or not to[1:].isdigit():
            return error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if form.get("From") != SENDER and not form.get("MessagingServiceSid", "").startswith("MG"):
            return error(400, 21606, "The 'From' phone number provided is not a valid sender.")
        if not body or len(body) > 1600:
            return error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in self.stopped:
            return error(400, 21610, "Attempt to send to unsubscribed recipient")
        with self.lock:
            sid = f"SM{next(self._ids):032x}"
            message = {
                "sid": sid,
                "account_sid": ACCOUNT_SID,
                "to": to,
                "from": form.get("From"),
                "messaging_service_sid": form.get("MessagingServiceSid"),
                "body": body,
                "status": "queued",
                "num_segments": "1",
                "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            }
            self.messages.append(message)
        return Reply(201, json=message)
