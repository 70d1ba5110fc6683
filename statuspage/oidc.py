"""Sign-in through an OpenID Connect provider (authorization code flow with PKCE).

Off unless ``STATUSPAGE_OIDC_ISSUER`` is set. Authlib reads the provider's discovery
document, checks the ID token's signature against its JWKS, the issuer, audience, expiry
and nonce. The provider only vouches for an email address: it must be verified, within
the allowed domains if any are set, and belong to an existing active operator, whose
role and second factor apply as with a password. Like the SMTP server, the provider is
configured by the operator, so its requests do not pass the private-address guard.
"""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import current_app
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError

from statuspage import accounts
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import LoginAttempt, User
from statuspage.models.audit import record

_EXTENSION = "statuspage.oidc"


class SignInRefused(Exception):
    """The provider's answer does not sign anyone in; the message is safe to show."""


def enabled() -> bool:
    return bool(current_app.config.get("OIDC_ISSUER"))


def _client() -> Any:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get(_EXTENSION)
    if client is None:
        issuer = app.config["OIDC_ISSUER"].rstrip("/")
        client = OAuth(app).register(
            "oidc",
            client_id=app.config["OIDC_CLIENT_ID"],
            client_secret=app.config["OIDC_CLIENT_SECRET"],
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
        )
        app.extensions[_EXTENSION] = client
    return client


def authorize_redirect(callback_url: str) -> ResponseReturnValue:
    return _client().authorize_redirect(callback_url)


def user_from_callback(ip: str) -> User:
    """The operator the provider's answer names, or ``SignInRefused`` saying why not."""
    try:
        token = _client().authorize_access_token()
    except (OAuthError, JoseError, requests.RequestException, ValueError) as exc:
        raise SignInRefused(f"The sign-in provider's answer was not accepted ({exc}).") from None
    claims = token.get("userinfo") or {}
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is not True:
        raise SignInRefused("The sign-in provider did not vouch for a verified email address.")
    domains = current_app.config["OIDC_ALLOWED_DOMAINS"]
    if domains and email.rsplit("@", 1)[-1] not in domains:
        raise SignInRefused(f"{email} is not in a domain allowed to sign in here.")
    user = accounts.find_user(email)
    if user is None or not user.is_active:
        raise SignInRefused(f"There is no active operator account for {email}.")
    if not user.has_second_factor:
        at = now()
        user.last_login_at = at
        db.session.add(LoginAttempt(email=email, ip=ip[:64], succeeded=True, created_at=at))
        record(user, "user.login", "user", str(user.id), None, {"via": "oidc"})
        db.session.commit()
    return user
