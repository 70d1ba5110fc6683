"""Draft incidents: written from a rule's template when alerts fire, edited, published with
one click (the draft becomes the incident, under the same id), or discarded.

A draft is invisible outside the admin: it lives in its own table, which no part of the
public snapshot, the APIs, the feeds or the outbox reads. Only ``publish`` makes an
incident of it, through the same service an operator's form uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from jinja2 import ChainableUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from statuspage import text_rules
from statuspage.alerts import notify_operators
from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import service, workflow
from statuspage.incidents.service import Errors
from statuspage.incidents.workflow import Conflict
from statuspage.lib.clock import now
from statuspage.models import (
    AlertKind,
    AlertRule,
    Component,
    DraftSource,
    DraftState,
    Incident,
    IncidentDraft,
    IncidentStatus,
    IncidentTemplate,
    User,
)
from statuspage.models.audit import record

_templates = SandboxedEnvironment(undefined=ChainableUndefined, autoescape=False)
EDITABLE = ("name", "impact", "status", "body", "components", "notify")


def draft_link(draft_id: str) -> str:
    return f"/admin/drafts/{draft_id}"


def render_text(source: str, context: Mapping[str, Any]) -> str:
    """A template's text with ``{{ labels.service }}``-style values filled in; a template
    that does not render is used as written (an operator reads every draft anyway)."""
    try:
        return _templates.from_string(source).render(context).strip()
    except TemplateError:
        return source


def _component_names(ids: list[str]) -> str:
    rows = db.session.scalars(select(Component).where(Component.id.in_(ids))).all()
    return ", ".join(c.display_name for c in sorted(rows, key=lambda c: ids.index(c.id)))


def new_from_rule(
    rule: AlertRule, labels: Mapping[str, str], annotations: Mapping[str, str], started: datetime
) -> IncidentDraft:
    """A draft for ``rule`` from its template (or a plain default), in the caller's
    transaction, and an operator alert linking to it."""
    known = set(
        db.session.scalars(select(Component.id).where(Component.id.in_(rule.component_ids)))
    )
    component_ids = [c for c in rule.component_ids if c in known]
    names = _component_names(component_ids)
    template = db.session.get(IncidentTemplate, rule.template_id) if rule.template_id else None
    context = {"labels": dict(labels), "annotations": dict(annotations), "components": names}
    if template is not None:
        name = render_text(template.title, context)
        body = render_text(template.body, context)
        status = template.status
    else:
        name = f"Investigating issues with {names}" if names else rule.name
        body = (
            f"We are investigating issues with {names or 'our service'}. "
            "We will post an update as soon as we know more."
        )
        status = IncidentStatus.INVESTIGATING
    if status not in workflow.INCIDENT_STATUSES or status == IncidentStatus.RESOLVED:
        status = IncidentStatus.INVESTIGATING
    draft = IncidentDraft(
        source=DraftSource.ALERTS,
        rule_id=rule.id,
        name=text_rules.plain_line(name)[: workflow.MAX_NAME] or rule.name,
        impact=rule.impact,
        status=status,
        body=text_rules.strip_controls(body)[: workflow.MAX_BODY] or rule.name,
        components={c: rule.component_status for c in component_ids},
        problem_started_at=started,
    )
    return add(draft, {"rule": rule.name}, f"Alerts opened a draft incident: “{draft.name}”.")


def add(draft: IncidentDraft, about: dict[str, str], text: str) -> IncidentDraft:
    """Store a new draft in the caller's transaction and tell the operators where it is."""
    db.session.add(draft)
    db.session.flush()
    record(None, "draft.create", "incident_draft", draft.id, None, about)
    notify_operators(
        f"draft:{draft.id}", AlertKind.DRAFT, f"{text} Review and publish it.", draft_link(draft.id)
    )
    return draft


def active_for_rule(rule_id: int) -> IncidentDraft | None:
    """The draft alerts of this rule join: an open draft, or a published one whose incident
    is still open. Once it is resolved or discarded, the next firing alert starts anew."""
    for draft in db.session.scalars(
        select(IncidentDraft)
        .where(
            IncidentDraft.rule_id == rule_id,
            IncidentDraft.state.in_([DraftState.OPEN, DraftState.PUBLISHED]),
        )
        .order_by(IncidentDraft.created_at.desc())
        .limit(2)
    ):
        if draft.state == DraftState.OPEN:
            return draft
        incident = db.session.get(Incident, draft.id)
        if incident is not None and incident.is_open:
            return draft
    return None


def incident_of(draft: IncidentDraft) -> Incident | None:
    """The incident a published draft became."""
    return db.session.get(Incident, draft.id) if draft.state == DraftState.PUBLISHED else None


