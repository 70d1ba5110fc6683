"""Signing in through an OpenID Connect provider (a real one on loopback), with a real
HTTP client following the redirects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from joserfc.jwk import RSAKey

from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeProvider
from tests.live import live_server


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider().start()
    yield fake
    fake.stop()


@pytest.fixture
def base(app, cast, provider) -> Iterator[str]:
    with live_server(app) as url:
        app.config.update(
            BASE_URL=url,
            OIDC_ISSUER=provider.url,
            OIDC_CLIENT_ID=CLIENT_ID,
            OIDC_CLIENT_SECRET=CLIENT_SECRET,
            OIDC_ALLOWED_DOMAINS=["example.com"],
        )
        yield url


def sign_in_with_provider(base: str) -> tuple[requests.Session, requests.Response]:
    http = requests.Session()
    assert "Sign in with" in http.get(f"{base}/admin/login").text
    return http, http.get(f"{base}/admin/login/oidc")


def test_a_verified_address_of_an_operator_signs_in(base, provider):
    http, answer = sign_in_with_provider(base)
    assert answer.url == f"{base}/admin/"
    assert "rob@example.com" in answer.text and "Log out" in answer.text
    token_requests = provider.received("POST", "/token")
    assert len(token_requests) == 1 and token_requests[0].form["code_verifier"]


@pytest.mark.parametrize(
    "change, refusal",
    [
        ({"email": "stranger@example.com"}, "no active operator account"),
        ({"email": "olga@example.com"}, "no active operator account"),  # deactivated
        ({"email": "rob@example.org"}, "not in a domain allowed"),
        ({"email_verified": False}, "verified email address"),
        ({"signing_key": RSAKey.generate_key(2048, parameters={"kid": "k1"})}, "not accepted"),
    ],
)
def test_the_provider_cannot_sign_in_anyone_else(base, provider, change, refusal):
    for name, value in change.items():
        setattr(provider, name, value)
    http, answer = sign_in_with_provider(base)
    assert answer.status_code == 403
    assert refusal in answer.text
    assert http.get(f"{base}/admin/", allow_redirects=False).status_code == 302


def test_a_callback_without_the_state_it_sent_is_refused(base, provider):
    http = requests.Session()
    answer = http.get(f"{base}/admin/login/oidc/callback?code=forged&state=forged")
    assert answer.status_code == 403
    assert provider.received("POST", "/token") == []
