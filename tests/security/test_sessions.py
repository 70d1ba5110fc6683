"""Admin sessions end when they should, tested through a real HTTP client with cookies
against the app served on loopback."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import User, UserSession
from tests.conftest import PASSWORD, ROOT
from tests.live import live_server

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def base(app, cast) -> Iterator[str]:
    with live_server(app) as url:
        yield url


def token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def signed_in(base: str, email: str, password: str = PASSWORD) -> requests.Session:
    http = requests.Session()
    token = token_of(http.get(f"{base}/admin/login").text)
    answer = http.post(
        f"{base}/admin/login",
        data={"csrf_token": token, "email": email, "password": password},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    assert opens_admin(http, base)
    return http


def opens_admin(http: requests.Session, base: str) -> bool:
    answer = http.get(f"{base}/admin/", allow_redirects=False)
    assert answer.status_code in (200, 302)
    return answer.status_code == 200


def post_form(http: requests.Session, base: str, page: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    token = token_of(http.get(base + page).text)
    return http.post(base + action, data={"csrf_token": token, **data}, allow_redirects=False)


def with_cookies_of(http: requests.Session) -> requests.Session:
    """A second client that replays a copy of the cookies, as whoever stole them would."""
    thief = requests.Session()
    thief.cookies.update(http.cookies.get_dict())
    return thief


def test_a_cookie_captured_before_logout_no_longer_opens_the_admin(base):
    http = signed_in(base, "rob@example.com")
    stolen = with_cookies_of(http)
    assert opens_admin(stolen, base)
    post_form(http, base, "/admin/", "/admin/logout")
    assert not opens_admin(http, base)
    assert not opens_admin(stolen, base)


def test_logout_ends_only_the_session_it_is_sent_from(base):
    laptop, phone = signed_in(base, "rob@example.com"), signed_in(base, "rob@example.com")
    post_form(laptop, base, "/admin/", "/admin/logout")
    assert opens_admin(phone, base)


def test_sign_out_everywhere_ends_every_session_of_the_user(base):
    laptop, phone = signed_in(base, "rob@example.com"), signed_in(base, "rob@example.com")
    colleague = signed_in(base, "vera@example.com")
    answer = post_form(laptop, base, "/admin/account", "/admin/account/sign-out-everywhere")
    assert answer.headers["Location"].endswith("/admin/login")
    assert not opens_admin(laptop, base)
    assert not opens_admin(phone, base)
    assert opens_admin(colleague, base)


def test_set_password_on_the_command_line_ends_every_session(app, base):
    http = signed_in(base, "rob@example.com")
    done = subprocess.run(
        [sys.executable, "-m", "statuspage", "set-password", "rob@example.com", "--password-stdin"],
        input=NEW_PASSWORD + "\n",
        env={**app.config["TEST_ENV"], "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert not opens_admin(http, base)
    assert opens_admin(signed_in(base, "rob@example.com", NEW_PASSWORD), base)


def test_changing_ones_password_keeps_this_session_and_ends_the_others(base):
    here, elsewhere = signed_in(base, "rob@example.com"), signed_in(base, "rob@example.com")
    answer = post_form(
        here,
        base,
        "/admin/account",
        "/admin/account/password",
        current_password=PASSWORD,
        password=NEW_PASSWORD,
    )
    assert answer.status_code == 302, answer.text
    assert opens_admin(here, base)
    assert not opens_admin(elsewhere, base)


def test_changing_a_password_needs_the_current_one(base):
    http = signed_in(base, "rob@example.com")
    answer = post_form(
        http,
        base,
        "/admin/account",
        "/admin/account/password",
        current_password="not my password",
        password=NEW_PASSWORD,
    )
    assert answer.status_code == 422
    assert "is not your current password" in answer.text
    db.session.expire_all()
    assert (
        db.session.scalars(db.select(User).filter_by(email="rob@example.com"))
        .one()
        .check_password(PASSWORD)
    )


@pytest.mark.parametrize(
    "action, data",
    [("role", {"role": "viewer"}), ("deactivate", {})],
)
def test_a_role_change_or_deactivation_ends_the_users_sessions(base, cast, action, data):
    rob = signed_in(base, "rob@example.com")
    admin = signed_in(base, "alice@example.com")
    answer = post_form(
        admin, base, "/admin/users", f"/admin/users/{cast['responder'].id}/{action}", **data
    )
    assert answer.status_code == 302, answer.text
    assert not opens_admin(rob, base)
    assert opens_admin(admin, base)


def test_an_idle_session_ends_after_the_idle_timeout(app, base):
    http = signed_in(base, "rob@example.com")
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    db.session.execute(update(UserSession).values(last_seen_at=now() - idle + timedelta(minutes=1)))
    db.session.commit()
    assert opens_admin(http, base)  # still within the timeout; this use renews it
    db.session.execute(update(UserSession).values(last_seen_at=now() - idle - timedelta(seconds=1)))
    db.session.commit()
    assert not opens_admin(http, base)


def test_a_session_ends_after_its_absolute_lifetime_however_busy(app, base):
    http = signed_in(base, "rob@example.com")
    lifetime = timedelta(hours=app.config["SESSION_MAX_HOURS"])
    db.session.execute(update(UserSession).values(created_at=now() - lifetime))
    db.session.commit()
    assert not opens_admin(http, base)


def test_signing_in_renews_the_session_and_its_csrf_secret(base):
    http = requests.Session()
    before_token = token_of(http.get(f"{base}/admin/login").text)
    before = with_cookies_of(http)  # a cookie planted before sign-in
    http.post(
        f"{base}/admin/login",
        data={"csrf_token": before_token, "email": "rob@example.com", "password": PASSWORD},
    )
    assert opens_admin(http, base)
    assert not opens_admin(before, base)
    stale = http.post(f"{base}/admin/logout", data={"csrf_token": before_token})
    assert stale.status_code == 400 and "CSRF" in stale.text
    assert opens_admin(http, base)
