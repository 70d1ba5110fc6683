"""Secrets at rest, signed links and webhook signatures.

Channel credentials and webhook secrets are encrypted with Fernet under a key derived from
``SECRET_KEY`` (HKDF, so the raw key is never used twice). Links mailed to subscribers are
signed instead of stored: the database then holds nothing that grants access by itself.

To change the secret key, the old one moves to ``SECRET_KEY_FALLBACKS``: everything sealed
or signed under it still opens, everything new uses the current key, and ``statuspage
rotate-secrets`` re-encrypts what is stored so the fallback can then be dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SIGNATURE_HEADER = "X-Statuspage-Signature"


class SecretError(Exception):
    """Stored secrets cannot be read: the secret key changed or the value was tampered with."""


class LinkError(Exception):
    """A signed link is invalid or has expired."""


def _keys() -> list[str]:
    """The current secret key first, then the retired ones still accepted."""
    return [current_app.config["SECRET_KEY"], *current_app.config.get("SECRET_KEY_FALLBACKS", ())]


@lru_cache(maxsize=8)  # a webhook batch opens thousands of secrets under the same keys
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"statuspage secrets at rest"
    ).derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _sealer() -> MultiFernet:
    """Encrypts under the current key, decrypts under any accepted one."""
    return MultiFernet([_fernet(key) for key in _keys()])


def encrypt_json(values: dict[str, Any]) -> str:
    return _sealer().encrypt(json.dumps(values).encode()).decode()


def decrypt_json(token: str | None) -> dict[str, Any]:
    if not token:
        return {}
    try:
        plain = _sealer().decrypt(token.encode())
    except InvalidToken:
        raise SecretError(
            "stored secrets cannot be decrypted with the current secret key"
        ) from None
    return json.loads(plain)


def reencrypt(token: str) -> str:
    """The same secret sealed under the current key; SecretError when no key opens it."""
    try:
        return _sealer().rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretError("no accepted secret key decrypts this value") from None


def new_secret(prefix: str = "whsec_") -> str:
    return prefix + secrets.token_urlsafe(32)


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # itsdangerous signs with the last key of the list and accepts any of them.
    return URLSafeTimedSerializer(list(reversed(_keys())), salt=f"statuspage.{purpose}")


def sign_link(purpose: str, payload: list[Any]) -> str:
    return _serializer(purpose).dumps(payload)


def sign_links(purpose: str, payloads: Iterable[list[Any]]) -> Iterator[str]:
    """``sign_link`` for each payload, with one serializer and signer for them all: a
    mailing signs a link per recipient, and building them per link costs twice the
    signing itself."""
    serializer = _serializer(purpose)
    signer = serializer.make_signer()
    for payload in payloads:
        yield signer.sign(serializer.dump_payload(payload)).decode()


def read_link(purpose: str, token: str, max_age: int | None = None) -> list[Any]:
    try:
        value = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError("this link has expired") from None
    except BadSignature:
        raise LinkError("this link is not valid") from None
    if not isinstance(value, list):
        raise LinkError("this link is not valid")
    return value


def webhook_signature(secret: str, timestamp: int, body: bytes) -> str:
    """``t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>``: binding the time stops
    receivers from accepting a captured request replayed later."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify_webhook_signature(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does; used by tests and documented for integrators."""
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = webhook_signature(secret, timestamp, body).rsplit("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
