"""Re-encrypting stored secrets after the secret key changes.

Run with the new key as ``SECRET_KEY`` and the old one in ``SECRET_KEY_FALLBACKS``; once
every value is sealed under the new key, the fallback is no longer needed for them (signed
links already mailed still need it until they are replaced or expire).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.lib.crypto import SecretError, reencrypt
from statuspage.models import Channel, Subscriber, User
from statuspage.models.audit import record


@dataclass
class Rotation:
    rotated: int = 0
    unreadable: list[str] = field(default_factory=list)  # "channel 3", "subscriber 17", "user 2"


def rotate_secrets() -> Rotation:
    """Seal every stored secret under the current key, in one transaction. Values no
    accepted key opens are left as they are and named in the result."""
    result = Rotation()
    stored = [
        *((f"channel {c.id}", c, "secrets_encrypted") for c in db.session.scalars(select(Channel))),
        *(
            (f"subscriber {s.id}", s, "secret_encrypted")
            for s in db.session.scalars(
                select(Subscriber).where(Subscriber.secret_encrypted.is_not(None))
            )
        ),
        *(
            (f"user {u.id}", u, "totp_secret_encrypted")
            for u in db.session.scalars(select(User).where(User.totp_secret_encrypted.is_not(None)))
        ),
    ]
    for name, row, column in stored:
        value = getattr(row, column)
        if not value:
            continue
        try:
            setattr(row, column, reencrypt(value))
        except SecretError:
            result.unreadable.append(name)
        else:
            result.rotated += 1
    record(
        None,
        "secrets.rotate",
        "installation",
        "-",
        None,
        {"rotated": result.rotated, "unreadable": result.unreadable},
    )
    db.session.commit()
    return result
