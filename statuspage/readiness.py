"""What a new installation still lacks before it can tell anyone anything: components to
report on, an SMTP server for subscriber mail, and a channel that announces updates. The
dashboard lists the steps until every one is done."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select

from statuspage.extensions import db
from statuspage.models import Channel, ChannelKind, Component


@dataclass(frozen=True)
class Step:
    key: str
    text: str
    done: bool
    endpoint: str  # the admin page where it is done


def checklist() -> list[Step]:
    """Every step, done or not; empty once all are done, so nothing is shown."""
    steps = [
        Step(
            "components",
            "Add the components your customers rely on",
            bool(db.session.scalar(select(exists().where(Component.id.is_not(None))))),
            "admin.components",
        ),
        Step(
            "smtp",
            "Connect an SMTP server, so readers can subscribe by email",
            Channel.smtp() is not None,
            "admin.channels",
        ),
        Step(
            "channel",
            "Connect a channel that announces updates (X, Mastodon, Slack, a webhook …)",
            any(c.kind != ChannelKind.EMAIL_SMTP for c in Channel.announcing()),
            "admin.channels",
        ),
    ]
    return [] if all(s.done for s in steps) else steps
