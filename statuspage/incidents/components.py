"""Managing components and groups, including a status set by hand outside any incident.

Every change is audited and asks for a new public snapshot; a status change is appended
to ``ComponentStatusChange`` with cause "manual", so uptime stays computed from history.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import workflow
from statuspage.incidents.republish import request_publish
from statuspage.incidents.service import Errors, set_component_status
from statuspage.incidents.workflow import Conflict
from statuspage.lib.clock import now
from statuspage.models import (
    AffectedComponent,
    ChangeCause,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    User,
)
from statuspage.models.audit import record
from statuspage.models.incidents import incident_component
from statuspage.text_rules import check_line, check_text, storable

COMPONENT_FIELDS = (
    "name",
    "description",
    "status",
    "group_id",
    "position",
    "showcase",
    "only_show_if_degraded",
)
MAX_POSITION = 1_000_000


def component_snapshot(component: Component) -> dict[str, Any]:
    snap = {f: getattr(component, f) for f in COMPONENT_FIELDS}
    snap["status"] = str(component.status)
    return snap


def group_snapshot(group: ComponentGroup) -> dict[str, Any]:
    return {"name": group.name, "description": group.description, "position": group.position}


def _check_bool(field: str, value: object, errors: Errors) -> bool | None:
    if isinstance(value, bool):
        return value
    errors.errors[field] = "must be true or false"
    return None


def _check_position(value: object, errors: Errors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POSITION:
        errors.errors["position"] = f"must be a whole number from 0 to {MAX_POSITION}"
        return None
    return value


def _validated(fields: Mapping[str, Any], errors: Errors) -> dict[str, Any]:
    """Check the fields that are present; absent ones are left as they are."""
    clean: dict[str, Any] = {}
    for key in fields:
        if key not in COMPONENT_FIELDS:
            errors.errors[key] = "is not a component field"
    if "name" in fields:
        clean["name"] = errors.check(check_line, "name", fields["name"], workflow.MAX_NAME)
    if "description" in fields:
        clean["description"] = _description(fields["description"], errors)
    if "status" in fields:
        try:
            clean["status"] = ComponentStatus(fields["status"])
        except ValueError:
            errors.errors["status"] = f"must be one of {', '.join(ComponentStatus)}"
    if "group_id" in fields:
        group_id = fields["group_id"]
        if group_id in (None, ""):
            clean["group_id"] = None
        elif (
            not isinstance(group_id, str)
            or not storable(group_id)
            or db.session.get(ComponentGroup, group_id) is None
        ):
            errors.errors["group_id"] = "no such group"
        else:
            clean["group_id"] = group_id
    if "position" in fields:
        clean["position"] = _check_position(fields["position"], errors)
    for flag in ("showcase", "only_show_if_degraded"):
        if flag in fields:
            clean[flag] = _check_bool(flag, fields[flag], errors)
    return clean


def _description(value: object, errors: Errors) -> str | None:
    if value is None:
        return None
    try:
        text = check_text("description", value, workflow.MAX_DESCRIPTION, required=False)
    except ValidationError as exc:
        errors.errors.update(exc.errors)
        return None
    return text or None


def create_component(*, actor: User | None, fields: Mapping[str, Any]) -> Component:
    errors = Errors()
    if "name" not in fields:
        errors.errors["name"] = "must not be empty"
    clean = _validated(fields, errors)
    errors.raise_any()
    status = clean.pop("status", ComponentStatus.OPERATIONAL)
    if "position" not in clean:
        clean["position"] = (
            db.session.scalar(select(func.coalesce(func.max(Component.position), -1))) + 1
        )
    component = Component(**clean, status=status)
    db.session.add(component)
    db.session.flush()
    at = now()
    db.session.add(
        ComponentStatusChange(
            component_id=component.id,
            old_status=None,
            new_status=status,
            cause=ChangeCause.MANUAL,
            created_at=at,
        )
    )
    record(
        actor, "component.create", "component", component.id, None, component_snapshot(component)
    )
    request_publish(f"component {component.id} created")
    db.session.commit()
    return component


def update_component(
    *, actor: User | None, component_id: str, fields: Mapping[str, Any]
) -> Component:
    """Change any of the fields; a new status is a manual status change."""
    component = db.session.get(Component, component_id, with_for_update=True)
    if component is None:
        db.session.rollback()
        raise NotFound(f"component {component_id}")
    errors = Errors()
    clean = _validated(fields, errors)
    errors.raise_any()
    before = component_snapshot(component)
    status = clean.pop("status", None)
    for key, value in clean.items():
        setattr(component, key, value)
    if status is not None:
        set_component_status(component, status, ChangeCause.MANUAL, now())
    after = component_snapshot(component)
    if after == before:
        db.session.rollback()
        return component
    component.updated_at = now()
    changed = [k for k in after if before[k] != after[k]]
    action = "component.status" if changed == ["status"] else "component.update"
    record(
        actor,
        action,
        "component",
        component.id,
        {k: before[k] for k in changed},
        {k: after[k] for k in changed},
    )
    request_publish(f"component {component.id} changed")
    db.session.commit()
    return component


def delete_component(*, actor: User | None, component_id: str) -> None:
    """Remove a component that no incident ever named; one with history must stay, because
    published updates refer to it."""
    component = db.session.get(Component, component_id, with_for_update=True)
    if component is None:
        db.session.rollback()
        raise NotFound(f"component {component_id}")
    named = db.session.scalar(
        select(func.count())
        .select_from(AffectedComponent)
        .where(AffectedComponent.component_id == component_id)
    )
    if named:
        db.session.rollback()
        raise Conflict("the component is named by published incident updates")
    db.session.execute(
        ComponentStatusChange.__table__.delete().where(
            ComponentStatusChange.component_id == component_id
        )
    )
    db.session.execute(
        incident_component.delete().where(incident_component.c.component_id == component_id)
    )
    record(actor, "component.delete", "component", component.id, component_snapshot(component))
    db.session.delete(component)
    request_publish(f"component {component_id} deleted")
    db.session.commit()


def save_group(
    *,
    actor: User | None,
    name: str,
    description: str | None = None,
    position: int | None = None,
    group_id: str | None = None,
) -> ComponentGroup:
    group = db.session.get(ComponentGroup, group_id) if group_id else None
    if group_id and group is None:
        raise NotFound(f"group {group_id}")
    errors = Errors()
    clean_name = errors.check(check_line, "name", name, workflow.MAX_NAME)
    clean_description = _description(description, errors)
    clean_position = _check_position(position, errors) if position is not None else None
    errors.raise_any()
    before = group_snapshot(group) if group else None
    if group is None:
        if clean_position is None:
            top = select(func.coalesce(func.max(ComponentGroup.position), -1))
            clean_position = db.session.scalar(top) + 1
        group = ComponentGroup()
        db.session.add(group)
    group.name, group.description = clean_name, clean_description
    if clean_position is not None:
        group.position = clean_position
    db.session.flush()
    action = "group.update" if before else "group.create"
    record(actor, action, "component_group", group.id, before, group_snapshot(group))
    request_publish(f"group {group.id} saved")
    db.session.commit()
    return group


def delete_group(*, actor: User | None, group_id: str) -> None:
    """Removing a group keeps its components; they move to the top level."""
    group = db.session.get(ComponentGroup, group_id)
    if group is None:
        raise NotFound(f"group {group_id}")
    for component in list(group.components):
        component.group_id = None
    record(actor, "group.delete", "component_group", group.id, group_snapshot(group))
    db.session.delete(group)
    request_publish(f"group {group_id} deleted")
    db.session.commit()
