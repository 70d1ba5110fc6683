"""Incident templates: prepared titles and messages for the situations that recur."""

from __future__ import annotations

from statuspage.errors import NotFound
from statuspage.extensions import db
from statuspage.incidents import workflow
from statuspage.incidents.service import Errors
from statuspage.models import IncidentTemplate, User
from statuspage.models.audit import record
from statuspage.text_rules import check_line, check_text

TEMPLATE_STATUSES = workflow.INCIDENT_STATUSES + workflow.MAINTENANCE_STATUSES


def _fields(template: IncidentTemplate) -> dict[str, str]:
    return {
        "name": template.name,
        "title": template.title,
        "status": str(template.status),
        "body": template.body,
    }


def save(
    *,
    actor: User | None,
    name: str,
    title: str,
    status: str,
    body: str,
    template_id: int | None = None,
) -> IncidentTemplate:
    """Create a template, or replace the fields of ``template_id``."""
    template = db.session.get(IncidentTemplate, template_id) if template_id else None
    if template_id and template is None:
        raise NotFound(f"template {template_id}")
    errors = Errors()
    clean_name = errors.check(check_line, "name", name, workflow.MAX_NAME)
    clean_title = errors.check(check_line, "title", title, workflow.MAX_NAME)
    clean_body = errors.check(check_text, "body", body, workflow.MAX_BODY)
    parsed_status = errors.check(workflow.parse_status, status, TEMPLATE_STATUSES)
    if clean_name:
        clash = db.session.scalars(
            db.select(IncidentTemplate).where(IncidentTemplate.name == clean_name)
        ).first()
        if clash is not None and clash is not template:
            errors.errors["name"] = "a template with this name exists"
    errors.raise_any()
    assert clean_name and clean_title and clean_body and parsed_status
    before = _fields(template) if template else None
    if template is None:
        template = IncidentTemplate()
        db.session.add(template)
    template.name, template.title = clean_name, clean_title
    template.status, template.body = parsed_status, clean_body
    db.session.flush()
    action = "template.update" if before else "template.create"
    record(actor, action, "incident_template", str(template.id), before, _fields(template))
    db.session.commit()
    return template


def delete(*, actor: User | None, template_id: int) -> None:
    """Templates are drafting aids, not published text, so they can be removed."""
    template = db.session.get(IncidentTemplate, template_id)
    if template is None:
        raise NotFound(f"template {template_id}")
    record(actor, "template.delete", "incident_template", str(template.id), _fields(template))
    db.session.delete(template)
    db.session.commit()


def all_templates() -> list[IncidentTemplate]:
    return list(db.session.scalars(db.select(IncidentTemplate).order_by(IncidentTemplate.name)))
