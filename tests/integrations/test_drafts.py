"""Drafts in the admin: one-click publish, editing, discarding; a draft stays out of every
public artefact until an operator publishes it."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import func, select

from statuspage import accounts
from statuspage.extensions import db
from statuspage.integrations import intake, payloads
from statuspage.models import (
    Delivery,
    DraftState,
    Incident,
    IncidentDraft,
    IntegrationKind,
    Page,
    SubscriberKind,
    TargetKind,
)
from statuspage.publishing.snapshot import publish
from tests.fakes.fixtures import add_subscriber, connect
from tests.integrations.helpers import fixture, integration_with_rule
from tests.signin import csrf_token, sign_in

NAME = "Investigating issues with Platform - API"


def alert_draft(components) -> IncidentDraft:
    integration, _ = integration_with_rule("alertmanager", components, 'service="api"')
    alerts = payloads.parse(IntegrationKind.ALERTMANAGER, fixture("alertmanager_firing.json"))
    (draft_id,) = intake.receive(integration.id, alerts).drafts
    return db.session.get(IncidentDraft, draft_id)


def public_files(app) -> dict[str, str]:
    current = Path(app.config["PUBLISH_DIR"]) / "current"
    found = [
        Path(folder) / name
        for folder, _, names in os.walk(current, followlinks=True)  # history is linked in
        for name in names
    ]
    return {
        str(p.relative_to(current)): p.read_text()
        for p in found
        if not p.name.endswith(".gz") and p.suffix != ".css"
    }


def test_a_draft_stays_out_of_every_public_artefact(app, client, cast, components, wired):
    connect(wired, "slack", "webhook", "x", "mastodon")
    add_subscriber(SubscriberKind.EMAIL, "follower@example.com")
    token = accounts.create_token(cast["admin"], "automation")
    page_id = Page.get().id
    db.session.commit()
    draft = alert_draft(components)

    publish()
    files = public_files(app)
    assert "index.html" in files and "api/v2/summary.json" in files
    leaks = [path for path, text in files.items() if draft.id in text or NAME in text]
    assert leaks == []
    for path in ("/api/v2/incidents.json", "/api/v2/incidents/unresolved.json", "/history.rss"):
        assert NAME not in client.get(path).get_data(as_text=True)
    v1 = client.get(
        f"/api/v1/pages/{page_id}/incidents", headers={"Authorization": f"OAuth {token}"}
    )
    assert v1.status_code == 200 and v1.get_json() == []
    assert client.get(f"/incidents/{draft.id}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0
    kinds = db.session.scalars(select(Delivery.target_kind)).all()
    assert set(kinds) <= {TargetKind.ALERT}  # only the operators were told

    # Published, it is everywhere: the checks above can see it.
    draft.state = DraftState.OPEN
    from statuspage.integrations import drafts

    drafts.publish(actor=cast["responder"], draft_id=draft.id)
    publish()
    assert any(NAME in text for text in public_files(app).values())
    assert {TargetKind.PAGE, TargetKind.CHANNEL, TargetKind.SUBSCRIBER} <= set(
        db.session.scalars(select(Delivery.target_kind))
    )


def test_one_click_publishes_the_draft_as_the_incident(app, client, cast, components):
    draft = alert_draft(components)
    sign_in(client, "rob@example.com")
    token = csrf_token(client, f"/admin/drafts/{draft.id}")
    response = client.post(f"/admin/drafts/{draft.id}/publish", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/incidents/{draft.id}")
    db.session.expire_all()
    incident = db.session.get(Incident, draft.id)
    assert incident.name == NAME and incident.impact == "major"
    assert [c.id for c in incident.components] == [components["API"]]
    assert incident.problem_started_at == draft.problem_started_at
    assert incident.first_posted_at is not None
    assert db.session.get(IncidentDraft, draft.id).state == DraftState.PUBLISHED
    # A second click finds nothing left to publish.
    again = client.post(f"/admin/drafts/{draft.id}/publish", data={"csrf_token": token})
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 1


def test_a_draft_is_edited_before_publishing_and_bad_input_writes_nothing(
    app, client, cast, components
):
    draft = alert_draft(components)
    sign_in(client, "rob@example.com")
    token = csrf_token(client, f"/admin/drafts/{draft.id}")
    form = {
        "csrf_token": token,
        "name": "API errors",
        "impact": "minor",
        "status": "identified",
        "body": "Some API requests fail; a fix is being deployed.",
        f"component-{components['API']}": "degraded_performance",
        "action": "publish",
    }
    bad = client.post(f"/admin/drafts/{draft.id}", data={**form, "status": "resolved"})
    assert bad.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0
    db.session.expire_all()
    assert db.session.get(IncidentDraft, draft.id).name == NAME
    ok = client.post(f"/admin/drafts/{draft.id}", data=form)
    assert ok.status_code == 302
    incident = db.session.get(Incident, draft.id)
    assert (incident.name, incident.impact, incident.status) == (
        "API errors",
        "minor",
        "identified",
    )
    assert incident.components[0].status == "degraded_performance"


def test_a_discarded_draft_publishes_nothing(app, client, cast, components):
    draft = alert_draft(components)
    sign_in(client, "rob@example.com")
    token = csrf_token(client, f"/admin/drafts/{draft.id}")
    assert (
        client.post(f"/admin/drafts/{draft.id}/discard", data={"csrf_token": token}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(IncidentDraft, draft.id).state == DraftState.DISCARDED
    client.post(f"/admin/drafts/{draft.id}/publish", data={"csrf_token": token})
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_viewers_see_drafts_but_cannot_publish_them(app, client, cast, components):
    draft = alert_draft(components)
    sign_in(client, "vera@example.com")
    page = client.get(f"/admin/drafts/{draft.id}")
    assert page.status_code == 200 and NAME in page.get_data(as_text=True)
    assert "Publish now" not in page.get_data(as_text=True)
    token = csrf_token(client, "/admin/")
    assert (
        client.post(f"/admin/drafts/{draft.id}/publish", data={"csrf_token": token}).status_code
        == 403
    )
    assert NAME in client.get("/admin/").get_data(as_text=True)  # the dashboard lists it
