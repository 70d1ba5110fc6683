"""The incident service: one transaction per operator action, nothing written on bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import (
    AffectedComponent,
    AuditEvent,
    Component,
    ComponentStatusChange,
    Delivery,
    DeliveryState,
    Incident,
    IncidentUpdate,
)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def everything() -> dict[str, int]:
    return {
        m.__name__: count(m)
        for m in (
            Incident,
            IncidentUpdate,
            AffectedComponent,
            ComponentStatusChange,
            AuditEvent,
            Delivery,
        )
    }


def test_opening_writes_incident_update_changes_audit_and_outbox(app, cast, components):
    api = components["API"]
    incident = service.open_incident(
        actor=cast["responder"],
        name="API errors",
        impact="major",
        body="We are **investigating** elevated errors.",
        components={api: "partial_outage"},
    )
    db.session.expire_all()
    assert incident.status == "investigating"
    assert [c.name for c in incident.components] == ["API"]
    (update,) = incident.updates
    assert update.author_id == cast["responder"].id
    (affected,) = update.affected
    assert (affected.old_status, affected.new_status) == ("operational", "partial_outage")
    assert db.session.get(Component, api).status == "partial_outage"
    (change,) = db.session.scalars(select(ComponentStatusChange)).all()
    assert (change.cause, change.incident_update_id) == ("incident", update.id)
    (audit,) = db.session.scalars(select(AuditEvent)).all()
    assert (audit.action, audit.actor_label, audit.object_id) == (
        "incident.open",
        "rob@example.com",
        incident.id,
    )
    (delivery,) = db.session.scalars(select(Delivery)).all()
    assert (delivery.update_id, delivery.target_kind, delivery.state) == (
        update.id,
        "page",
        DeliveryState.PENDING,
    )


def test_next_update_is_promised_by_impact_or_override(app, cast, components):
    before = now()
    major = service.open_incident(actor=None, name="Down", impact="major", body="x")
    minor = service.open_incident(
        actor=None, name="Slow", impact="minor", body="x", update_interval=15
    )
    assert timedelta(minutes=30) <= major.next_update_due - before < timedelta(minutes=31)
    assert timedelta(minutes=15) <= minor.next_update_due - before < timedelta(minutes=16)
    assert major.updates[0].next_update_due == major.next_update_due


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "  "}, "name"),
        ({"body": ""}, "body"),
        ({"impact": "apocalyptic"}, "impact"),
        ({"status": "on_fire"}, "status"),
        ({"status": "resolved"}, "status"),
        ({"components": {"nosuchcompon": "major_outage"}}, "components.nosuchcompon"),
        ({"update_interval": 1}, "update_interval"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(app, cast, components, changes, field):
    args = dict(actor=cast["admin"], name="Outage", impact="minor", body="Looking into it")
    args.update(changes)
    with pytest.raises(ValidationError) as refused:
        service.open_incident(**args)
    assert field in refused.value.errors
    assert everything() == dict.fromkeys(everything(), 0)
    assert {c.status for c in db.session.scalars(select(Component))} == {"operational"}


def test_a_bad_component_status_names_the_component(app, cast, components):
    with pytest.raises(ValidationError) as refused:
        service.open_incident(
            actor=None,
            name="x",
            impact="minor",
            body="y",
            components={components["API"]: "kaput"},
        )
    assert f"components.{components['API']}" in refused.value.errors


def test_post_update_moves_status_and_components(app, cast, components):
    api, web = components["API"], components["Website"]
    incident = service.open_incident(
        actor=None,
        name="Errors",
        impact="minor",
        body="Investigating",
        components={api: "degraded_performance"},
    )
    service.post_update(
        actor=cast["responder"],
        incident_id=incident.id,
        status="identified",
        body="Found it",
        components={api: "major_outage", web: "degraded_performance"},
    )
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert incident.status == "identified"
    assert sorted(c.name for c in incident.components) == ["API", "Website"]
    assert count(ComponentStatusChange) == 3
    assert count(Delivery) == 2
    assert count(AuditEvent) == 2


def test_update_validation_writes_nothing(app, cast, components):
    incident = service.open_incident(actor=None, name="Errors", impact="minor", body="x")
    before = everything()
    with pytest.raises(ValidationError):
        service.post_update(actor=None, incident_id=incident.id, status="fixed", body="ok")
    with pytest.raises(NotFound):
        service.post_update(actor=None, incident_id="doesnotexist", status="identified", body="x")
    assert everything() == before


def test_resolve_returns_components_to_operational_unless_told(app, cast, components):
    api, web = components["API"], components["Website"]
    incident = service.open_incident(
        actor=None,
        name="Errors",
        impact="major",
        body="x",
        components={api: "major_outage", web: "partial_outage"},
    )
    service.resolve(
        actor=cast["responder"],
        incident_id=incident.id,
        body="Fixed.",
        components={web: "degraded_performance"},
    )
    db.session.expire_all()
    incident = db.session.get(Incident, incident.id)
    assert incident.status == "resolved"
    assert incident.resolved_at is not None
    assert incident.next_update_due is None
    assert db.session.get(Component, api).status == "operational"
    assert db.session.get(Component, web).status == "degraded_performance"


def test_an_update_that_resolves_means_the_same_as_resolve(app, cast, components):
    api, web = components["API"], components["Website"]
    incident = service.open_incident(
        actor=None,
        name="Errors",
        impact="major",
        body="x",
        components={api: "major_outage", web: "partial_outage"},
    )
    update = service.post_update(
        actor=cast["responder"],
        incident_id=incident.id,
        status="resolved",
        body="Fixed.",
        components={web: "degraded_performance"},
    )
    db.session.expire_all()
    assert db.session.get(Component, api).status == "operational"
    assert db.session.get(Component, web).status == "degraded_performance"
    after = {a.component_id: a.new_status for a in update.affected}
    assert after == {api: "operational", web: "degraded_performance"}
    # An update on an incident already closed moves nothing it was not told to.
    service.post_update(actor=None, incident_id=incident.id, status="resolved", body="Still fine.")
    db.session.expire_all()
    assert db.session.get(Component, web).status == "degraded_performance"
