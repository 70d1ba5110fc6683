"""Operator passwords: the policy a new one must meet, and hashing with argon2.

Strength is judged offline by zxcvbn, whose dictionaries (the 30,000 most common
passwords, names, English words) and patterns (keyboard walks, repeats, dates, l33t)
ship with the package; nothing is sent anywhere.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from statuspage.errors import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_SCORE = 3  # zxcvbn: "safely unguessable: moderate protection from offline attacks"
_JUDGED_LENGTH = 100  # zxcvbn's cost grows with length; the head decides anyway

hasher = PasswordHasher()
# Verified when an address has no usable account, so that both cost one argon2 check.
_DUMMY_HASH = hasher.hash("no account has this password")


def check_strength(password: str, *, hints: tuple[str, ...] = ()) -> None:
    """Refuse short, overlong and easily guessed passwords; ``hints`` (the email address)
    count as guessable words."""
    if len(password) < MIN_LENGTH:
        raise ValidationError({"password": f"must be at least {MIN_LENGTH} characters"})
    if len(password) > MAX_LENGTH:
        raise ValidationError({"password": f"must be at most {MAX_LENGTH} characters"})
    words = [*hints, *(p for h in hints for p in h.replace("@", " ").replace(".", " ").split())]
    verdict = zxcvbn(password[:_JUDGED_LENGTH], user_inputs=words)
    if verdict["score"] < MIN_SCORE:
        warning = verdict["feedback"]["warning"] or "It is easy to guess."
        raise ValidationError(
            {"password": f"is too easy to guess: {warning} Add words or characters."}
        )


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """Check ``password`` against ``password_hash``, or against a dummy hash when there is
    none, so that an unknown address costs as much as a known one."""
    try:
        return hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False
