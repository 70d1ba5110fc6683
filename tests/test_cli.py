"""The ``statuspage`` command's account tools."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from statuspage.cli import main
from statuspage.extensions import db
from statuspage.models import ApiToken, AuditEvent, User
from statuspage.models.accounts import hash_token


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def test_create_user_reads_the_password_from_stdin(app):
    result = run(
        "create-user",
        "Ops@Example.com",
        "--role",
        "responder",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalars(select(User)).one()
    assert (user.email, user.role) == ("ops@example.com", "responder")
    assert user.password_hash.startswith("$argon2")
    assert user.check_password("a long enough password")
    assert db.session.scalars(select(AuditEvent.action)).all() == ["user.create"]


def test_create_user_refuses_bad_input_and_writes_nothing(app):
    assert (
        run(
            "create-user",
            "not-an-email",
            "--role",
            "admin",
            "--password-stdin",
            stdin="a long enough password\n",
        ).exit_code
        == 1
    )
    assert (
        run(
            "create-user", "a@example.com", "--role", "admin", "--password-stdin", stdin="short\n"
        ).exit_code
        == 1
    )
    assert (
        run(
            "create-user",
            "a@example.com",
            "--role",
            "owner",
            "--password-stdin",
            stdin="a long enough password\n",
        ).exit_code
        == 2
    )
    assert db.session.scalars(select(User)).all() == []


def test_duplicate_users_are_refused(app):
    args = ("create-user", "a@example.com", "--role", "admin", "--password-stdin")
    assert run(*args, stdin="a long enough password\n").exit_code == 0
    again = run(*args, stdin="a long enough password\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_create_token_prints_it_once_and_stores_a_hash(app):
    run(
        "create-user",
        "bot@example.com",
        "--role",
        "responder",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    result = run("create-token", "bot@example.com", "--name", "deploy hook")
    assert result.exit_code == 0, result.output
    plain = result.output.strip()
    assert plain.startswith("sp_") and len(plain) > 40
    db.session.expire_all()
    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash == hash_token(plain)
    assert plain not in (token.token_hash, token.prefix)
    assert ApiToken.find_active(plain).user.email == "bot@example.com"
    assert ApiToken.find_active(plain + "x") is None


def test_create_token_for_unknown_user_fails(app):
    result = run("create-token", "ghost@example.com", "--name", "x")
    assert result.exit_code == 1 and "no user" in result.output


def test_set_password(app):
    run(
        "create-user",
        "a@example.com",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="a long enough password\n",
    )
    assert (
        run(
            "set-password", "a@example.com", "--password-stdin", stdin="another long password\n"
        ).exit_code
        == 0
    )
    db.session.expire_all()
    assert db.session.scalars(select(User)).one().check_password("another long password")


def test_names_and_addresses_with_control_characters_are_refused(app):
    args = ("--role", "admin", "--password-stdin")
    refused = run("create-user", "a\u000b@example.com", *args, stdin="a long enough password\n")
    assert refused.exit_code == 1 and "control characters" in refused.output
    run("create-user", "bot@example.com", *args, stdin="a long enough password\n")
    token = run("create-token", "bot@example.com", "--name", "deploy\r\nhook")
    assert token.exit_code == 1 and "single line" in token.output
    assert db.session.scalars(select(ApiToken)).all() == []
