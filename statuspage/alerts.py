"""Alerts to the operators themselves (not the public): "the next update is due soon".

The cadence beat calls ``alert_operators`` inside its transaction; each enabled channel
marked for operator alerts (Slack, webhook, SMTP to the responders) gets an
``OperatorAlert`` row and an outbox ``Delivery`` that the workers carry with the same
retries, circuit breaker and ledger as public updates. Asking twice for the same promise
and kind is harmless: the alert goes out once per channel.
"""

from __future__ import annotations

from sqlalchemy import select

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

TRANSPORT = {"slack": "slack", "webhook": "webhook", "email-smtp": "email"}


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
    channels = db.session.scalars(
        select(Channel)
        .where(
            Channel.enabled.is_(True),
            Channel.operator_alerts.is_(True),
            Channel.kind.in_([str(k) for k in ALERT_KINDS]),
        )
        .order_by(Channel.id)
    ).all()
    already = set(
        db.session.scalars(
            select(OperatorAlert.channel_id).where(
                OperatorAlert.update_id == latest.id, OperatorAlert.kind == kind
            )
        )
    )
    rows = []
    for channel in channels:
        if channel.id in already:
            continue
        alert = OperatorAlert(
            update_id=latest.id, channel_id=channel.id, kind=kind, text=one_line(text)
        )
        db.session.add(alert)
        db.session.flush()
        rows.append(
            Delivery(
                update_id=latest.id,
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
