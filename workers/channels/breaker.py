"""Per-channel circuit breaker, kept in the ``channel`` row so every worker shares it.

After ``THRESHOLD`` consecutive failed sends a channel is paused for a cooldown that
doubles with each further failure; a far end that names a time (429 reset, Retry-After)
pauses it until then. While paused, its rows wait without spending attempts. The first
send after the pause is the trial: success closes the circuit, failure reopens it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import Channel

THRESHOLD = 5
COOLDOWN = timedelta(seconds=30)
MAX_COOLDOWN = timedelta(minutes=15)


def open_until(channel_id: int | None) -> datetime | None:
    if channel_id is None:
        return None
    paused = db.session.scalar(db.select(Channel.paused_until).where(Channel.id == channel_id))
    return paused if paused is not None and paused > now() else None


def record_success(channel_id: int | None) -> None:
    """Close the circuit. Joins the caller's transaction (it commits with the outcome) and
    writes only when something changes or the last success is a minute old."""
    if channel_id is None:
        return
    at = now()
    db.session.execute(
        update(Channel)
        .where(
            Channel.id == channel_id,
            or_(
                Channel.consecutive_failures != 0,
                Channel.paused_until.is_not(None),
                Channel.last_success_at.is_(None),
                Channel.last_success_at < at - timedelta(minutes=1),
            ),
        )
        .values(consecutive_failures=0, paused_until=None, last_error=None, last_success_at=at)
        .execution_options(synchronize_session=False)
    )


def record_failure(channel_id: int | None, error: str, retry_at: datetime | None = None) -> None:
    if channel_id is None:
        return
    db.session.execute(
        update(Channel)
        .where(Channel.id == channel_id)
        .values(consecutive_failures=Channel.consecutive_failures + 1, last_error=error[:2000])
        .execution_options(synchronize_session=False)
    )
    failures = db.session.scalar(
        db.select(Channel.consecutive_failures).where(Channel.id == channel_id)
    )
    pause = retry_at
    if failures is not None and failures >= THRESHOLD:
        cooldown = min(MAX_COOLDOWN, COOLDOWN * 2 ** (failures - THRESHOLD))
        pause = max(pause or now(), now() + cooldown)
    if pause is not None:
        db.session.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(paused_until=pause)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
