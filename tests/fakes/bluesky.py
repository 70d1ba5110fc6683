"""A Bluesky PDS with its AppView, as much of XRPC as posting and listening need:
``com.atproto.server.createSession``, ``com.atproto.repo.createRecord``
and ``getRecord``, ``app.bsky.notification.listNotifications`` (newest first, filtered by
``reasons``, its cursor the ``indexedAt`` of the last one given) and
``app.bsky.feed.getPosts``. Customers' posts are made with ``customer_post``. It checks
what the network would refuse or show wrongly: more than 300 graphemes, link facets
whose byte offsets do not cover their link, reply refs whose URI or CID name no post, a
record key used twice, a missing or wrong access token. ``end_sessions`` ends every access
token given so far, as a revocation (401 ``InvalidToken``) or an expiry the client did not
see coming (400 ``ExpiredToken``, as the PDS answers it)."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid

import regex

from tests.fakes.server import FakeServer, Recorded, Reply

HANDLE = "status.example.com"
PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:statusexample000000000000"
POST = "app.bsky.feed.post"
CREATE = "/xrpc/com.atproto.repo.createRecord"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _jwt(scope: str, lifetime: int) -> str:
    now = int(time.time())
    # Each token its own (as the PDS makes them): two logins in one second differ.
    jti = uuid.uuid4().hex
    payload = {"scope": scope, "sub": DID, "iat": now, "exp": now + lifetime, "jti": jti}
    return f"{_b64({'alg': 'ES256K', 'typ': 'JWT'})}.{_b64(payload)}.c2lnbmF0dXJl"


def cid_of(record: dict) -> str:
    """A CIDv1 (dag-cbor, sha-256) over the record, in base32 as the network writes it."""
    digest = hashlib.sha256(json.dumps(record, sort_keys=True).encode()).digest()
    return "b" + base64.b32encode(b"\x01\x71\x12\x20" + digest).decode().lower().rstrip("=")


def _now(offset_ms: int = 0) -> str:
    """An ISO time as the network writes it; ``offset_ms`` keeps notifications apart."""
    at = time.time() + offset_ms / 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at)) + f".{int(at * 1000) % 1000:03d}Z"


def _error(status: int, error: str, message: str) -> Reply:
    return Reply(status, json={"error": error, "message": message})


class FakeBluesky(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, dict] = {}  # uri -> {"uri", "cid", "value"}
        self.posts: list[dict] = []  # in the order they were made
        self.tokens: set[str] = set()
        self.ended: dict[str, str] = {}  # access token -> the error it now gets
        self.logins = 0
        self.notifications: list[dict] = []  # oldest first
        self._guard = threading.Lock()

    def reset_state(self) -> None:
        self.records.clear()
        self.posts.clear()
        self.tokens.clear()
        self.ended.clear()
        self.logins = 0
        self.notifications.clear()

    def end_sessions(self, error: str) -> None:
        """Every access token given so far stops working with ``error``."""
        with self._guard:
            self.ended.update(dict.fromkeys(self.tokens, error))
            self.tokens.clear()

    def customer_post(self, handle: str, text: str, reply_to: str | None = None) -> dict:
        """A post by someone else: a mention of our account, or a reply to ``reply_to``
        (a post's URI), which notifies its author when that is us."""
        did = f"did:plc:{hashlib.sha256(handle.encode()).hexdigest()[:24]}"
        record: dict = {"$type": POST, "text": text, "createdAt": _now()}
        reason = "mention"
        if reply_to is not None:
            parent = self.records[reply_to]
            root = (parent["value"].get("reply") or {}).get("root") or {
                "uri": parent["uri"],
                "cid": parent["cid"],
            }
            record["reply"] = {"root": root, "parent": {"uri": parent["uri"], "cid": parent["cid"]}}
            reason = "reply"
        with self._guard:
            rkey = f"3l{len(self.records):011d}"
            uri = f"at://{did}/{POST}/{rkey}"
            made = {"uri": uri, "cid": cid_of(record), "value": record}
            self.records[uri] = made
            author = {"did": did, "handle": handle, "displayName": handle.split(".")[0].title()}
            made["author"] = author
            self.notifications.append(
                {
                    "uri": uri,
                    "cid": made["cid"],
                    "author": author,
                    "reason": reason,
                    "record": record,
                    "isRead": False,
                    "indexedAt": _now(len(self.notifications)),
                }
            )
        return made

    def route(self, request: Recorded) -> Reply:
        method = request.path.removeprefix("/xrpc/")
        if method == "com.atproto.server.createSession":
            doc = request.json or {}
            if (doc.get("identifier"), doc.get("password")) != (HANDLE, PASSWORD):
                return _error(401, "AuthenticationRequired", "Invalid identifier or password")
            access = _jwt("com.atproto.appPass", 7200)
            with self._guard:
                self.tokens.add(access)
                self.logins += 1
            return Reply(
                json={
                    "did": DID,
                    "handle": HANDLE,
                    "accessJwt": access,
                    "refreshJwt": _jwt("com.atproto.refresh", 86400),
                    "active": True,
                }
            )
        token = (request.header("Authorization") or "").removeprefix("Bearer ")
        if self.ended.get(token) == "ExpiredToken":
            return _error(400, "ExpiredToken", "Token has expired")
        if token not in self.tokens:
            return _error(401, "InvalidToken", "Token could not be verified")
        if method == "com.atproto.repo.getRecord":
            repo, rkey = request.query.get("repo", [""])[0], request.query.get("rkey", [""])[0]
            uri = f"at://{repo}/{request.query.get('collection', [''])[0]}/{rkey}"
            found = self.records.get(uri)
            if found is None:
                return _error(400, "RecordNotFound", f"Could not locate record: {uri}")
            return Reply(json=found)
        if method == "com.atproto.repo.createRecord":
            return self._create(request.json or {})
        if method == "app.bsky.notification.listNotifications":
            return self._notifications(request)
        if method == "app.bsky.feed.getPosts":
            posts = [
                {
                    "uri": r["uri"],
                    "cid": r["cid"],
                    "author": r.get("author") or {"did": DID, "handle": HANDLE},
                    "record": r["value"],
                    "indexedAt": r["value"].get("createdAt"),
                }
                for uri in request.query.get("uris", [])
                if (r := self.records.get(uri)) is not None
            ]
            return Reply(json={"posts": posts})
        return _error(501, "MethodNotImplemented", f"Method Not Implemented: {method}")

    def _notifications(self, request: Recorded) -> Reply:
        reasons = set(request.query.get("reasons", []))
        limit = int(request.query.get("limit", ["50"])[0])
        cursor = request.query.get("cursor", [None])[0]
        with self._guard:
            newest_first = [
                n
                for n in reversed(self.notifications)
                if (not reasons or n["reason"] in reasons)
                and (cursor is None or n["indexedAt"] < cursor)
            ]
        page = newest_first[:limit]
        answer: dict = {"notifications": page}
        if len(page) == limit:
            answer["cursor"] = page[-1]["indexedAt"]
        return Reply(json=answer)

    def _create(self, doc: dict) -> Reply:
        record, rkey = doc.get("record") or {}, doc.get("rkey")
        if doc.get("repo") != DID or doc.get("collection") != POST or not rkey:
            return _error(400, "InvalidRequest", "repo, collection and rkey are required here")
        text = record.get("text") or ""
        if len(regex.findall(r"\X", text)) > 300:
            return _error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: text too long")
        raw = text.encode()
        for facet in record.get("facets") or []:
            index = facet["index"]
            shown = raw[index["byteStart"] : index["byteEnd"]].decode(errors="replace")
            links = [f["uri"] for f in facet["features"] if f["$type"].endswith("#link")]
            if links != [shown]:
                return _error(400, "InvalidRequest", f"facet covers {shown!r}, not {links}")
        reply = record.get("reply")
        with self._guard:
            if reply:
                for ref in ("root", "parent"):
                    target = self.records.get(reply[ref]["uri"])
                    if target is None or target["cid"] != reply[ref]["cid"]:
                        return _error(400, "InvalidRequest", f"reply {ref} names no post")
            uri = f"at://{DID}/{POST}/{rkey}"
            if uri in self.records:
                return _error(400, "InvalidRequest", f"Record already exists: {uri}")
            made = {"uri": uri, "cid": cid_of(record), "value": record}
            self.records[uri] = made
            self.posts.append(made)
        return Reply(json={"uri": uri, "cid": made["cid"], "validationStatus": "valid"})
