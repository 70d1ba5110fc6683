"""The published v2 documents have the keys, types and formats of real Statuspage captures."""

from __future__ import annotations

import json
import re
from pathlib import Path

from statuspage.incidents import service
from statuspage.publishing.snapshot import publish

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
