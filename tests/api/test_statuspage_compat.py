"""Requests written for Statuspage's API work unchanged; answers have its v1 shapes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.lib.clock import iso, now
from statuspage.models import (
    AuditEvent,
    Component,
    ComponentStatusChange,
    Delivery,
    Incident,
    IncidentUpdateRevision,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "statuspage"


def v2_keys(kind: str) -> set[str]:
    doc = json.loads((FIXTURES / "statuspage_incidents_example2_docs.json").read_text())
    if kind == "incident":
        return set(doc["incidents"][0]) - {"incident_updates"}
    return set(doc["incidents"][0]["incident_updates"][0])


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_incident_with_a_statuspage_body(api, components):
    api_id, web_id = components["API"], components["Website"]
    body = {
        "incident": {
            "name": "Elevated API errors",
            "status": "investigating",
            "impact_override": "major",
            "body": "We are investigating elevated error rates.",
            "component_ids": [api_id, web_id],
            "components": {api_id: "partial_outage"},
            "deliver_notifications": True,
            "metadata": {"jira": {"issue_id": "OPS-1"}},
            "auto_tweet_at_beginning": False,
        }
    }
    response = api.call("POST", "incidents.json", json=body)
    assert response.status_code == 201, response.json
    doc = response.json
    assert v2_keys("incident") <= set(doc)
    assert v2_keys("update") <= set(doc["incident_updates"][0])
    assert (doc["name"], doc["status"], doc["impact"], doc["page_id"]) == (
        "Elevated API errors",
        "investigating",
        "major",
        api.page_id,
    )
    assert doc["shortlink"] == f"http://status.test/incidents/{doc['id']}"
    (update,) = doc["incident_updates"]
    assert update["affected_components"] == [
        {
            "code": api_id,
            "name": "Platform - API",
            "old_status": "operational",
            "new_status": "partial_outage",
        },
        {
            "code": web_id,
            "name": "Platform - Website",
            "old_status": "operational",
            "new_status": "operational",
        },
    ]
    assert sorted(c["name"] for c in doc["components"]) == ["API", "Website"]
    assert db.session.get(Component, api_id).status == "partial_outage"
    assert count(Delivery) == 1


def test_impact_follows_the_worst_component_when_not_given(api, components):
    response = api.call(
        "POST",
        "incidents",
        json={
            "incident": {
                "name": "Outage",
                "components": {components["API"]: "major_outage"},
            }
        },
    )
    assert (response.json["impact"], response.json["status"]) == ("critical", "investigating")
    assert (
        response.json["incident_updates"][0]["body"] == "We are currently investigating this issue."
    )


def test_form_fields_work_like_json(api, components):
    response = api.call(
        "POST",
        "incidents",
        data={
            "incident[name]": "Slow dashboard",
            "incident[status]": "identified",
            "incident[body]": "A slow query.",
            "incident[component_ids][]": components["Dashboard"],
            f"incident[components][{components['Dashboard']}]": "degraded_performance",
            "incident[deliver_notifications]": "false",
        },
    )
    assert response.status_code == 201, response.json
    doc = response.json
    assert (doc["status"], doc["impact"]) == ("identified", "minor")
    assert doc["incident_updates"][0]["deliver_notifications"] is False
    response = api.call(
        "PATCH",
        f"components/{components['Website']}",
        data={
            "component[status]": "under_maintenance",
            "component[showcase]": "false",
        },
    )
    assert (response.json["status"], response.json["showcase"]) == ("under_maintenance", False)


def test_patch_posts_updates_and_resolve_restores_components(api, components):
    api_id = components["API"]
    created = api.call(
        "POST",
        "incidents",
        json={
            "incident": {
                "name": "Errors",
                "body": "Looking",
                "components": {api_id: "major_outage"},
            }
        },
    ).json
    path = f"incidents/{created['id']}"
    doc = api.call("PATCH", path, json={"incident": {"status": "identified", "body": "Found"}}).json
    assert [u["status"] for u in doc["incident_updates"]] == ["identified", "investigating"]
    doc = api.call("PATCH", path, json={"incident": {"status": "resolved"}}).json
    assert doc["status"] == "resolved" and doc["resolved_at"]
    assert doc["incident_updates"][0]["body"] == "This incident has been resolved."
    assert doc["components"][0]["status"] == "operational"
    changes = db.session.scalars(select(ComponentStatusChange.cause)).all()
    assert changes == ["incident", "incident"]
    doc = api.call("PATCH", path, json={"incident": {"postmortem_body": "## Cause"}}).json
    assert (doc["status"], doc["postmortem_body"]) == ("postmortem", "## Cause")
    assert doc["postmortem_published_at"]


def test_unresolved_scheduled_upcoming_lists(api, components):
    api.call("POST", "incidents", json={"incident": {"name": "Open one", "body": "x"}})
    start = now() + timedelta(days=1)
    response = api.call(
        "POST",
        "incidents",
        json={
            "incident": {
                "name": "Upgrade",
                "status": "scheduled",
                "body": "Planned work",
                "scheduled_for": iso(start),
                "scheduled_until": iso(start + timedelta(hours=1)),
                "scheduled_auto_in_progress": True,
                "scheduled_auto_completed": True,
                "component_ids": [components["API"]],
            }
        },
    )
    assert response.status_code == 201, response.json
    doc = response.json
    assert (doc["impact"], doc["status"], doc["scheduled_for"]) == (
        "maintenance",
        "scheduled",
        iso(start),
    )
    assert doc["scheduled_auto_in_progress"] is True
    names = {
        path: [i["name"] for i in api.call("GET", f"incidents/{path}.json").json]
        for path in ("unresolved", "scheduled", "upcoming", "active_maintenance")
    }
    assert names == {
        "unresolved": ["Open one"],
        "scheduled": ["Upgrade"],
        "upcoming": ["Upgrade"],
        "active_maintenance": [],
    }
    assert len(api.call("GET", "incidents").json) == 2
    assert [i["name"] for i in api.call("GET", "incidents?q=upg").json] == ["Upgrade"]


def test_components_crud(api, components):
    created = api.call(
        "POST",
        "components",
        json={
            "component": {
                "name": "CDN",
                "description": "Edge cache",
                "status": "operational",
                "group_id": None,
                "showcase": True,
                "only_show_if_degraded": False,
            }
        },
    )
    assert created.status_code == 201
    doc = created.json
    assert set(doc) >= {
        "id",
        "page_id",
        "group_id",
        "created_at",
        "updated_at",
        "group",
        "name",
        "description",
        "position",
        "status",
        "showcase",
        "only_show_if_degraded",
        "automation_email",
        "start_date",
    }
    path = f"components/{doc['id']}"
    assert api.call("GET", path + ".json").json["name"] == "CDN"
    patched = api.call("PATCH", path, json={"component": {"status": "major_outage"}}).json
    assert patched["status"] == "major_outage"
    assert db.session.scalars(
        select(ComponentStatusChange.cause).where(ComponentStatusChange.component_id == doc["id"])
    ).all() == ["manual", "manual"]
    assert api.call("DELETE", path).status_code == 204
    assert api.call("GET", path).status_code == 404
    assert len(api.call("GET", "components?per_page=2&page=2").json) == 2


def test_deleting_a_component_with_history_is_a_conflict(api, components):
    api.call(
        "POST",
        "incidents",
        json={
            "incident": {
                "name": "x",
                "components": {components["API"]: "partial_outage"},
            }
        },
    )
    response = api.call("DELETE", f"components/{components['API']}")
    assert (response.status_code, response.json["code"]) == (409, "conflict")


BAD_REQUESTS = [
    ({"data": "{not json", "content_type": "application/json"}, 400, "bad_request"),
    ({"json": {"name": "no wrapper"}}, 400, "bad_request"),
    ({"data": "<xml/>", "content_type": "application/xml"}, 415, "unsupported_media_type"),
    ({"json": {"incident": {"name": ""}}}, 422, "unprocessable"),
    ({"json": {"incident": {"name": "x", "status": "on_fire"}}}, 422, "unprocessable"),
    (
        {"json": {"incident": {"name": "x", "components": {"nosuchcompon": "major_outage"}}}},
        422,
        "unprocessable",
    ),
    ({"json": {"incident": {"name": "x", "deliver_notifications": "yes"}}}, 422, "unprocessable"),
    ({"json": {"incident": {"name": "x", "scheduled_for": "tomorrow"}}}, 422, "unprocessable"),
    (
        {"json": {"incident": {"name": "x", "scheduled_for": "2030-01-01T00:00:00"}}},
        422,
        "unprocessable",
    ),
]


def test_bad_requests_get_a_stable_error_and_write_nothing(api):
    audits = count(AuditEvent)
    for kwargs, status, code in BAD_REQUESTS:
        response = api.call("POST", "incidents", **kwargs)
        assert response.status_code == status, kwargs
        assert set(response.json) == {"error", "code", "status", "fields"}
        assert (response.json["code"], response.json["status"]) == (code, status)
    assert (count(Incident), count(AuditEvent)) == (0, audits)


def test_a_bad_patch_part_leaves_the_good_parts_unwritten(api):
    created = api.call("POST", "incidents", json={"incident": {"name": "Errors"}}).json
    response = api.call(
        "PATCH",
        f"incidents/{created['id']}",
        json={
            "incident": {
                "name": "Renamed",
                "status": "on_fire",
            }
        },
    )
    assert response.status_code == 422
    assert set(response.json["fields"]) == {"status"}
    db.session.expire_all()
    assert db.session.get(Incident, created["id"]).name == "Errors"


def test_unknown_paths_and_methods_answer_json(api):
    response = api.call("GET", "widgets")
    assert (response.status_code, response.json["code"]) == (404, "not_found")
    created = api.call("POST", "incidents", json={"incident": {"name": "Errors"}}).json
    response = api.call("DELETE", f"incidents/{created['id']}")
    assert (response.status_code, response.json["code"]) == (405, "method_not_allowed")
    assert "PATCH" in response.headers["Allow"]
    assert count(Incident) == 1


def test_options_lists_exactly_the_methods_a_path_takes(api):
    response = api.client.options(api.url("incidents/unresolved"))
    assert (response.status_code, response.headers["Allow"]) == (204, "GET, HEAD, OPTIONS")
    assert api.call("PATCH", "incidents/unresolved", json={}).status_code == 405
    listing = api.client.options(api.url("components.json"))
    assert listing.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert api.client.options(api.url("widgets")).status_code == 404


def test_a_change_the_incident_cannot_take_is_a_conflict(api):
    created = api.call("POST", "incidents", json={"incident": {"name": "Errors"}}).json
    window = {"scheduled_for": "2031-01-01T10:00:00Z", "scheduled_until": "2031-01-01T11:00:00Z"}
    maintenance = api.call("POST", "incidents", json={"incident": {"name": "Up", **window}}).json
    incident, planned = f"incidents/{created['id']}", f"incidents/{maintenance['id']}"
    before = count(AuditEvent)
    refused = [
        (incident, {"incident": {"status": "in_progress"}}),
        (incident, {"incident": {"scheduled_for": "2031-01-01T10:00:00Z"}}),
        (incident, {"incident": {"postmortem_body": "Why"}}),
        (planned, {"incident": {"status": "identified"}}),
        (planned, {"incident": {"impact_override": "major"}}),
        (planned, {"incident": {"scheduled_for": "2031-01-01T12:00:00+00:00"}}),
        (f"{planned}/next_update", {"next_update": {"update_interval": 5}}),
    ]
    for path, body in refused:
        response = api.call("PATCH", path, json=body)
        assert (response.status_code, response.json["code"]) == (409, "conflict"), body
    assert count(AuditEvent) == before


def test_editing_an_update_keeps_a_revision_and_our_additions(api):
    created = api.call(
        "POST", "incidents", json={"incident": {"name": "Errors", "body": "Typo"}}
    ).json
    update_id = created["incident_updates"][0]["id"]
    base = f"incidents/{created['id']}/incident_updates/{update_id}"
    edited = api.call("PATCH", base, json={"incident_update": {"body": "Fixed typo"}})
    assert edited.status_code == 200 and edited.json["body"] == "Fixed typo"
    revisions = api.call("GET", f"{base}/revisions", who="viewer").json
    assert [r["body"] for r in revisions] == ["Typo"]
    assert count(IncidentUpdateRevision) == 1
    (delivery,) = api.call("GET", f"{base}/deliveries", who="viewer").json
    assert (delivery["target_kind"], delivery["state"], delivery["attempts"]) == (
        "page",
        "pending",
        0,
    )
    retry = api.call("POST", f"deliveries/{delivery['id']}/retry", who="responder")
    assert (retry.status_code, retry.json["code"]) == (409, "conflict")

    promise = api.call("GET", f"incidents/{created['id']}/next_update", who="viewer").json
    assert promise["next_update_due"] == iso(
        db.session.get(Incident, created["id"]).next_update_due
    )
    assert promise["update_interval"] is None and promise["state"] is None
    changed = api.call(
        "PUT",
        f"incidents/{created['id']}/next_update",
        who="responder",
        json={"next_update": {"update_interval": 15}},
    )
    assert changed.status_code == 200 and changed.json["update_interval"] == 15
    bad = api.call(
        "PUT",
        f"incidents/{created['id']}/next_update",
        who="responder",
        json={"next_update": {"update_interval": 1}},
    )
    assert (bad.status_code, list(bad.json["fields"])) == (422, ["update_interval"])


def test_text_no_column_can_store_is_refused_not_crashed(api, components):
    created = api.call("POST", "incidents", json={"incident": {"name": "nul\u0000byte"}})
    assert (created.status_code, list(created.json["fields"])) == (422, ["name"])
    assert api.call("GET", "components/%00x").status_code == 404
    assert api.call("GET", "incidents?q=%00").status_code == 400
    assert api.call("POST", "deliveries/99999999999/retry").status_code == 404
    assert api.call("POST", "deliveries/\u00b9/retry").status_code == 404
    form = api.call("POST", "incidents", data={"incident[name]": "nul\u0000byte"})
    assert (form.status_code, list(form.json["fields"])) == (422, ["name"])
    assert count(Incident) == 0
