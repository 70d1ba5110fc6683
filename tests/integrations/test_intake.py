"""Alerts posted to a running server: drafts with the mapped components, grouping by rule,
deduplication by fingerprint, resolution proposed, bad payloads refused and logged."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.integrations import drafts, registry
from statuspage.lib.clock import now
from statuspage.models import (
    AlertKind,
    Component,
    ComponentStatus,
    ComponentStatusChange,
    Delivery,
    DraftState,
    IncidentDraft,
    IncidentTemplate,
    IntakeLogEntry,
    Integration,
    OperatorAlert,
    ReceivedAlert,
)
from tests.channels.helpers import deliver, serve_at
from tests.fakes.fixtures import RECEIVER_PATH, connect
from tests.integrations.helpers import fixture, fixture_json, integration_with_rule
from tests.live import live_server


@pytest.fixture
def server(app):
    with live_server(app) as base:
        serve_at(app, base)
        yield base


def post(base: str, secret: str, body: bytes, *, bearer: bool = False) -> requests.Response:
    if bearer:
        return requests.post(
            f"{base}/integrations",
            data=body,
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
            timeout=10,
        )
    return requests.post(
        f"{base}/integrations/{secret}",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )


def only_draft() -> IncidentDraft:
    db.session.expire_all()
    return db.session.scalars(select(IncidentDraft)).one()


def test_an_alertmanager_payload_opens_one_draft_with_the_mapped_components(
    app, components, server, wired
):
    slack = connect(wired, "slack")["slack"]
    slack.operator_alerts = True
    db.session.commit()
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')

    response = post(server, secret, fixture("alertmanager_firing.json"), bearer=True)

    assert response.status_code == 202, response.text
    assert response.json()["firing"] == 2
    draft = only_draft()
    assert response.json()["drafts"] == [draft.id]
    assert draft.state == DraftState.OPEN
    assert draft.components == {components["API"]: "partial_outage"}
    assert (draft.impact, draft.status) == ("major", "investigating")
    assert draft.name == "Investigating issues with Platform - API"
    assert draft.problem_started_at.isoformat() == "2026-11-27T17:59:19+00:00"
    assert len(draft.alerts) == 2  # both alerts of the group share the rule: one draft
    # The operators hear of it through the outbox, with a link to the draft.
    (row,) = db.session.scalars(select(Delivery)).all()
    assert row.update_id is None
    deliver(row)
    (message,) = wired["slack"].messages()
    assert f"{server}/admin/drafts/{draft.id}" in message["blocks"][0]["text"]["text"]
    assert "opened a draft incident" in message["text"]


def test_grafanas_documented_payload_opens_a_draft(app, components, server):
    _, secret = integration_with_rule(
        "grafana", components, 'team="blue"', targets=("Website", "Dashboard")
    )
    response = post(server, secret, fixture("grafana_firing.json"))
    assert response.status_code == 202, response.text
    draft = only_draft()
    assert draft.components == {
        components["Website"]: "partial_outage",
        components["Dashboard"]: "partial_outage",
    }
    assert draft.problem_started_at.isoformat() == "2021-10-12T07:51:03.157076+00:00"


def test_a_repeated_payload_changes_nothing_and_alerts_nobody_again(app, components, server, wired):
    connect(wired, "slack")["slack"].operator_alerts = True
    db.session.commit()
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    post(server, secret, fixture("alertmanager_firing.json"))
    again = post(server, secret, fixture("alertmanager_firing.json"))
    assert again.status_code == 202
    assert again.json() == {
        "firing": 0,
        "resolved": 0,
        "duplicates": 2,
        "unmatched": 0,
        "drafts": [],
    }
    assert db.session.scalar(select(func.count()).select_from(IncidentDraft)) == 1
    assert db.session.scalar(select(func.count()).select_from(ReceivedAlert)) == 2
    assert db.session.scalar(select(func.count()).select_from(OperatorAlert)) == 1


def test_a_resolved_payload_proposes_resolution_of_the_draft(app, components, server):
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    post(server, secret, fixture("alertmanager_firing.json"))
    resolved = post(server, secret, fixture("alertmanager_resolved.json"))
    assert resolved.json()["resolved"] == 2
    draft = only_draft()
    assert draft.alerts_resolved_at is not None
    assert draft.state == DraftState.OPEN  # proposed, not done: an operator decides


def test_a_resolved_payload_proposes_resolving_the_published_incident(
    app, cast, components, server, wired
):
    connect(wired, "slack")["slack"].operator_alerts = True
    db.session.commit()
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    post(server, secret, fixture("alertmanager_firing.json"))
    incident = drafts.publish(actor=cast["responder"], draft_id=only_draft().id)
    assert incident.is_open

    post(server, secret, fixture("alertmanager_resolved.json"))

    db.session.expire_all()
    assert [d.id for d in drafts.proposals()] == [incident.id]
    kinds = db.session.scalars(select(OperatorAlert.kind).order_by(OperatorAlert.id)).all()
    assert kinds == [AlertKind.DRAFT, AlertKind.ALERTS_RESOLVED]
    resolved = drafts.resolve_incident(actor=cast["responder"], draft_id=incident.id)
    assert not resolved.is_open
    assert drafts.proposals() == []


def test_alerts_firing_again_while_the_incident_is_open_join_it(app, cast, components, server):
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    post(server, secret, fixture("alertmanager_firing.json"))
    incident = drafts.publish(actor=cast["responder"], draft_id=only_draft().id)
    post(server, secret, fixture("alertmanager_resolved.json"))
    refire = fixture_json("alertmanager_firing.json")
    for alert in refire["alerts"]:
        alert["startsAt"] = "2026-11-27T18:10:00Z"
    response = post(server, secret, json.dumps(refire).encode())
    assert response.json()["drafts"] == []
    draft = only_draft()
    assert draft.id == incident.id and draft.alerts_resolved_at is None


def test_an_alert_no_rule_matches_is_kept_and_changes_nothing(app, components, server):
    _, secret = integration_with_rule("alertmanager", components, 'service="billing"')
    response = post(server, secret, fixture("alertmanager_firing.json"))
    assert response.json()["unmatched"] == 2
    assert db.session.scalar(select(func.count()).select_from(IncidentDraft)) == 0
    assert db.session.scalar(select(func.count()).select_from(ReceivedAlert)) == 2


def test_an_automatic_rule_sets_component_statuses_and_restores_them(app, components, server):
    _, secret = integration_with_rule(
        "alertmanager",
        components,
        'severity="critical"',
        mode="automatic",
        component_status="major_outage",
    )
    post(server, secret, fixture("alertmanager_firing.json"))
    db.session.expire_all()
    api = db.session.get(Component, components["API"])
    assert api.status == ComponentStatus.MAJOR_OUTAGE
    assert db.session.scalar(select(func.count()).select_from(IncidentDraft)) == 0
    post(server, secret, fixture("alertmanager_resolved.json"))
    db.session.expire_all()
    assert db.session.get(Component, components["API"]).status == ComponentStatus.OPERATIONAL
    causes = db.session.scalars(
        select(ComponentStatusChange.cause).where(
            ComponentStatusChange.component_id == components["API"]
        )
    ).all()
    assert causes == ["automation", "automation"]


def test_bad_payloads_get_a_4xx_with_the_reason_and_are_logged(app, components, server):
    integration, secret = integration_with_rule("alertmanager", components, 'service="api"')
    not_json = post(server, secret, b"{oops")
    assert not_json.status_code == 400
    assert "not JSON" in not_json.json()["error"]
    wrong = post(server, secret, json.dumps({"version": "3", "alerts": []}).encode())
    assert wrong.status_code == 422
    assert wrong.json()["error"] == "Alertmanager webhook payload version 4 expected, got '3'"
    log = db.session.scalars(select(IntakeLogEntry).order_by(IntakeLogEntry.id)).all()
    assert [(e.status_code, e.excerpt) for e in log] == [
        (400, "{oops"),
        (422, '{"version": "3", "alerts": []}'),
    ]
    assert db.session.scalar(select(func.count()).select_from(ReceivedAlert)) == 0


def test_the_refused_payload_log_stays_small(app, components):
    from statuspage.integrations.intake import LOG_SIZE, refuse

    integration, _ = registry.create(actor=None, kind="generic", name="noisy")
    for n in range(LOG_SIZE + 5):
        refuse(integration.id, 422, f"reason {n}", b"{}")
    reasons = db.session.scalars(select(IntakeLogEntry.reason).order_by(IntakeLogEntry.id)).all()
    assert len(reasons) == LOG_SIZE and reasons[-1] == f"reason {LOG_SIZE + 4}"


def test_an_unknown_or_rotated_secret_is_refused(app, components, server):
    integration, secret = integration_with_rule("alertmanager", components, 'service="api"')
    assert post(server, "spi_not-a-secret", b"{}").status_code == 401
    missing = requests.post(f"{server}/integrations", data=b"{}", timeout=10)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    _, new_secret = registry.rotate(actor=None, integration_id=integration.id)
    assert post(server, secret, fixture("alertmanager_firing.json")).status_code == 401
    assert post(server, new_secret, fixture("alertmanager_firing.json")).status_code == 202


def test_a_body_over_the_limit_is_refused_before_it_is_read(app, components, server):
    app.config["INTEGRATION_MAX_BYTES"] = 2000
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    doc = fixture_json("alertmanager_firing.json")
    doc["alerts"] = doc["alerts"] * 10
    response = post(server, secret, json.dumps(doc).encode())
    assert response.status_code == 413
    assert "larger than 2000 bytes" in response.json()["error"]
    assert post(server, secret, fixture("alertmanager_firing.json")).status_code == 202


def test_a_large_alert_group_fits_although_other_routes_take_less(app, components, server):
    assert app.config["INTEGRATION_MAX_BYTES"] > 4 * app.config["MAX_BODY_BYTES"]
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    doc = fixture_json("alertmanager_firing.json")
    template = doc["alerts"][0]
    doc["alerts"] = [
        {**template, "fingerprint": f"{n:016x}", "labels": {**template["labels"], "n": str(n)}}
        for n in range(400)
    ]
    body = json.dumps(doc).encode()
    assert len(body) > 3 * app.config["MAX_BODY_BYTES"]
    response = post(server, secret, body)
    assert response.status_code == 202, response.text
    assert response.json()["firing"] == 400 and len(only_draft().alerts) == 400


def test_an_integration_is_rate_limited(app, components, server):
    app.config["INTEGRATION_RATE_LIMIT"] = "3 per minute"
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    answers = [
        post(server, secret, fixture("alertmanager_firing.json")).status_code for _ in range(4)
    ]
    assert answers == [202, 202, 202, 429]


def test_a_rules_template_words_the_draft_from_the_alerts_labels(app, components, server):
    template = IncidentTemplate(
        name="API",
        title="{{ labels.service | upper }} errors",
        status="identified",
        body="Requests to {{ components }} fail: {{ annotations.summary }}.",
    )
    db.session.add(template)
    db.session.commit()
    _, secret = integration_with_rule(
        "alertmanager", components, 'service="api"', template_id=template.id
    )
    post(server, secret, fixture("alertmanager_firing.json"))
    draft = only_draft()
    assert (draft.name, draft.status) == ("API errors", "identified")
    assert draft.body == "Requests to Platform - API fail: API 5xx error rate above 5%."


def test_a_generic_alert_without_start_time_started_when_it_arrived(app, components, server):
    _, secret = integration_with_rule("generic", components, 'service="api"')
    body = {"alerts": [{"status": "firing", "labels": {"service": "api"}}]}
    before = now()
    post(server, secret, json.dumps(body).encode())
    assert before <= only_draft().problem_started_at <= now()


def test_webhook_and_email_operators_get_the_drafts_link(app, cast, components, server, wired):
    made = connect(wired, "webhook", "smtp")
    for channel in made.values():
        channel.operator_alerts = True
    db.session.commit()
    _, secret = integration_with_rule("alertmanager", components, 'service="api"')
    post(server, secret, fixture("alertmanager_firing.json"))
    draft = only_draft()
    for row in db.session.scalars(select(Delivery)).all():
        deliver(row)
    link = f"{server}/admin/drafts/{draft.id}"
    (event,) = wired["receiver"].events(RECEIVER_PATH)
    assert (event["type"], event["kind"], event["admin_url"]) == ("operator.alert", "draft", link)
    (mail,) = wired["smtp"].mails
    assert link in mail.part("plain")


def test_a_deleted_integration_accepts_nothing(app, components, server):
    integration, secret = integration_with_rule("alertmanager", components, 'service="api"')
    registry.delete(actor=None, integration_id=integration.id)
    assert post(server, secret, fixture("alertmanager_firing.json")).status_code == 401


def test_a_notification_without_alerts_changes_nothing(app, components, server):
    integration, secret = integration_with_rule("alertmanager", components, 'service="api"')
    empty = json.dumps({"version": "4", "status": "firing", "alerts": []}).encode()
    response = post(server, secret, empty, bearer=True)
    assert response.status_code == 202 and response.json()["firing"] == 0
    db.session.expire_all()
    assert db.session.get(Integration, integration.id).last_received_at is None


def test_guessing_secrets_is_limited_per_address(app, components, server):
    app.config["INTEGRATION_RATE_LIMIT"] = "3 per minute"
    answers = [post(server, f"spi_guess{n}", b"{}").status_code for n in range(4)]
    assert answers == [401, 401, 401, 429]
