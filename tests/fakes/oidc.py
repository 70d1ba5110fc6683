"""A loopback OpenID Connect provider: discovery document, JWKS, an authorize endpoint
that signs in whoever the test names, and a token endpoint that checks the client secret
and PKCE and issues an RS256-signed ID token with the nonce it was given."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey

from tests.fakes.server import FakeServer, Recorded, Reply

CLIENT_ID = "statuspage-admin"
CLIENT_SECRET = "provider-client-secret"


class FakeProvider(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.signing_key = self.key  # a test may swap in a key the JWKS does not list
        self.email = "rob@example.com"
        self.email_verified = True
        self.grants: dict[str, dict[str, str]] = {}

    def reset_state(self) -> None:
        self.grants.clear()

    def route(self, request: Recorded) -> Reply:
        if request.path == "/.well-known/openid-configuration":
            return Reply(json=self.discovery())
        if request.path == "/jwks":
            return Reply(json={"keys": [self.key.as_dict(private=False)]})
        if request.path == "/authorize":
            return self.authorize(request)
        if request.path == "/token" and request.method == "POST":
            return self.token(request)
        return Reply(404, json={"error": "not_found"})

    def discovery(self) -> dict:
        return {
            "issuer": self.url,
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }

    def authorize(self, request: Recorded) -> Reply:
        query = {k: v[0] for k, v in request.query.items()}
        if query.get("client_id") != CLIENT_ID or query.get("response_type") != "code":
            return Reply(400, json={"error": "invalid_request"})
        code = secrets.token_urlsafe(16)
        self.grants[code] = {**query, "email": self.email}
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
        return Reply(302, headers={"Location": target})

    def token(self, request: Recorded) -> Reply:
        form = {k: v[0] for k, v in request.form.items()}
        grant = self.grants.pop(form.get("code", ""), None)
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return Reply(400, json={"error": "invalid_grant"})
        if self.client_secret(request, form) != CLIENT_SECRET:
            return Reply(401, json={"error": "invalid_client"})
        verifier = form.get("code_verifier", "").encode()
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if challenge.decode() != grant.get("code_challenge"):
            return Reply(400, json={"error": "invalid_grant", "error_description": "PKCE"})
        at = int(time.time())
        claims = {
            "iss": self.url,
            "sub": "user-" + grant["email"],
            "aud": CLIENT_ID,
            "iat": at,
            "exp": at + 300,
            "nonce": grant.get("nonce"),
            "email": grant["email"],
            "email_verified": self.email_verified,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, self.signing_key)
        return Reply(
            json={
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )

    @staticmethod
    def client_secret(request: Recorded, form: dict[str, str]) -> str | None:
        header = request.header("Authorization") or ""
        if header.startswith("Basic "):
            user, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return secret if user == CLIENT_ID else None
        return form.get("client_secret") if form.get("client_id") == CLIENT_ID else None
