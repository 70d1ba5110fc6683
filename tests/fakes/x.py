"""X API v2, as much as posting needs: ``POST /2/tweets`` and ``GET /2/users/me``, with
OAuth 1.0a user-context signatures verified like X does."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from oauthlib.oauth1.rfc5849 import signature

from tests.fakes.server import FakeServer, Recorded, Reply

CONSUMER_KEY, CONSUMER_SECRET = "ck-test", "cs-test-secret"
ACCESS_TOKEN, ACCESS_SECRET = "at-test", "as-test-secret"
KEYS = {
    "api_key": CONSUMER_KEY,
    "api_key_secret": CONSUMER_SECRET,
    "access_token": ACCESS_TOKEN,
    "access_token_secret": ACCESS_SECRET,
}


class FakeX(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.tweets: list[dict] = []
        self._ids = itertools.count(1790000000000000001)

    def reset_state(self) -> None:
        self.tweets.clear()

    def signed(self, request: Recorded) -> bool:
        header = request.header("Authorization") or ""
        if not header.startswith("OAuth "):
            return False
        params = signature.collect_parameters(
            uri_query="&".join(f"{k}={v[0]}" for k, v in request.query.items()),
            headers={"Authorization": header},
            exclude_oauth_signature=True,
        )
        given = dict(
            signature.collect_parameters(
                headers={"Authorization": header}, exclude_oauth_signature=False
            )
        )
        if (
            given.get("oauth_consumer_key") != CONSUMER_KEY
            or given.get("oauth_token") != ACCESS_TOKEN
        ):
            return False
        base = signature.signature_base_string(
            request.method,
            signature.base_string_uri(f"http://{request.header('Host')}{request.path}"),
            signature.normalize_parameters(params),
        )
        keys = SimpleNamespace(client_secret=CONSUMER_SECRET, resource_owner_secret=ACCESS_SECRET)
        expected = signature.sign_hmac_sha1_with_client(base, keys)
        return given.get("oauth_signature") == expected

    def route(self, request: Recorded) -> Reply:
        if not self.signed(request):
            return Reply(
                401, json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"}
            )
        if request.method == "GET" and request.path == "/2/users/me":
            return Reply(json={"data": {"id": "42", "name": "Status", "username": "examplestatus"}})
        if request.method == "POST" and request.path == "/2/tweets":
            body = request.json or {}
            text = body.get("text", "")
            tweet = {"id": str(next(self._ids)), "text": text}
            reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            with self.lock:
                self.tweets.append({**tweet, "in_reply_to": reply_to})
            return Reply(
                201,
                json={
                    "data": {
                        "id": tweet["id"],
                        "text": text,
                        "edit_history_tweet_ids": [tweet["id"]],
                    }
                },
            )
        return Reply(404, json={"title": "Not Found Error", "status": 404})
