"""Public routes serve the published snapshot, not the database."""

from __future__ import annotations

from statuspage import create_app
from statuspage.incidents import service
from statuspage.publishing.snapshot import publish
from tests.conftest import BufferedClient


def test_before_the_first_publish_the_page_says_so(client):
    response = client.get("/")
    assert response.status_code == 503
    assert b"not been published yet" in response.data
    assert response.headers["Retry-After"] == "5"


def test_page_and_summary_come_from_the_snapshot(app, client, components):
    publish()
    incident = service.open_incident(actor=None, name="Slow dashboards", impact="minor", body="x")
    assert b"Slow dashboards" not in client.get("/").data  # not published yet
    publish()
    page = client.get("/")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert b"Slow dashboards" in page.data
    assert b"Next update by" in page.data
    summary = client.get("/api/v2/summary.json")
    assert summary.mimetype == "application/json"
    assert summary.headers["Access-Control-Allow-Origin"] == "*"
    assert summary.json["incidents"][0]["id"] == incident.id
    detail = client.get(f"/incidents/{incident.id}")
    assert detail.status_code == 200 and b"Slow dashboards" in detail.data


def test_conditional_requests_get_304(app, client, components):
    publish()
    first = client.get("/api/v2/summary.json")
    assert first.headers["ETag"]
    again = client.get("/api/v2/summary.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_page_is_served_while_the_database_is_gone(app, components, monkeypatch):
    publish()
    monkeypatch.setenv("STATUSPAGE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("STATUSPAGE_BROKER_URL", "redis://127.0.0.1:1/0")
    cut_off = create_app({"TESTING": True})
    cut_off.test_client_class = BufferedClient
    client = cut_off.test_client()
    for path in ("/", "/api/v2/summary.json", "/api/v2/status.json"):
        assert client.get(path).status_code == 200, path


def test_unknown_and_traversal_paths_are_404(app, client):
    publish()
    assert client.get("/api/v2/nothing.json").status_code == 404
    assert client.get("/api/v2/../index.html").status_code == 404
    assert client.get("/incidents/../../etc").status_code == 404
    assert client.get("/incidents/ABC").status_code == 404