def propose_resolution(draft: IncidentDraft, at: datetime) -> None:
    """Every alert behind the draft has resolved: mark it and tell the operators, who
    resolve the incident (or discard the draft) with one click."""
    draft.alerts_resolved_at = at
    incident = incident_of(draft)
    if incident is not None and not incident.is_open:
        return
    if draft.state == DraftState.DISCARDED:
        return
    what = "the incident" if incident is not None else "the draft"
    notify_operators(
        f"resolved:{draft.id}:{int(at.timestamp())}",
        AlertKind.ALERTS_RESOLVED,
        f"The alerts behind “{draft.name}” have resolved. Resolve {what} with one click.",
        draft_link(draft.id),
    )


def get(draft_id: str) -> IncidentDraft:
    draft = db.session.get(IncidentDraft, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id}")
    return draft


def _locked_open(draft_id: str) -> IncidentDraft:
    draft = db.session.get(IncidentDraft, draft_id, with_for_update=True)
    if draft is None:
        db.session.rollback()
        raise NotFound(f"draft {draft_id}")
    if draft.state != DraftState.OPEN:
        db.session.rollback()
        raise Conflict(f"the draft is already {draft.state}")
    return draft


def _apply(draft: IncidentDraft, fields: Mapping[str, Any]) -> None:
    """Validate and set edited fields; every problem is reported at once."""
    errors = Errors()
    if "name" in fields:
        draft.name = errors.check(text_rules.check_line, "name", fields["name"], workflow.MAX_NAME)
    if "body" in fields:
        draft.body = errors.check(text_rules.check_text, "body", fields["body"], workflow.MAX_BODY)
    if "impact" in fields:
        draft.impact = errors.check(workflow.parse_impact, fields["impact"])
    if "status" in fields:
        parsed = errors.check(workflow.parse_status, fields["status"], workflow.INCIDENT_STATUSES)
        if parsed == IncidentStatus.RESOLVED:
            errors.errors["status"] = "a new incident cannot start resolved"
        draft.status = parsed
    if "components" in fields:
        chosen = service.load_components(fields["components"], errors)
        draft.components = {c.id: str(status) for c, status in chosen}
    if "notify" in fields:
        draft.notify = bool(fields["notify"])
    errors.raise_any()


def _snapshot(draft: IncidentDraft) -> dict[str, Any]:
    return {k: getattr(draft, k) for k in EDITABLE}


def save(*, actor: User, draft_id: str, fields: Mapping[str, Any]) -> IncidentDraft:
    draft = _locked_open(draft_id)
    before = {k: getattr(draft, k) for k in EDITABLE}
    _apply(draft, fields)
    record(
        actor,
        "draft.edit",
        "incident_draft",
        draft.id,
        before,
        {k: getattr(draft, k) for k in EDITABLE},
    )
    db.session.commit()
    return draft


def publish(*, actor: User, draft_id: str, fields: Mapping[str, Any] | None = None) -> Incident:
    """Open the incident the draft describes, under the draft's id, in one transaction with
    the draft's change of state: it is told to the page, channels and subscribers like any
    incident an operator opens."""
    draft = _locked_open(draft_id)
    if fields:
        _apply(draft, fields)
    at = now()
    draft.state, draft.published_at, draft.closed_by_id = DraftState.PUBLISHED, at, actor.id
    record(actor, "draft.publish", "incident_draft", draft.id, None, {"incident": draft.id})
    try:
        return service.open_incident(
            actor=actor,
            name=draft.name,
            impact=draft.impact,
            body=draft.body,
            status=draft.status,
            components=dict(draft.components or {}),
            notify=draft.notify,
            problem_started_at=draft.problem_started_at,
            incident_id=draft.id,
        )
    except ValidationError:
        db.session.rollback()
        raise


def discard(*, actor: User, draft_id: str) -> IncidentDraft:
    draft = _locked_open(draft_id)
    draft.state, draft.closed_by_id = DraftState.DISCARDED, actor.id
    record(actor, "draft.discard", "incident_draft", draft.id, None, {"name": draft.name})
    db.session.commit()
    return draft


def resolve_incident(*, actor: User, draft_id: str) -> Incident:
    """The one-click resolution the alerts proposed, for a published draft's incident."""
    incident = incident_of(get(draft_id))
    if incident is None or not incident.is_open:
        raise Conflict("there is no open incident to resolve")
    service.resolve(actor=actor, incident_id=incident.id, body="This incident has been resolved.")
    return incident


def open_drafts() -> list[IncidentDraft]:
    return list(
        db.session.scalars(
            select(IncidentDraft)
            .where(IncidentDraft.state == DraftState.OPEN)
            .order_by(IncidentDraft.created_at.desc())
        )
    )


def proposals() -> list[IncidentDraft]:
    """Published drafts whose alerts resolved while their incident is still open."""
    rows = db.session.scalars(
        select(IncidentDraft)
        .join(Incident, Incident.id == IncidentDraft.id)
        .where(
            IncidentDraft.state == DraftState.PUBLISHED,
            IncidentDraft.alerts_resolved_at.is_not(None),
            Incident.status.not_in(workflow.CLOSED_STATUSES),
        )
    )
    return list(rows)
