"""Published text is append-only: edits keep revisions, postmortems follow resolution."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from statuspage.errors import NotFound, ValidationError
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.incidents.workflow import Conflict
from statuspage.models import (
    AuditEvent,
    Delivery,
    Incident,
    IncidentUpdate,
    IncidentUpdateRevision,
    PublishRequest,
)


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def incident(app, cast, components):
    return service.open_incident(
        actor=cast["responder"], name="Slow API", impact="minor", body="Lookng into it."
    )


def test_editing_keeps_the_earlier_text_and_asks_for_a_republish(incident, cast):
    (update,) = incident.updates
    service.edit_update(actor=cast["responder"], update_id=update.id, body="Looking into it.")
    db.session.expire_all()
    update = db.session.get(IncidentUpdate, update.id)
    assert update.body == "Looking into it."
    assert [r.body for r in update.revisions] == ["Lookng into it."]
    assert update.revisions[0].author_id == cast["responder"].id
    assert update.updated_at > update.created_at
    (request,) = db.session.scalars(select(PublishRequest)).all()
    assert request.published_at is None
    audit = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "incident.update_edit")
    ).one()
    assert (audit.before, audit.after) == (
        {"body": "Lookng into it."},
        {"body": "Looking into it."},
    )
    # A correction of text does not re-send the update to channels.
    assert count(Delivery) == 1


def test_an_unchanged_or_empty_edit_writes_nothing(incident, cast):
    (update,) = incident.updates
    service.edit_update(actor=None, update_id=update.id, body=" Lookng into it. ")
    with pytest.raises(ValidationError):
        service.edit_update(actor=None, update_id=update.id, body="   ")
    with pytest.raises(NotFound):
        service.edit_update(actor=None, update_id="nosuchupdate", body="x")
    assert count(IncidentUpdateRevision) == 0
    assert count(PublishRequest) == 0


def test_a_postmortem_needs_a_resolved_incident(incident, cast):
    with pytest.raises(Conflict):
        service.publish_postmortem(actor=None, incident_id=incident.id, body="What happened")
    service.resolve(actor=cast["responder"], incident_id=incident.id, body="Fixed.")
    service.publish_postmortem(actor=cast["responder"], incident_id=incident.id, body="# Why")
    db.session.expire_all()
    row = db.session.get(Incident, incident.id)
    assert (row.status, row.postmortem_body) == ("postmortem", "# Why")
    first_published = row.postmortem_published_at
    service.publish_postmortem(actor=cast["responder"], incident_id=incident.id, body="# Why, v2")
    db.session.expire_all()
    row = db.session.get(Incident, incident.id)
    assert row.postmortem_body == "# Why, v2"
    assert row.postmortem_published_at == first_published
    assert count(PublishRequest) == 2


def test_the_update_interval_applies_from_the_next_update(incident, cast):
    promised = incident.next_update_due
    service.set_update_interval(actor=cast["responder"], incident_id=incident.id, minutes=10)
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).next_update_due == promised
    update = service.post_update(
        actor=cast["responder"], incident_id=incident.id, status="identified", body="Found it"
    )
    assert (update.next_update_due - update.created_at).total_seconds() == 600
    with pytest.raises(ValidationError):
        service.set_update_interval(actor=None, incident_id=incident.id, minutes=2)


def test_renaming_is_audited_and_republished(incident, cast):
    service.update_details(actor=cast["admin"], incident_id=incident.id, name="Slow API calls")
    with pytest.raises(ValidationError):
        service.update_details(actor=None, incident_id=incident.id, impact="apocalyptic")
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).name == "Slow API calls"
    assert count(PublishRequest) == 1
