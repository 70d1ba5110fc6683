"""The second factor: enrolment with a QR code, sign-in with TOTP or a recovery code,
and the setting that makes it mandatory for chosen roles."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
from sqlalchemy import update

from statuspage.extensions import db
from statuspage.models import RecoveryCode, User
from tests.conftest import PASSWORD
from tests.signin import csrf_token, login, sign_in


def enrol(client) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    """Set up TOTP as the signed-in user; returns the secret and the recovery codes."""
    page = client.get("/admin/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code, an image the CSP allows
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    answer = client.post(
        "/admin/account/two-factor/confirm",
        data={"csrf_token": csrf_token(client, "/admin/account"), "code": pyotp.TOTP(secret).now()},
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    codes = re.findall(r"<li><code>([a-z2-9-]{14})</code></li>", answer.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def enter_code(client, code: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/login/code",
        data={"csrf_token": csrf_token(client, "/admin/login/code"), "code": code},
    )


def log_out(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})


def test_the_qr_code_carries_the_secret_for_this_user(client, cast):
    sign_in(client, "rob@example.com")
    page = client.get("/admin/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    from statuspage import two_factor

    uri = two_factor.provisioning_uri(cast["responder"], secret)
    assert parse_qs(urlsplit(uri).query)["secret"] == [secret]
    assert unquote(urlsplit(uri).path).endswith("rob@example.com")


def test_with_a_second_factor_the_password_alone_does_not_sign_in(client, cast):
    sign_in(client, "rob@example.com")
    secret, _ = enrol(client)
    log_out(client)
    answer = login(client, "rob@example.com")
    assert answer.headers["Location"].endswith("/admin/login/code")
    assert client.get("/admin/").status_code == 302  # not signed in yet
    assert enter_code(client, "000000").status_code == 401
    # A fresh code (the enrolment used the current step) signs in.
    db.session.execute(update(User).values(totp_last_step=None))
    db.session.commit()
    assert enter_code(client, pyotp.TOTP(secret).now()).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_code_works_only_once(client, cast):
    sign_in(client, "rob@example.com")
    secret, _ = enrol(client)
    log_out(client)
    login(client, "rob@example.com")
    db.session.expire_all()
    used = db.session.get(User, cast["responder"].id).totp_last_step
    assert enter_code(client, pyotp.TOTP(secret).generate_otp(used)).status_code == 401


def test_a_recovery_code_signs_in_once(client, cast):
    sign_in(client, "rob@example.com")
    _, codes = enrol(client)
    log_out(client)
    login(client, "rob@example.com")
    assert enter_code(client, codes[0].upper()).status_code == 302
    log_out(client)
    login(client, "rob@example.com")
    assert enter_code(client, codes[0]).status_code == 401
    assert db.session.query(RecoveryCode).filter(RecoveryCode.used_at.is_not(None)).count() == 1


def test_guessing_codes_is_stopped_after_five_failures(client, cast):
    sign_in(client, "rob@example.com")
    enrol(client)
    log_out(client)
    login(client, "rob@example.com")
    for _ in range(5):
        assert enter_code(client, "123456").status_code == 401
    assert enter_code(client, "123456").status_code == 429


def test_a_required_role_is_sent_to_set_it_up_and_cannot_turn_it_off(client, cast):
    sign_in(client, "alice@example.com")
    answer = client.post(
        "/admin/settings/two-factor",
        data={"csrf_token": csrf_token(client, "/admin/settings"), "roles": ["responder"]},
    )
    assert answer.status_code == 302
    log_out(client)
    assert login(client, "rob@example.com").status_code == 302
    assert (
        client.get("/admin/incidents/new").headers["Location"].endswith("/admin/account/two-factor")
    )
    enrol(client)
    assert client.get("/admin/incidents/new").status_code == 200
    answer = client.post(
        "/admin/account/two-factor/disable",
        data={
            "disable-csrf_token": csrf_token(client, "/admin/account"),
            "disable-current_password": PASSWORD,
        },
    )
    assert answer.status_code == 422
    db.session.expire_all()
    assert db.session.get(User, cast["responder"].id).has_second_factor
