"""Reply templates: prepared answers with ``{variables}`` filled from the item and the
incident it is linked to.

Only the names in ``VARIABLES`` are allowed, as plain ``{name}`` fields: no attribute
access, indexing, conversions or format specs, so a template can never reach into the
objects behind the values.
"""

from __future__ import annotations

import string

from flask import current_app

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents.service import Errors
from statuspage.incidents.workflow import MAX_NAME
from statuspage.lib.timefmt import human
from statuspage.messages import incident_url
from statuspage.models import InboxItem, Page, ReplyTemplate, User
from statuspage.models.audit import record
from statuspage.text_rules import check_line, check_text, one_line

MAX_TEMPLATE = 5_000
VARIABLES = {
    "author": "the customer's @handle (or name)",
    "incident_name": "the linked incident's title",
    "incident_url": "the linked incident's public page",
    "incident_status": "the linked incident's status",
    "next_update": "when the linked incident's next update is due",
    "page_name": "this status page's name",
    "status_url": "this status page",
    "report_url": "the public problem report form",
}
INCIDENT_VARIABLES = {"incident_name", "incident_url", "incident_status", "next_update"}


def fields_of(body: str, field: str = "body") -> set[str]:
    """The variables ``body`` uses; anything else in braces is refused with a clear error."""
    used = set()
    try:
        parsed = list(string.Formatter().parse(body))
    except ValueError:
        raise ValidationError(
            {field: "has an unmatched { or }; write {{ or }} for a brace"}
        ) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in VARIABLES or spec or conversion:
            raise ValidationError(
                {field: f"unknown variable {{{name}}}; use one of {', '.join(VARIABLES)}"}
            )
        used.add(name)
    return used


def values_for(item: InboxItem) -> dict[str, str]:
    base = current_app.config["BASE_URL"]
    values = {
        "author": item.author if item.author_handle or item.author_name else "there",
        "page_name": one_line(Page.get().name),
        "status_url": base + "/",
        "report_url": base + "/report",
    }
    incident = item.incident
    if incident is not None:
        values.update(
            incident_name=one_line(incident.name),
            incident_url=incident_url(incident.id),
            incident_status=str(incident.status).replace("_", " "),
            next_update=human(incident.next_update_due) or "when there is news",
        )
    return values


def fill(body: str, item: InboxItem, field: str = "body") -> str:
    """``body`` with its variables filled for ``item``."""
    used = fields_of(body, field)
    if used & INCIDENT_VARIABLES and item.incident is None:
        raise ValidationError(
            {field: "link the item to an incident first: the text names the incident"}
        )
    return body.format_map(values_for(item))


def _fields(template: ReplyTemplate) -> dict[str, str]:
    return {"name": template.name, "body": template.body}


def save(
    *, actor: User | None, name: str, body: str, template_id: int | None = None
) -> ReplyTemplate:
    template = db.session.get(ReplyTemplate, template_id) if template_id else None
    if template_id and template is None:
        raise NotFound(f"reply template {template_id}")
    errors = Errors()
    clean_name = errors.check(check_line, "name", name, MAX_NAME)
    clean_body = errors.check(check_text, "body", body, MAX_TEMPLATE)
    if clean_body:
        errors.check(fields_of, clean_body)
    if clean_name:
        clash = db.session.scalars(
            db.select(ReplyTemplate).where(ReplyTemplate.name == clean_name)
        ).first()
        if clash is not None and clash is not template:
            errors.errors["name"] = "a reply template with this name exists"
    errors.raise_any()
    assert clean_name and clean_body
    before = _fields(template) if template else None
    if template is None:
        template = ReplyTemplate()
        db.session.add(template)
    template.name, template.body = clean_name, clean_body
    db.session.flush()
    action = "reply_template.update" if before else "reply_template.create"
    record(actor, action, "reply_template", str(template.id), before, _fields(template))
    db.session.commit()
    return template


def delete(*, actor: User | None, template_id: int) -> None:
    template = db.session.get(ReplyTemplate, template_id)
    if template is None:
        raise NotFound(f"reply template {template_id}")
    record(actor, "reply_template.delete", "reply_template", str(template.id), _fields(template))
    db.session.delete(template)
    db.session.commit()


def all_templates() -> list[ReplyTemplate]:
    return list(db.session.scalars(db.select(ReplyTemplate).order_by(ReplyTemplate.name)))
