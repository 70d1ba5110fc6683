"""Sign-in: the same work for every address, a throttle that nobody can turn against an
operator, and passwords that are long and not common."""

from __future__ import annotations

import cProfile
import pstats
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage import accounts
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import AuditEvent, LoginAttempt, User
from tests.conftest import PASSWORD
from tests.signin import csrf_token, login, sign_in


def argon2_verifications(call) -> int:  # type: ignore[no-untyped-def]
    """How many argon2 verifications ``call`` ran, counted by the profiler."""
    profiler = cProfile.Profile()
    profiler.runcall(call)
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return sum(
        calls
        for (path, _line, name), (_, calls, *_rest) in stats.items()
        if name == "verify_secret" and "argon2" in path
    )


@pytest.mark.parametrize(
    "email", ["rob@example.com", "nobody@example.com", "olga@example.com"]
)  # known, unknown, deactivated
def test_every_address_costs_exactly_one_argon2_verification(client, cast, email):
    assert argon2_verifications(lambda: login(client, email, "a wrong password")) == 1


def test_unknown_and_wrong_answer_alike(client, cast):
    unknown = login(client, "nobody@example.com", "a wrong password")
    known = login(client, "rob@example.com", "a wrong password")
    assert unknown.status_code == known.status_code == 401
    assert b"Wrong email or password." in unknown.data and b"Wrong email or password." in known.data


def test_failures_make_that_address_wait_longer_each_time():
    delays = [accounts.pair_delay(n).total_seconds() for n in range(1, 14)]
    assert delays[: accounts.FREE_FAILURES] == [0, 0]
    assert delays[accounts.FREE_FAILURES :] == [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def test_repeated_failures_throttle_the_address_on_that_account_only(client, cast):
    for _ in range(accounts.FREE_FAILURES + 1):
        assert login(client, "rob@example.com", "a wrong password").status_code == 401
    response = login(client, "rob@example.com")  # the right password, but too soon
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.data
    assert client.get("/admin/").status_code == 302
    assert login(client, "alice@example.com").status_code == 302  # another account


def test_an_outsider_failing_on_purpose_cannot_keep_the_operator_out(app, cast):
    for _ in range(12):
        try:
            accounts.authenticate("rob@example.com", "a guess", "203.0.113.66")
        except accounts.LoginThrottled:
            pass
    with pytest.raises(accounts.LoginThrottled):
        accounts.authenticate("rob@example.com", PASSWORD, "203.0.113.66")
    assert accounts.authenticate("rob@example.com", PASSWORD, "198.51.100.7") is not None


def test_the_wait_ends_and_a_success_clears_the_count(app, cast):
    past = now() - accounts.MAX_DELAY - timedelta(seconds=1)
    db.session.add_all(
        LoginAttempt(email="rob@example.com", ip="10.0.0.1", created_at=past) for _ in range(9)
    )
    db.session.commit()
    assert accounts.throttled_until("rob@example.com", "10.0.0.1", now()) is None
    assert accounts.authenticate("rob@example.com", PASSWORD, "10.0.0.1") is not None
    assert accounts.authenticate("rob@example.com", "a guess", "10.0.0.1") is None
    assert accounts.throttled_until("rob@example.com", "10.0.0.1", now()) is None
    failed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.login_failed")
    ).all()
    assert len(failed) == 1


@pytest.mark.parametrize(
    "password, problem",
    [
        ("eleven char", "at least 12 characters"),
        ("password1234", "common password"),
        ("qwertyuiop123", "common password"),
        ("aaaaaaaaaaaaaaaa", "easy to guess"),
        ("newuser@example.com", "easy to guess"),
    ],
)
def test_short_common_and_guessable_passwords_are_refused(app, password, problem):
    with pytest.raises(ValidationError) as err:
        accounts.create_user("newuser@example.com", password, "viewer")
    assert problem in err.value.errors["password"]
    assert db.session.scalars(select(User)).all() == []


def add_user(client, password: str):  # type: ignore[no-untyped-def]
    """An admin adds new@example.com (a responder) in the admin."""
    sign_in(client, "alice@example.com")
    return client.post(
        "/admin/users",
        data={
            "csrf_token": csrf_token(client, "/admin/users"),
            "email": "new@example.com",
            "role": "responder",
            "password": password,
        },
    )


def test_the_admin_form_explains_a_refused_password(client, cast):
    response = add_user(client, "password1234")
    assert response.status_code == 422
    assert "This is a very common password." in response.get_data(as_text=True)


def test_a_user_added_in_the_admin_changes_the_password_first(client, cast):
    assert add_user(client, "chosen by the admin for you").status_code == 302
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert login(client, "new@example.com", "chosen by the admin for you").status_code == 302
    assert client.get("/admin/incidents/new").headers["Location"].endswith("/admin/account")
    response = client.post(
        "/admin/account/password",
        data={
            "csrf_token": csrf_token(client, "/admin/account"),
            "current_password": "chosen by the admin for you",
            "password": "my own secret passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/admin/incidents/new").status_code == 200
