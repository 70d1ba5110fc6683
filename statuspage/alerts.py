"""Alerts to the operators themselves (not the public): "the next update is due soon",
"alerts opened a draft incident", "a vendor's component changed".

The cadence beat calls ``alert_operators`` inside its transaction; each enabled channel
marked for operator alerts (Slack, webhook, SMTP to the responders) gets an
``OperatorAlert`` row and an outbox ``Delivery`` that the workers carry with the same
retries, circuit breaker and ledger as public updates. Asking twice for the same promise
and kind is harmless: the alert goes out once per channel.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from statuspage.extensions import db
from statuspage.models import (
    AlertKind,
    Channel,
    Delivery,
    IncidentUpdate,
    OperatorAlert,
    TargetKind,
)
from statuspage.models.channels import ALERT_KINDS
from statuspage.outbox import queue_after_commit
from statuspage.text_rules import one_line

TRANSPORT = {
    "slack": "slack",
    "webhook": "webhook",
    "email-smtp": "email",
    "teams": "teams",
    "discord": "discord",
}


def alert_operators(incident_id: str, kind: AlertKind, text: str) -> list[Delivery]:
    """Queue ``text`` about an incident to every operator-alert channel, in the caller's
    transaction (the caller commits). Returns the new outbox rows (none if already sent
    for this update and kind, or if no channel takes operator alerts)."""
    latest = db.session.scalars(
        select(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident_id)
        .order_by(IncidentUpdate.created_at.desc())
        .limit(1)
    ).first()
    if latest is None:
        return []
    already = select(OperatorAlert.channel_id).where(
        OperatorAlert.update_id == latest.id, OperatorAlert.kind == kind
    )
    return _queue(already, kind, text, update_id=latest.id)


def notify_operators(subject: str, kind: AlertKind, text: str, link: str) -> list[Delivery]:
    """Queue ``text`` about something not public (a draft, a vendor's change) to every
    operator-alert channel, in the caller's transaction. ``subject`` names the thing
    (e.g. ``draft:<id>``); each (subject, kind) goes out once per channel. ``link`` is the
    admin path where the operator acts on it."""
    already = select(OperatorAlert.channel_id).where(
        OperatorAlert.subject == subject, OperatorAlert.kind == kind
    )
    return _queue(already, kind, text, subject=subject, link=link)


def _queue(already: Select, kind: AlertKind, text: str, **about: str) -> list[Delivery]:
    channels = db.session.scalars(
        select(Channel)
        .where(
            Channel.enabled.is_(True),
            Channel.operator_alerts.is_(True),
            Channel.kind.in_([str(k) for k in ALERT_KINDS]),
        )
        .order_by(Channel.id)
    ).all()
    sent = set(db.session.scalars(already))
    rows = []
    for channel in channels:
        if channel.id in sent:
            continue
        alert = OperatorAlert(channel_id=channel.id, kind=kind, text=one_line(text), **about)
        db.session.add(alert)
        db.session.flush()
        rows.append(
            Delivery(
                update_id=about.get("update_id"),
                target_kind=TargetKind.ALERT,
                target_id=alert.id,
                channel_id=channel.id,
                transport=TRANSPORT[channel.kind],
                mailbox=f"alert:{alert.id}",
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    queue_after_commit(row.id for row in rows)
    return rows
