"""The second factor: TOTP codes (RFC 6238) from an authenticator app, and recovery codes.

The secret is sealed with the installation's key like channel credentials. Enrolment is
two steps: a secret is stored unconfirmed and shown as a QR code; the first correct code
confirms it and issues ten recovery codes, shown once and stored as hashes. Each TOTP code
works once: the time step of the last accepted code is kept.
"""

from __future__ import annotations

import hmac
import secrets

import pyotp
import segno

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.lib.crypto import decrypt_json, encrypt_json
from statuspage.models import Page, RecoveryCode, Role, User
from statuspage.models.accounts import hash_token
from statuspage.models.audit import record

ISSUER = "statuspage"
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _secret(user: User) -> str | None:
    if not user.totp_secret_encrypted:
        return None
    return decrypt_json(user.totp_secret_encrypted).get("totp")


def begin_enrolment(user: User) -> str:
    """Store a new unconfirmed secret (replacing an unconfirmed one) and return it."""
    if user.has_second_factor:
        raise ValidationError({"code": "a second factor is already set up"})
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = encrypt_json({"totp": secret})
    db.session.commit()
    return secret


def pending_secret(user: User) -> str | None:
    return None if user.has_second_factor else _secret(user)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code(uri: str) -> str:
    """The QR code as an SVG data URI: an ``<img>`` the CSP allows, no inline markup."""
    return segno.make(uri, error="m").svg_data_uri(scale=4, border=2)


def _accept_totp(user: User, secret: str, code: str) -> bool:
    """True for a code of the current, previous or next 30 s step not used before."""
    code = "".join(code.split())
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now())
    for step in (current - 1, current, current + 1):
        if step <= (user.totp_last_step or -1):
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            user.totp_last_step = step
            return True
    return False


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn the pending secret on with a first code; returns the recovery codes."""
    secret = pending_secret(user)
    if secret is None:
        raise ValidationError({"code": "start the setup again"})
    if not _accept_totp(user, secret, code):
        raise ValidationError({"code": "is not the current code of your authenticator app"})
    user.totp_enabled_at = now()
    codes = _issue_recovery_codes(user)
    record(user, "user.two_factor_enable", "user", str(user.id))
    db.session.commit()
    return codes


def _issue_recovery_codes(user: User) -> list[str]:
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODES)
    ]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_token(c)) for c in codes)
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Replace every recovery code of ``user``; the old ones stop working."""
    if not user.has_second_factor:
        raise ValidationError({"code": "set up a second factor first"})
    codes = _issue_recovery_codes(user)
    record(user, "user.recovery_codes", "user", str(user.id))
    db.session.commit()
    return codes


def unused_recovery_codes(user: User) -> int:
    return len(
        db.session.scalars(
            db.select(RecoveryCode.id).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        ).all()
    )


def verify(user: User, code: str) -> bool:
    """Check a sign-in code: a TOTP code, or an unused recovery code (used up by this)."""
    secret = _secret(user)
    if secret is None or not user.has_second_factor:
        return False
    if _accept_totp(user, secret, code):
        return True
    entered = "-".join(p for p in "".join(code.lower().split()).split("-") if p)
    if len(entered) != 14:
        return False
    found = db.session.scalars(
        db.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == hash_token(entered),
            RecoveryCode.used_at.is_(None),
        )
    ).first()
    if found is None:
        return False
    found.used_at = now()
    return True


def disable(user: User, actor: User) -> None:
    """Remove the second factor (by its owner, or by an admin for someone who lost it)."""
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(db.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    record(actor, "user.two_factor_disable", "user", str(user.id))
    db.session.commit()


def required_roles() -> set[Role]:
    raw = Page.get().two_factor_roles
    return {Role(r) for r in raw.split(",") if r in tuple(Role)}


def set_required_roles(roles: list[str], actor: User) -> None:
    unknown = [r for r in roles if r not in tuple(Role)]
    if unknown:
        raise ValidationError({"roles": f"unknown roles: {', '.join(unknown)}"})
    page = Page.get()
    before = {"two_factor_roles": page.two_factor_roles}
    page.two_factor_roles = ",".join(r for r in tuple(Role) if r in roles)
    record(
        actor,
        "page.two_factor_roles",
        "page",
        page.id,
        before,
        {"two_factor_roles": page.two_factor_roles},
    )
    db.session.commit()


def enrolment_required(user: User) -> bool:
    """True when ``user``'s role must use a second factor and they have none yet."""
    return not user.has_second_factor and Role(user.role) in required_roles()
