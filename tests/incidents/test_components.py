"""Components managed by hand: every change audited, a status change recorded with cause
"manual", and published through the page-change queue like any other change."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import components as service
from statuspage.incidents import service as incidents
from statuspage.incidents.workflow import Conflict
from statuspage.models import (
    AuditEvent,
    Component,
    ComponentGroup,
    ComponentStatusChange,
    PublishRequest,
)
from tests.conftest import wait_for


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_manual_status_change_is_recorded_and_queued_for_the_page(app, cast, components):
    api = components["API"]
    service.update_component(
        actor=cast["admin"], component_id=api, fields={"status": "degraded_performance"}
    )
    (change,) = db.session.scalars(select(ComponentStatusChange)).all()
    assert (change.old_status, change.new_status, change.cause) == (
        "operational",
        "degraded_performance",
        "manual",
    )
    assert change.incident_update_id is None
    audit = db.session.scalars(select(AuditEvent)).one()
    assert (audit.action, audit.before, audit.after) == (
        "component.status",
        {"status": "operational"},
        {"status": "degraded_performance"},
    )
    assert db.session.scalars(select(PublishRequest.published_at)).all() == [None]


def test_the_worker_publishes_a_manual_change(app, client, cast, components, start_worker):
    start_worker()
    service.update_component(
        actor=cast["admin"], component_id=components["Webhooks"], fields={"status": "major_outage"}
    )

    def published() -> bool:
        doc = client.get("/api/v2/components.json")
        if doc.status_code != 200:
            return False
        return any(
            c["name"] == "Webhooks" and c["status"] == "major_outage"
            for c in doc.json["components"]
        )

    wait_for(published, timeout=20, interval=0.1)
    db.session.expire_all()
    wait_for(
        lambda: (
            db.session.scalars(select(PublishRequest.published_at)).one() or db.session.expire_all()
        )
    )


def test_create_edit_and_order(app, cast, components):
    group = service.save_group(actor=cast["admin"], name="Edge", description="CDN and DNS")
    cdn = service.create_component(
        actor=cast["admin"],
        fields={"name": "CDN", "group_id": group.id, "status": "partial_outage"},
    )
    service.update_component(
        actor=cast["admin"], component_id=cdn.id, fields={"position": 7, "description": "Edge"}
    )
    db.session.expire_all()
    cdn = db.session.get(Component, cdn.id)
    assert (cdn.position, cdn.description, cdn.status, cdn.group.name) == (
        7,
        "Edge",
        "partial_outage",
        "Edge",
    )
    first = db.session.scalars(
        select(ComponentStatusChange).where(ComponentStatusChange.component_id == cdn.id)
    ).one()
    assert (first.old_status, first.new_status, first.cause) == (None, "partial_outage", "manual")
    service.delete_group(actor=cast["admin"], group_id=group.id)
    db.session.expire_all()
    assert db.session.get(Component, cdn.id).group_id is None
    assert db.session.get(ComponentGroup, group.id) is None


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"name": ""}, "name"),
        ({"name": "X", "status": "kaput"}, "status"),
        ({"name": "X", "group_id": "nosuchgroup"}, "group_id"),
        ({"name": "X", "position": -1}, "position"),
        ({"name": "X", "showcase": "yes"}, "showcase"),
        ({"name": "X", "colour": "red"}, "colour"),
    ],
)
def test_bad_component_input_writes_nothing(app, cast, components, fields, field):
    before = (count(Component), count(AuditEvent), count(PublishRequest))
    with pytest.raises(ValidationError) as refused:
        service.create_component(actor=cast["admin"], fields=fields)
    assert field in refused.value.errors
    assert (count(Component), count(AuditEvent), count(PublishRequest)) == before


def test_a_component_named_by_an_update_cannot_be_deleted(app, cast, components):
    incidents.open_incident(
        actor=None,
        name="x",
        impact="minor",
        body="y",
        components={components["API"]: "major_outage"},
    )
    with pytest.raises(Conflict):
        service.delete_component(actor=cast["admin"], component_id=components["API"])
    service.delete_component(actor=cast["admin"], component_id=components["Website"])
    with pytest.raises(NotFound):
        service.delete_component(actor=cast["admin"], component_id=components["Website"])
    db.session.expire_all()
    assert db.session.get(Component, components["API"]) is not None
