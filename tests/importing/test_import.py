"""Importing a page from Statuspage's v1 API, served by a loopback server with real
response samples: everything comes over, nothing is sent, and a re-run adds no copies."""

from __future__ import annotations

import copy

from click.testing import CliRunner
from sqlalchemy import func, select

from statuspage.cli import main
from statuspage.extensions import db
from statuspage.importing.client import StatuspageClient
from statuspage.importing.migrate import Importer
from statuspage.models import (
    AuditEvent,
    Component,
    ComponentGroup,
    Delivery,
    ImportedRecord,
    Incident,
    IncidentUpdate,
    IncidentUpdateRevision,
    Subscriber,
)
from tests.fakes.server import Reply
from tests.fakes.statuspage_v1 import API_KEY, PAGE_ID

INCIDENT = "f5v3b6dr7k53"  # "API Gateway Timeout Errors", the v1 incident sample


def run_cli(statuspage, *extra: str, key_stdin: bool = True):
    args = [
        "import-statuspage",
        "--page-id",
        PAGE_ID,
        "--api-url",
        statuspage.api_url,
        "--requests-per-second",
        "0",
        *extra,
    ]
    if key_stdin:
        args.append("--api-key-stdin")
    return CliRunner().invoke(main, args, input=f"{API_KEY}\n" if key_stdin else None)


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def local(kind: str, source_id: str) -> str:
    return db.session.scalar(
        select(ImportedRecord.local_id).where(
            ImportedRecord.kind == kind, ImportedRecord.source_id == source_id
        )
    )


def test_a_page_is_imported_and_a_second_run_adds_no_copies(app, statuspage):
    result = run_cli(statuspage)
    assert result.exit_code == 0, result.output
    assert "incidents: 25 new, 0 updated" in result.output

    group = db.session.scalars(select(ComponentGroup)).one()
    assert group.name == "Backend"
    components = {c.name: c for c in db.session.scalars(select(Component))}
    assert set(components) == {
        "API Gateway",
        "Fraud Detection Service",
        "Payment Service",
        "Jira Administration",
    }
    assert components["Fraud Detection Service"].group_id == group.id
    assert components["Payment Service"].status == "partial_outage"
    assert components["Jira Administration"].showcase is False

    incident = db.session.get(Incident, local("incident", INCIDENT))
    assert (incident.name, incident.status, incident.impact) == (
        "API Gateway Timeout Errors",
        "resolved",
        "major",
    )
    assert incident.resolved_at.isoformat() == "2024-06-07T22:26:34+00:00"
    assert [(u.status, u.created_at.isoformat()) for u in reversed(incident.updates)] == [
        ("investigating", "2024-06-07T01:00:17.309000+00:00"),
        ("monitoring", "2024-06-07T22:22:28.761000+00:00"),
        ("resolved", "2024-06-07T22:26:34.370000+00:00"),
    ]
    resolved = incident.updates[0]
    assert {a.component.name: a.new_status for a in resolved.affected} == {
        "API Gateway": "operational",
        "Payment Service": "partial_outage",
        "Fraud Detection Service": "operational",
        "Jira Administration": "operational",
    }
    assert incident.first_posted_at == incident.updates[-1].created_at
    assert incident.next_update_due is None
    maintenance = db.session.get(Incident, local("incident", "w1zdr745wmfy"))
    assert maintenance.is_maintenance and maintenance.impact == "maintenance"
    assert maintenance.scheduled_for.isoformat() == "2014-05-18T04:00:00+00:00"
    # The history is written, not re-told: nothing went to any channel or subscriber.
    assert count(Delivery) == 0

    (subscriber,) = db.session.scalars(select(Subscriber)).all()
    assert subscriber.address == "test@gmail.com" and subscriber.is_confirmed
    audited = db.session.scalars(select(AuditEvent.action)).all()
    assert audited.count("subscriber.import") == 1 and "statuspage.import" in audited

    before = {
        m.__name__: count(m)
        for m in (Component, ComponentGroup, Incident, IncidentUpdate, Subscriber)
    }
    again = run_cli(statuspage)
    assert again.exit_code == 0, again.output
    assert "incidents: 0 new, 25 updated" in again.output
    assert {
        m.__name__: count(m)
        for m in (Component, ComponentGroup, Incident, IncidentUpdate, Subscriber)
    } == before


def test_a_rerun_brings_changes_and_keeps_earlier_text_as_a_revision(app, statuspage):
    assert run_cli(statuspage).exit_code == 0
    incidents = copy.deepcopy(statuspage.lists["incidents"])
    first = incidents[0]
    first["name"] = "API Gateway timeouts"
    first["incident_updates"][0]["body"] = "Resolved: a bad deploy was rolled back."
    first["incident_updates"].insert(
        0,
        {
            **first["incident_updates"][0],
            "id": "newupdate001",
            "status": "postmortem",
            "body": "Postmortem published.",
            "created_at": "2024-06-08T10:00:00.000Z",
        },
    )
    statuspage.set("incidents", incidents)
    components = copy.deepcopy(statuspage.lists["components"])
    components[0]["status"] = "major_outage"
    statuspage.set("components", components)

    assert run_cli(statuspage).exit_code == 0
    incident = db.session.get(Incident, local("incident", INCIDENT))
    assert incident.name == "API Gateway timeouts"
    assert len(incident.updates) == 4
    (revision,) = db.session.scalars(select(IncidentUpdateRevision)).all()
    assert revision.body == "Resolved"
    gateway = db.session.get(Component, local("component", components[0]["id"]))
    assert gateway.status == "major_outage"


def test_paging_reads_every_record_once_and_waits_out_the_rate_limit(app, statuspage):
    statuspage.script(
        "GET",
        f"/v1/pages/{PAGE_ID}/components",
        Reply(429, json={"error": "rate limited"}, headers={"Retry-After": "1"}),
    )
    client = StatuspageClient(API_KEY, statuspage.api_url, per_page=10, requests_per_second=0)
    report = Importer(client, PAGE_ID).run()
    assert report.created["incidents"] == 25
    assert report.created["components"] == 5  # two of them are named "API Gateway"
    calls = statuspage.received("GET", f"/v1/pages/{PAGE_ID}/components")
    assert [r.query.get("page") for r in calls] == [["1"], ["1"]]
    assert calls[1].at - calls[0].at >= 0.9  # it waited as asked before trying again
    pages = [
        r.query["page"][0] for r in statuspage.received("GET", f"/v1/pages/{PAGE_ID}/incidents")
    ]
    assert pages == ["0", "1", "2", "3"]  # 25 incidents, 10 a page
    assert all(
        r.query["limit"] == ["10"]
        for r in statuspage.received("GET", f"/v1/pages/{PAGE_ID}/incidents")
    )


def test_quarantined_subscribers_stay_behind(app, statuspage):
    from tests.fakes.statuspage_v1 import sample_page

    importer = Importer(
        StatuspageClient(API_KEY, statuspage.api_url, requests_per_second=0), PAGE_ID
    )
    importer.import_subscribers(sample_page()["subscribers"])
    assert [s.address for s in db.session.scalars(select(Subscriber))] == ["test@gmail.com"]
    assert importer.report.skipped == {"subscribers": 1}


def test_a_wrong_key_stops_the_import_with_the_reason_and_never_prints_the_key(
    app, statuspage, monkeypatch
):
    monkeypatch.setenv("STATUSPAGE_IMPORT_API_KEY", "not-the-key")
    result = run_cli(statuspage, key_stdin=False)
    assert result.exit_code == 1
    assert "HTTP 401" in result.output and "not-the-key" not in result.output
    assert count(Component) == 0
