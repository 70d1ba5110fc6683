"""The published v2 documents have the keys, types and formats of real Statuspage captures."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Component, ComponentStatus, IncidentStatus
from statuspage.publishing.snapshot import publish
from statuspage.publishing.state import RECENT_INCIDENTS
from tests.public.conftest import maintenance

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statuspage"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}([+-]\d\d:\d\d|Z)$")
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def same_shape(ours: dict, theirs: dict, where: str) -> None:
    missing = set(theirs) - set(ours)
    assert not missing, f"{where}: missing keys {missing}"
    for key, value in theirs.items():
        if value is None or ours[key] is None:
            continue
        assert type(ours[key]) is type(value), f"{where}.{key}: {ours[key]!r} vs {value!r}"
        if isinstance(value, str) and TIMESTAMP.match(value):
            assert TIMESTAMP.match(ours[key]), f"{where}.{key}: {ours[key]!r}"


def test_summary_matches_a_real_capture(app, client, components):
    incident = service.open_incident(
        actor=None,
        name="Errors",
        impact="minor",
        body="Looking",
        components={components["API"]: "degraded_performance"},
    )
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    publish()
    ours = client.get("/api/v2/summary.json").json
    theirs = fixture("statuspage_summary_example1.json")
    assert set(ours) == set(theirs)
    same_shape(ours["page"], theirs["page"], "page")
    same_shape(ours["status"], theirs["status"], "status")
    assert ours["status"] == {"indicator": "minor", "description": "Partially Degraded Service"}
    their_group = next(c for c in theirs["components"] if c["group"])
    their_leaf = next(c for c in theirs["components"] if not c["group"])
    for component in ours["components"]:
        model = their_group if component["group"] else their_leaf
        same_shape(component, model, f"component {component['name']}")
        assert component["status"] in COMPONENT_STATUSES
    group = next(c for c in ours["components"] if c["group"] and c["name"] == "Platform")
    assert components["API"] in group["components"]
    assert group["status"] == "degraded_performance"
    (incident_doc,) = ours["incidents"]
    same_shape(incident_doc, theirs["incidents"][0], "incident")
    assert incident_doc["components"][0]["id"] == components["API"]
    for ours_update in incident_doc["incident_updates"]:
        same_shape(ours_update, theirs["incidents"][0]["incident_updates"][0], "update")
    statuses = [u["status"] for u in incident_doc["incident_updates"]]
    assert statuses == ["identified", "investigating"]
    affected = incident_doc["incident_updates"][1]["affected_components"]
    assert affected == [
        {
            "code": components["API"],
            "name": "Platform - API",
            "old_status": "operational",
            "new_status": "degraded_performance",
        }
    ]
    assert ours["scheduled_maintenances"] == []


INCIDENT_STATUSES = {"investigating", "identified", "monitoring", "resolved", "postmortem"}
MAINTENANCE_STATUSES = {"scheduled", "in_progress", "verifying", "completed"}
IMPACTS = {"none", "minor", "major", "critical", "maintenance"}
INDICATORS = {"none", "minor", "major", "critical", "maintenance"}


def get(client, name: str) -> dict:
    response = client.get(f"/api/v2/{name}")
    assert response.status_code == 200, name
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.json


def check_incident(ours: dict, theirs: dict, statuses: set[str], where: str) -> None:
    same_shape(ours, theirs, where)
    assert ours["status"] in statuses, where
    assert ours["impact"] in IMPACTS, where
    assert ours["incident_updates"], f"{where}: no updates"
    their_update = theirs["incident_updates"][0]
    for update in ours["incident_updates"]:
        same_shape(update, their_update, f"{where} update")
        assert update["status"] in statuses, where
    for component in ours["components"]:
        assert component["status"] in COMPONENT_STATUSES


def test_every_endpoint_has_the_shape_of_the_captures(app, client, components):
    open_one = service.open_incident(
        actor=None,
        name="Errors",
        impact="major",
        body="Looking",
        components={components["API"]: "partial_outage"},
    )
    closed = service.open_incident(actor=None, name="Old", impact="minor", body="x")
    service.resolve(actor=None, incident_id=closed.id, body="Done")
    website = db.session.get(Component, components["Website"])
    website.status = ComponentStatus.UNDER_MAINTENANCE
    active = maintenance(
        "Upgrade",
        -timedelta(minutes=5),
        timedelta(hours=1),
        IncidentStatus.IN_PROGRESS,
        [website],
    )
    upcoming = maintenance(
        "Later", timedelta(days=3), timedelta(hours=1), IncidentStatus.SCHEDULED, [website]
    )
    publish()

    incidents_fixture = fixture("statuspage_incidents_example1.json")
    maintenance_fixture = fixture("statuspage_scheduled_maintenances_example1_docs.json")
    summary_fixture = fixture("statuspage_summary_example1.json")
    components_fixture = fixture("statuspage_components_example2.json")
    their_incident = summary_fixture["incidents"][0]
    their_maintenance = maintenance_fixture["scheduled_maintenances"][0]

    status = get(client, "status.json")
    assert set(status) == {"page", "status"}
    same_shape(status["page"], summary_fixture["page"], "status.page")
    assert status["status"]["indicator"] in INDICATORS

    listed = get(client, "components.json")
    assert set(listed) == set(components_fixture)
    same_shape(listed["page"], components_fixture["page"], "components.page")
    their_group = next(c for c in components_fixture["components"] if c["group"])
    their_leaf = next(c for c in components_fixture["components"] if not c["group"])
    ids = {c["id"] for c in listed["components"]}
    for component in listed["components"]:
        same_shape(component, their_group if component["group"] else their_leaf, "component")
        assert component["status"] in COMPONENT_STATUSES
        if component["group"]:
            assert component["components"] and set(component["components"]) <= ids

    incidents = get(client, "incidents.json")
    assert set(incidents) == set(incidents_fixture)
    assert [i["id"] for i in incidents["incidents"]] == [closed.id, open_one.id]
    for incident in incidents["incidents"]:
        check_incident(incident, incidents_fixture["incidents"][0], INCIDENT_STATUSES, "incident")

    unresolved = get(client, "incidents/unresolved.json")
    assert [i["id"] for i in unresolved["incidents"]] == [open_one.id]
    check_incident(unresolved["incidents"][0], their_incident, INCIDENT_STATUSES, "unresolved")

    for name, expected in [
        ("scheduled-maintenances.json", {upcoming.id, active.id}),
        ("scheduled-maintenances/upcoming.json", {upcoming.id}),
        ("scheduled-maintenances/active.json", {active.id}),
    ]:
        doc = get(client, name)
        assert set(doc) == set(maintenance_fixture), name
        assert {m["id"] for m in doc["scheduled_maintenances"]} == expected, name
        for m in doc["scheduled_maintenances"]:
            check_incident(m, their_maintenance, MAINTENANCE_STATUSES, name)
            assert TIMESTAMP.match(m["scheduled_for"]) and TIMESTAMP.match(m["scheduled_until"])

    summary = get(client, "summary.json")
    assert set(summary) == set(summary_fixture)
    assert [i["id"] for i in summary["incidents"]] == [open_one.id]
    assert [m["id"] for m in summary["scheduled_maintenances"]] == [active.id, upcoming.id]
    for m in summary["scheduled_maintenances"]:
        assert m["components"] and m["incident_updates"]


def test_incidents_json_holds_the_latest_fifty(app, client, components):
    opened = [
        service.open_incident(actor=None, name=f"Incident {n}", impact="none", body="x").id
        for n in range(RECENT_INCIDENTS + 2)
    ]
    publish()
    listed = [i["id"] for i in get(client, "incidents.json")["incidents"]]
    assert listed == list(reversed(opened))[:RECENT_INCIDENTS]
