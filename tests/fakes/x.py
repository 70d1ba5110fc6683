"""X API v2, as much as posting and listening need: ``POST /2/tweets``,
``GET /2/users/me``, ``GET /2/users/:id/mentions``, ``GET /2/tweets/search/recent`` and the
account's own posts, ``GET /2/users/:id/tweets`` (with ``since_id``, ``until_id``,
``start_time``, ``max_results`` and token paging), with OAuth 1.0a user-context signatures
verified like X does. Like X, the timeline of the account's own posts gives links as t.co
with their ``entities``, and the post each one replies to in ``referenced_tweets``."""

from __future__ import annotations

import hashlib
import itertools
import re
import zlib
from datetime import UTC, datetime
from types import SimpleNamespace

from oauthlib.oauth1.rfc5849 import signature

from tests.fakes.server import FakeServer, Recorded, Reply

CONSUMER_KEY, CONSUMER_SECRET = "ck-test", "cs-test-secret"
ACCESS_TOKEN, ACCESS_SECRET = "at-test", "as-test-secret"
ACCOUNT_ID, ACCOUNT = "42", "examplestatus"
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
        self.incoming: list[dict] = []  # customers' posts: mentions and search results
        self._ids = itertools.count(1790000000000000001)

    def reset_state(self) -> None:
        self.tweets.clear()
        self.incoming.clear()

    def customer_post(
        self, username: str, text: str, *, mention: bool = True, at: datetime | None = None
    ) -> dict:
        """A customer's post; with ``mention`` it names our account and is in its mentions."""
        with self.lock:
            tweet_id = str(next(self._ids))
            post = {
                "id": tweet_id,
                "text": f"@{ACCOUNT} {text}" if mention else text,
                "author_id": str(zlib.crc32(username.encode())),
                "username": username,
                "created_at": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "conversation_id": tweet_id,
                "mention": mention,
            }
            self.incoming.append(post)
        return post

    def replies_to(self, tweet_id: str) -> list[dict]:
        return [t for t in self.tweets if t["in_reply_to"] == tweet_id]

    def _timeline(
        self,
        request: Recorded,
        posts: list[dict],
        token_name: str,
        least: int,
        *,
        shorten_links: bool = False,
    ) -> Reply:
        """One page, newest first, as X pages: ids strictly between since_id and until_id,
        made at ``start_time`` or later, ``max_results`` at a time, an opaque token for the
        next page."""
        query = {k: v[0] for k, v in request.query.items()}
        size = int(query.get("max_results", 10))
        if not least <= size <= 100:
            return Reply(400, json={"title": "Invalid Request", "detail": "max_results"})
        since, until = int(query.get("since_id", 0)), int(query.get("until_id", 10**30))
        start = query.get("start_time", "").replace("Z", ".000Z")
        chosen = sorted(
            (p for p in posts if since < int(p["id"]) < until and p["created_at"] >= start),
            key=lambda p: int(p["id"]),
            reverse=True,
        )
        offset = int(query.get(token_name, "page-0").removeprefix("page-"))
        page = chosen[offset : offset + size]
        fields = set((query.get("tweet.fields") or "").split(","))
        meta: dict = {"result_count": len(page)}
        if not page:
            return Reply(json={"meta": meta})
        meta.update(newest_id=page[0]["id"], oldest_id=page[-1]["id"])
        if offset + size < len(chosen):
            meta["next_token"] = f"page-{offset + size}"
        data = [self._post(p, fields, shorten_links) for p in page]
        body: dict = {"data": data, "meta": meta}
        if "author_id" in (query.get("expansions") or ""):
            users = {p["author_id"]: p["username"] for p in page}
            body["includes"] = {
                "users": [{"id": i, "username": u, "name": u.title()} for i, u in users.items()]
            }
        return Reply(json=body)

    @staticmethod
    def _post(post: dict, fields: set[str], shorten_links: bool) -> dict:
        text = post["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        doc = {
            "id": post["id"],
            "edit_history_tweet_ids": [post["id"]],
            **{f: post[f] for f in ("created_at", "conversation_id", "author_id") if f in fields},
        }
        if shorten_links:
            links = []
            for url in re.findall(r"https?://\S+", post["text"]):
                short = "https://t.co/" + hashlib.sha256(url.encode()).hexdigest()[:10]
                text = text.replace(url.replace("&", "&amp;"), short, 1)
                links.append({"url": short, "expanded_url": url, "display_url": url[:24]})
            if links and "entities" in fields:
                doc["entities"] = {"urls": links}
        if post.get("in_reply_to") and "referenced_tweets" in fields:
            doc["referenced_tweets"] = [{"type": "replied_to", "id": post["in_reply_to"]}]
        doc["text"] = text
        return doc

    def _matches(self, query: str, text: str) -> bool:
        """Enough of X's search syntax for tests: words and quoted phrases must appear,
        ``-word`` must not; operators such as ``is:retweet`` are ignored."""
        text = text.lower()
        for negate, phrase, word in re.findall(r'(-?)(?:"([^"]+)"|(\S+))', query.lower()):
            term = phrase or word
            if ":" in term and not phrase:
                continue
            if (term in text) == bool(negate):
                return False
        return True

    def signed(self, request: Recorded) -> bool:
        header = request.header("Authorization") or ""
        if not header.startswith("OAuth "):
            return False
        params = signature.collect_parameters(
            uri_query=request.raw_query,
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
            return Reply(json={"data": {"id": ACCOUNT_ID, "name": "Status", "username": ACCOUNT}})
        if request.method == "GET" and request.path == f"/2/users/{ACCOUNT_ID}/mentions":
            with self.lock:
                mentions = [p for p in self.incoming if p["mention"]]
            return self._timeline(request, mentions, "pagination_token", least=5)
        if request.method == "GET" and request.path == f"/2/users/{ACCOUNT_ID}/tweets":
            with self.lock:
                own = list(self.tweets)
            return self._timeline(request, own, "pagination_token", least=5, shorten_links=True)
        if request.method == "GET" and request.path == "/2/tweets/search/recent":
            query = (request.query.get("query") or [""])[0]
            with self.lock:  # our own posts are searchable too, as on X
                posts = self.incoming + self.tweets
                found = [p for p in posts if self._matches(query, p["text"])]
            return self._timeline(request, found, "next_token", least=10)
        if request.method == "POST" and request.path == "/2/tweets":
            body = request.json or {}
            text = body.get("text", "")
            tweet = {"id": str(next(self._ids)), "text": text}
            reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
            ours = {
                "author_id": ACCOUNT_ID,
                "username": ACCOUNT,
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                "conversation_id": tweet["id"],
                "mention": False,
            }
            with self.lock:
                self.tweets.append({**tweet, "in_reply_to": reply_to, **ours})
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
