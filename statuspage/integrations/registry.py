"""Creating, rotating and removing integrations and editing their rules, shared by the
admin and the command line. Every change is audited; a secret is returned in clear once
and only its hash is kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from statuspage import text_rules
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import workflow
from statuspage.incidents.service import Errors
from statuspage.integrations.rules import parse_matchers
from statuspage.lib.clock import now
from statuspage.models import (
    AlertRule,
    Component,
    ComponentStatus,
    IncidentTemplate,
    Integration,
    IntegrationKind,
    RuleMode,
    User,
)
from statuspage.models.audit import record


def bearer_url() -> str:
    """Where a sender that sets ``Authorization: Bearer <secret>`` posts."""
    return f"{current_app.config['BASE_URL']}/integrations"


def intake_url(secret: str) -> str:
    """The full URL a sender posts to, the secret in its path."""
    return f"{bearer_url()}/{secret}"


def _kind(value: str) -> IntegrationKind:
    try:
        return IntegrationKind(value)
    except ValueError:
        raise ValidationError({"kind": f"must be one of {', '.join(IntegrationKind)}"}) from None


def create(*, actor: User | None, kind: str, name: str) -> tuple[Integration, str]:
    """A new integration and its secret (in clear, this once)."""
    parsed = _kind(kind)
    clean = text_rules.check_line("name", name, workflow.MAX_NAME)
    integration = Integration(kind=parsed, name=clean)
    secret = integration.new_secret()
    db.session.add(integration)
    db.session.flush()
    record(
        actor,
        "integration.create",
        "integration",
        str(integration.id),
        None,
        {"kind": str(parsed), "name": clean},
    )
    db.session.commit()
    return integration, secret


def get(integration_id: int) -> Integration:
    integration = db.session.get(Integration, integration_id)
    if integration is None:
        raise NotFound(f"integration {integration_id}")
    return integration


def rotate(*, actor: User | None, integration_id: int) -> tuple[Integration, str]:
    """A new secret; the old URL and token stop working at once."""
    integration = get(integration_id)
    secret = integration.new_secret()
    integration.rotated_at = now()
    record(actor, "integration.rotate", "integration", str(integration.id))
    db.session.commit()
    return integration, secret


def delete(*, actor: User | None, integration_id: int) -> None:
    integration = get(integration_id)
    record(
        actor,
        "integration.delete",
        "integration",
        str(integration.id),
        {"kind": str(integration.kind), "name": integration.name},
        None,
    )
    db.session.delete(integration)
    db.session.commit()


def rule_snapshot(rule: AlertRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "matchers": rule.matchers,
        "component_ids": rule.component_ids,
        "component_status": rule.component_status,
        "impact": rule.impact,
        "mode": str(rule.mode),
        "template_id": rule.template_id,
    }


def _validated(fields: Mapping[str, Any]) -> dict[str, Any]:
    errors = Errors()
    clean: dict[str, Any] = {
        "name": errors.check(text_rules.check_line, "name", fields.get("name"), workflow.MAX_NAME),
        "matchers": errors.check(parse_matchers, fields.get("matchers") or ""),
        "impact": errors.check(workflow.parse_impact, fields.get("impact")),
    }
    try:
        clean["mode"] = RuleMode(fields.get("mode"))
    except ValueError:
        errors.errors["mode"] = f"must be one of {', '.join(RuleMode)}"
    try:
        clean["component_status"] = str(ComponentStatus(fields.get("component_status")))
    except ValueError:
        errors.errors["component_status"] = f"must be one of {', '.join(ComponentStatus)}"
    ids = [str(c) for c in fields.get("component_ids") or []]
    found = set(db.session.scalars(select(Component.id).where(Component.id.in_(ids))))
    if set(ids) - found:
        errors.errors["component_ids"] = "no such component"
    if not ids:
        errors.errors["component_ids"] = "choose at least one component"
    clean["component_ids"] = ids
    template_id = fields.get("template_id")
    if template_id and db.session.get(IncidentTemplate, template_id) is None:
        errors.errors["template_id"] = "no such template"
    clean["template_id"] = template_id or None
    if not clean["matchers"] and "matchers" not in errors.errors:
        errors.errors["matchers"] = 'write at least one matcher, e.g. service="api"'
    errors.raise_any()
    return clean


def save_rule(
    *,
    actor: User | None,
    fields: Mapping[str, Any],
    integration_id: int | None = None,
    rule_id: int | None = None,
) -> AlertRule:
    """Create a rule on an integration, or change an existing one."""
    clean = _validated(fields)
    if rule_id is not None:
        rule = db.session.get(AlertRule, rule_id)
        if rule is None:
            raise NotFound(f"rule {rule_id}")
        before: dict[str, Any] | None = rule_snapshot(rule)
    else:
        integration = get(integration_id or 0)
        position = db.session.scalar(
            select(func.coalesce(func.max(AlertRule.position), -1)).where(
                AlertRule.integration_id == integration.id
            )
        )
        rule = AlertRule(integration_id=integration.id, position=position + 1)
        db.session.add(rule)
        before = None
    for key, value in clean.items():
        setattr(rule, key, value)
    db.session.flush()
    action = "alert_rule.update" if before else "alert_rule.create"
    record(actor, action, "alert_rule", str(rule.id), before, rule_snapshot(rule))
    db.session.commit()
    return rule


def delete_rule(*, actor: User | None, rule_id: int) -> int:
    """Remove a rule; returns its integration's id. Drafts it opened stay."""
    rule = db.session.get(AlertRule, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id}")
    integration_id = rule.integration_id
    record(actor, "alert_rule.delete", "alert_rule", str(rule.id), rule_snapshot(rule), None)
    db.session.delete(rule)
    db.session.commit()
    return integration_id
