"""SMS subscriptions beyond the form: replies from phones, and the monthly cap.

A subscriber confirms by replying YES (or START) to the confirmation text; STOP and the
other opt-out words end the subscription at once. The number is kept, unconfirmed, with
the components it followed, so START restores exactly what it had; an admin removing it
forgets it. Replies arrive as Twilio's signed webhook (see ``routes``).

Every text, confirmations included, is counted against the Twilio channel's monthly cap
before it goes out, by one conditional UPDATE: workers sending at once cannot pass the cap
together. Past the cap nothing is sent and, as on Statuspage, the text is dropped rather
than queued (an incident's text weeks late would mislead): its row says so in the ledger,
where a Retry sends it once the cap is raised, and the operators are alerted once a month.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from statuspage.alerts import notify_operators
from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import AlertKind, Channel, SmsMonth, Subscriber, SubscriberKind
from statuspage.subscriptions import service
from statuspage.subscriptions.sms_rules import OPT_IN, OPT_OUT, keyword, normalise_phone

log = logging.getLogger(__name__)
DEFAULT_CAP = 1000


class Reply(StrEnum):
    CONFIRMED = "confirmed"
    STOPPED = "stopped"
    IGNORED = "ignored"


def reply_received(sender: str, body: str) -> Reply:
    """Act on a text a phone sent to the channel's number: opt in or opt out. Other texts,
    and numbers that never subscribed, change nothing."""
    word = keyword(body)
    try:
        number = normalise_phone(sender)
    except ValidationError:
        return Reply.IGNORED
    subscriber = db.session.scalars(
        select(Subscriber).where(
            Subscriber.kind == SubscriberKind.SMS, Subscriber.address == number
        )
    ).first()
    if word is None or subscriber is None:
        return Reply.IGNORED
    if word in OPT_OUT:
        stop(subscriber)
        return Reply.STOPPED
    assert word in OPT_IN
    service.confirm(subscriber)
    return Reply.CONFIRMED


def stop(subscriber: Subscriber) -> None:
    """The phone said STOP (or the carrier refuses to deliver to it): nothing more is sent;
    START restores the components it followed."""
    subscriber.pending_filter = {"components": [c.id for c in subscriber.components] or None}
    subscriber.confirmed_at = None
    subscriber.confirm_requested_at = None
    db.session.commit()


def month_of(at: datetime) -> str:
    return at.strftime("%Y-%m")


def cap_of(channel: Channel) -> int:
    return int((channel.config or {}).get("monthly_cap", DEFAULT_CAP))


def sent_this_month(channel: Channel) -> int:
    row = db.session.get(SmsMonth, (channel.id, month_of(now())))
    return row.sent if row is not None else 0


def reserve(channel: Channel) -> bool:
    """Count one text against this month's cap; False (and the operators told, once a
    month) when the cap is reached. Commits."""
    month = month_of(now())
    try:
        with db.session.begin_nested():
            db.session.add(SmsMonth(channel_id=channel.id, month=month, sent=0))
    except IntegrityError:
        pass  # this month's row exists already
    counted = db.session.execute(
        update(SmsMonth)
        .where(
            SmsMonth.channel_id == channel.id,
            SmsMonth.month == month,
            SmsMonth.sent < cap_of(channel),
        )
        .values(sent=SmsMonth.sent + 1)
        .execution_options(synchronize_session=False)
    )
    if counted.rowcount == 1:
        db.session.commit()
        return True
    first = db.session.execute(
        update(SmsMonth)
        .where(
            SmsMonth.channel_id == channel.id,
            SmsMonth.month == month,
            SmsMonth.capped_at.is_(None),
        )
        .values(capped_at=now())
        .execution_options(synchronize_session=False)
    )
    if first.rowcount == 1:
        reached = cap_message(channel)
        text = f"{reached[:1].upper()}{reached[1:]}. {DROPPED}"
        notify_operators(
            f"sms-cap:{channel.id}:{month}",
            AlertKind.SMS_CAP,
            text,
            f"/admin/channels/{channel.id}",
        )
        log.warning("SMS channel %s: %s", channel.id, cap_message(channel))
    db.session.commit()
    return False


def release(channel: Channel) -> None:
    """A counted text that certainly did not go out (Twilio refused it) is not counted."""
    db.session.execute(
        update(SmsMonth)
        .where(
            SmsMonth.channel_id == channel.id,
            SmsMonth.month == month_of(now()),
            SmsMonth.sent > 0,
        )
        .values(sent=SmsMonth.sent - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


DROPPED = (
    "Texts past the cap are dropped, not queued: raise the cap in the channel's settings, "
    "then Retry them from each incident's ledger."
)


def cap_message(channel: Channel) -> str:
    return f"the monthly SMS cap ({cap_of(channel)}) is reached for {month_of(now())}"


def dropped_message(channel: Channel) -> str:
    """A text's ledger entry when the cap stopped it."""
    return f"dropped, not queued: {cap_message(channel)}; raise the cap, then Retry to send it"
