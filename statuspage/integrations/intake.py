"""What happens to received alerts, in one transaction per request.

Each alert is stored once per fingerprint: a firing alert already firing is a duplicate
(Alertmanager repeats its whole group every ``repeat_interval``), a resolved one closes it.
A firing alert matched by a draft rule joins that rule's active draft or opens one (and
the operators hear of it); one matched by an automatic rule sets the rule's components.
When every alert behind a draft has resolved, the resolution is proposed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select

from statuspage.extensions import db
from statuspage.incidents.republish import request_publish
from statuspage.incidents.service import set_component_status
from statuspage.integrations import drafts
from statuspage.integrations.payloads import Alert
from statuspage.integrations.rules import first_match
from statuspage.lib.clock import now
from statuspage.models import (
    AlertRule,
    AlertStatus,
    ChangeCause,
    Component,
    ComponentStatus,
    IncidentDraft,
    IntakeLogEntry,
    Integration,
    ReceivedAlert,
    RuleMode,
)
from statuspage.models.audit import record
from statuspage.publishing.state import worst

LOG_SIZE = 50  # refused payloads kept per integration
EXCERPT = 500


@dataclass
class IntakeResult:
    firing: int = 0
    resolved: int = 0
    duplicates: int = 0
    unmatched: int = 0
    drafts: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "firing": self.firing,
            "resolved": self.resolved,
            "duplicates": self.duplicates,
            "unmatched": self.unmatched,
            "drafts": self.drafts,
        }


def receive(integration_id: int, alerts: Sequence[Alert]) -> IntakeResult:
    """Apply ``alerts`` for the integration. Requests of one integration are serialised
    on its row, so two deliveries of the same alert cannot both insert it. A request with
    no alerts changes nothing."""
    if not alerts:
        return IntakeResult()
    integration = db.session.get(Integration, integration_id, with_for_update=True)
    assert integration is not None
    at = now()
    rules = list(integration.rules)
    fingerprints = [a.fingerprint for a in alerts]
    known = {
        row.fingerprint: row
        for row in db.session.scalars(
            select(ReceivedAlert).where(
                ReceivedAlert.integration_id == integration.id,
                ReceivedAlert.fingerprint.in_(fingerprints),
            )
        )
    }
    result = IntakeResult()
    touched: dict[str, IncidentDraft] = {}
    automated: set[int] = set()
    for alert in alerts:
        row = known.get(alert.fingerprint)
        if alert.status == AlertStatus.FIRING:
            if row is not None and row.status == AlertStatus.FIRING:
                row.last_received_at = at
                result.duplicates += 1
                continue
            row = known[alert.fingerprint] = _fire(integration, row, alert, at)
            rule = first_match(rules, alert.labels)
            row.rule_id = rule.id if rule else None
            result.firing += 1
            if rule is None:
                result.unmatched += 1
            elif rule.mode == RuleMode.AUTOMATIC:
                automated.add(rule.id)
            else:
                draft = drafts.active_for_rule(rule.id)
                if draft is None:
                    draft = drafts.new_from_rule(
                        rule, alert.labels, alert.annotations, row.starts_at
                    )
                    result.drafts.append(draft.id)
                elif draft.problem_started_at is None or row.starts_at < draft.problem_started_at:
                    draft.problem_started_at = row.starts_at
                draft.alerts_resolved_at = None
                row.draft = draft
                touched[draft.id] = draft
        else:
            if row is None or row.status == AlertStatus.RESOLVED:
                result.duplicates += 1
                continue
            row.status, row.last_received_at = AlertStatus.RESOLVED, at
            row.ends_at = min(alert.ends_at or at, at)
            result.resolved += 1
            if row.draft is not None:
                touched[row.draft.id] = row.draft
            if row.rule_id is not None:
                automated.add(row.rule_id)
    db.session.flush()
    for draft in touched.values():
        if draft.alerts and all(a.status == AlertStatus.RESOLVED for a in draft.alerts):
            drafts.propose_resolution(draft, at)
    _automate(integration, [r for r in rules if r.id in automated and r.mode == RuleMode.AUTOMATIC])
    integration.last_received_at = at
    integration.received_count += len(alerts)
    db.session.commit()
    return result


def _fire(
    integration: Integration, row: ReceivedAlert | None, alert: Alert, at: datetime
) -> ReceivedAlert:
    """Store a newly firing alert (or one firing again after it resolved)."""
    # A sender's clock ahead of ours must not put the problem in the future.
    starts = min(alert.starts_at or at, at)
    if row is None:
        row = ReceivedAlert(integration_id=integration.id, fingerprint=alert.fingerprint)
        db.session.add(row)
    row.status = AlertStatus.FIRING
    row.labels, row.annotations = alert.labels, alert.annotations
    row.starts_at, row.ends_at = starts, None
    row.draft = None
    row.first_received_at = row.last_received_at = at
    return row


def _automate(integration: Integration, rules: Iterable[AlertRule]) -> None:
    """Set each component of these automatic rules to the worst status any still-firing
    alert of the integration asks for it, or back to operational when none does."""
    component_ids = {c for rule in rules for c in rule.component_ids}
    if not component_ids:
        return
    wanted: dict[str, list[ComponentStatus]] = {c: [] for c in component_ids}
    firing = db.session.execute(
        select(AlertRule.component_ids, AlertRule.component_status)
        .join(ReceivedAlert, ReceivedAlert.rule_id == AlertRule.id)
        .where(
            ReceivedAlert.integration_id == integration.id,
            ReceivedAlert.status == AlertStatus.FIRING,
            AlertRule.mode == RuleMode.AUTOMATIC,
        )
    ).all()
    for ids, status in firing:
        for component_id in ids:
            if component_id in wanted:
                wanted[component_id].append(ComponentStatus(status))
    at = now()
    changed = []
    for component in db.session.scalars(select(Component).where(Component.id.in_(component_ids))):
        target = worst(wanted[component.id])
        if target != component.status:
            before = str(component.status)
            set_component_status(component, target, ChangeCause.AUTOMATION, at)
            record(
                None,
                "component.automation",
                "component",
                component.id,
                {"status": before},
                {"status": str(target), "integration": integration.name},
            )
            changed.append(component.id)
    if changed:
        request_publish(f"components {', '.join(changed)} set by alert rules")


def refuse(integration_id: int, status: int, reason: str, body: bytes) -> None:
    """Keep a refused payload's reason (and its start) in the integration's small log."""
    db.session.rollback()
    db.session.add(
        IntakeLogEntry(
            integration_id=integration_id,
            status_code=status,
            reason=reason[:1000],
            excerpt=body[:EXCERPT].decode("utf-8", "replace").replace("\x00", ""),
        )
    )
    db.session.flush()
    keep = (
        select(IntakeLogEntry.id)
        .where(IntakeLogEntry.integration_id == integration_id)
        .order_by(IntakeLogEntry.id.desc())
        .limit(LOG_SIZE)
    )
    db.session.execute(
        delete(IntakeLogEntry).where(
            IntakeLogEntry.integration_id == integration_id, IntakeLogEntry.id.not_in(keep)
        )
    )
    db.session.commit()
