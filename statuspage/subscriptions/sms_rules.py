"""What an SMS subscription accepts and when it is texted, apart from how texts are sent.

As on Statuspage, a phone hears about an incident twice (when it opens and when it
resolves) and about maintenance once (when it starts): a text interrupts, so the updates
in between stay on the page, in mail and in feeds.
"""

from __future__ import annotations

import math
import re

from sqlalchemy import select

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.models import Impact, IncidentStatus, IncidentUpdate

_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
_SEPARATORS = re.compile(r"[\s().\-/]")
# Twilio's default opt-out and opt-in keywords (carriers require honouring these), matched
# on the whole message, case and surrounding punctuation aside.
OPT_OUT = frozenset(
    {"STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
# Two segments: 153 GSM-7 characters each once concatenated, or 67 UCS-2 units.
SMS_LIMIT = 306
_GSM = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")  # two septets each
_MAINTENANCE = {
    IncidentStatus.SCHEDULED,
    IncidentStatus.IN_PROGRESS,
    IncidentStatus.VERIFYING,
    IncidentStatus.COMPLETED,
}


def normalise_phone(raw: object) -> str:
    """An E.164 number (``+`` country code and number, 8 to 15 digits); spaces, dots,
    dashes and brackets are dropped and a leading ``00`` read as ``+``."""
    number = _SEPARATORS.sub("", raw if isinstance(raw, str) else "")
    if number.startswith("00"):
        number = "+" + number[2:]
    if not _E164.match(number):
        raise ValidationError(
            {"phone": "enter the number with its country code, e.g. +44 20 7946 0000"}
        )
    return number


def keyword(body: str) -> str | None:
    """The opt-in or opt-out keyword a reply is, or None for any other text."""
    word = " ".join((body or "").upper().split()).strip(" .!")
    return word if word in OPT_OUT or word in OPT_IN else None


def gsm_dots(text: str) -> str:
    """A cut text's ellipsis as three dots: "…" is not in the GSM alphabet, and one would
    make the whole text UCS-2, less than half as long."""
    return text.replace("…", "...")


def sms_length(text: str) -> int:
    """Cost in GSM-7 characters, once ``gsm_dots`` has been applied: a text with any other
    character goes as UCS-2, where a segment holds 67 UTF-16 units instead of 153."""
    text = gsm_dots(text)
    if all(c in _GSM or c in _GSM_EXTENDED for c in text):
        return sum(2 if c in _GSM_EXTENDED else 1 for c in text)
    return math.ceil(len(text.encode("utf-16-le")) // 2 * 153 / 67)


def texted(update: IncidentUpdate) -> bool:
    """Whether ``update`` is one SMS subscribers hear about: an incident's first update,
    the one that resolves it, or the one that starts a maintenance window."""
    earlier = list(
        db.session.scalars(
            select(IncidentUpdate.status)
            .where(
                IncidentUpdate.incident_id == update.incident_id,
                IncidentUpdate.id != update.id,
                IncidentUpdate.created_at <= update.created_at,
            )
            .order_by(IncidentUpdate.created_at.desc())
        )
    )
    status = IncidentStatus(update.status)
    if update.incident.impact == Impact.MAINTENANCE or status in _MAINTENANCE:
        return status == IncidentStatus.IN_PROGRESS and IncidentStatus.IN_PROGRESS not in earlier
    if not earlier:
        return True
    return status == IncidentStatus.RESOLVED and earlier[0] != IncidentStatus.RESOLVED
