"""Roles on every admin view, the per-address login throttle, secure cookies."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from statuspage import accounts
from statuspage.config import load_config
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import LoginAttempt, User
from tests.signin import csrf_token, login

RESPONDER_PAGES = ["/admin/incidents/new", "/admin/maintenance", "/admin/templates"]
ADMIN_PAGES = ["/admin/users", "/admin/components", "/admin/audit", "/admin/settings"]


def test_every_admin_page_needs_a_login(client, cast):
    for path in ["/admin/", *RESPONDER_PAGES, *ADMIN_PAGES]:
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "email, allowed",
    [
        ("vera@example.com", {"/admin/"}),
        ("rob@example.com", {"/admin/", *RESPONDER_PAGES}),
        ("alice@example.com", {"/admin/", *RESPONDER_PAGES, *ADMIN_PAGES}),
    ],
)
def test_roles_decide_what_each_operator_sees(client, cast, email, allowed):
    assert login(client, email).status_code == 302
    for path in ["/admin/", *RESPONDER_PAGES, *ADMIN_PAGES]:
        assert client.get(path).status_code == (200 if path in allowed else 403), path


def test_a_responder_cannot_manage_users(client, cast):
    login(client, "rob@example.com")
    token = csrf_token(client, "/admin/incidents/new")
    users = db.session.scalar(select(func.count()).select_from(User))
    response = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "email": "new@example.com",
            "role": "admin",
            "password": "long enough password",
        },
    )
    assert response.status_code == 403
    response = client.post(
        f"/admin/users/{cast['responder'].id}/role", data={"csrf_token": token, "role": "admin"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.get(User, cast["responder"].id).role == "responder"


def test_login_is_throttled_per_address(app, cast):
    at = now()
    db.session.add_all(
        LoginAttempt(email=f"guess{i}@example.com", ip="192.0.2.7", created_at=at)
        for i in range(accounts.MAX_FAILURES_PER_IP)
    )
    db.session.commit()
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("alice@example.com", "correct horse battery", "192.0.2.7")
    assert accounts.authenticate("alice@example.com", "correct horse battery", "192.0.2.8")


def test_session_cookies_are_hardened(client, cast):
    response = login(client, "rob@example.com")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app = client.application
    assert app.config["SESSION_COOKIE_SECURE"] is False  # http://status.test in tests
    os.environ["STATUSPAGE_BASE_URL"] = "https://status.example.com"
    try:
        assert load_config()["SESSION_COOKIE_SECURE"] is True
    finally:
        os.environ["STATUSPAGE_BASE_URL"] = "http://status.test"
