"""Public routes serve the published snapshot, not the database."""

from __future__ import annotations

import gzip
import time

from lxml import etree

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


PAGES = ["/", "/api/v2/summary.json", "/history.rss", "/history.atom", "/badge.svg", "/widget.json"]


def test_every_representation_has_a_strong_etag_and_cdn_cache_headers(app, client, components):
    publish()
    for path in PAGES:
        plain = client.get(path)
        gz = client.get(path, headers={"Accept-Encoding": "br;q=1, gzip;q=0.8"})
        assert plain.status_code == gz.status_code == 200, path
        assert not plain.headers["ETag"].startswith("W/"), path
        assert gz.headers["Content-Encoding"] == "gzip", path
        assert gzip.decompress(gz.data) == plain.data, path
        assert gz.headers["ETag"] != plain.headers["ETag"], path  # another representation
        # "/" is chosen by Accept-Language too (see test_languages).
        vary = "Accept-Encoding, Accept-Language" if path == "/" else "Accept-Encoding"
        assert plain.headers["Vary"] == gz.headers["Vary"] == vary, path
        cache = plain.headers["Cache-Control"]
        assert "public" in cache and "max-age=10" in cache, path
        assert "stale-while-revalidate=" in cache and "stale-if-error=" in cache, path
        assert plain.headers["Last-Modified"].endswith("GMT"), path
        assert plain.headers["Access-Control-Allow-Origin"] == "*", path
        refused = client.get(path, headers={"Accept-Encoding": "gzip;q=0"})
        assert "Content-Encoding" not in refused.headers and refused.data == plain.data
        again = client.get(
            path, headers={"Accept-Encoding": "gzip", "If-None-Match": gz.headers["ETag"]}
        )
        assert again.status_code == 304 and again.data == b"", path
        assert again.headers["ETag"] == gz.headers["ETag"]


def test_conditional_requests_by_date_and_by_tag_lists(app, client, components):
    publish()
    first = client.get("/")
    since = client.get("/", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    older = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/", headers={"If-Modified-Since": older}).status_code == 200
    listed = client.get("/", headers={"If-None-Match": f'"nope", W/{first.headers["ETag"]}'})
    assert listed.status_code == 304
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
    mismatch = {"If-None-Match": '"nope"', "If-Modified-Since": first.headers["Last-Modified"]}
    assert client.get("/", headers=mismatch).status_code == 200


def test_unchanged_files_keep_their_validators_across_publishes(app, client, components):
    publish()
    before = client.get("/api/v2/summary.json")
    time.sleep(1.1)  # Last-Modified has one-second resolution
    publish()
    after = client.get("/api/v2/summary.json")
    assert after.headers["ETag"] == before.headers["ETag"]
    assert after.headers["Last-Modified"] == before.headers["Last-Modified"]
    service.open_incident(actor=None, name="New", impact="minor", body="x")
    publish()
    changed = client.get("/api/v2/summary.json")
    assert changed.headers["ETag"] != before.headers["ETag"]


def test_only_reads_are_allowed_and_preflights_are_answered(app, client, components):
    publish()
    head = client.head("/api/v2/summary.json")
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(client.get("/api/v2/summary.json").data)
    preflight = client.options("/api/v2/summary.json")
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    post = client.post("/api/v2/summary.json")
    assert post.status_code == 405 and "GET" in post.headers["Allow"]


def test_html_pages_carry_a_content_security_policy(app, client, components):
    publish()
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert client.get("/static/public.css?v=1").headers["Cache-Control"].endswith("immutable")
    assert "immutable" not in client.get("/static/public.css").headers["Cache-Control"]
    assert client.get("/", headers={"Accept-Encoding": "gzip;q=x"}).status_code == 200


def test_badges_and_widget(app, client, components):
    service.open_incident(
        actor=None,
        name="Queue backlog",
        impact="minor",
        body="x",
        components={components["Webhooks"]: "degraded_performance"},
    )
    publish()
    overall = client.get("/badge.svg")
    assert overall.mimetype == "image/svg+xml"
    svg = etree.fromstring(overall.data)
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "Status: Partially Degraded Service"
    webhooks = client.get(f"/components/{components['Webhooks']}/badge.svg")
    assert etree.fromstring(webhooks.data).get("aria-label") == "Webhooks: Degraded performance"
    widget = client.get("/widget.json")
    assert widget.mimetype == "application/json"
    assert widget.headers["Access-Control-Allow-Origin"] == "*"
    doc = widget.json
    assert doc["status"] == {"indicator": "minor", "description": "Partially Degraded Service"}
    assert [i["name"] for i in doc["incidents"]] == ["Queue backlog"]
    assert doc["incidents"][0]["url"].startswith("http://status.test/incidents/")
    by_name = {c["name"]: c["status"] for c in doc["components"]}
    assert by_name["Notifications - Webhooks"] == "degraded_performance"


def test_the_waiting_and_missing_pages_speak_the_browser_language(app, client, components):
    waiting = client.get("/", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert waiting.status_code == 503
    assert "Die Statusseite wurde noch nicht veröffentlicht" in waiting.get_data(as_text=True)
    assert waiting.headers["Content-Language"] == "de"
    publish()
    missing = client.get("/incidents/ABC", headers={"Accept-Language": "de"})
    assert missing.status_code == 404 and "Accept-Language" in missing.headers["Vary"]
    text = missing.get_data(as_text=True)
    assert '<html lang="de"' in text and "Diese Seite gibt es auf dieser Statusseite nicht" in text


def test_a_missing_page_under_a_language_prefix_speaks_the_paths_language(app, client):
    waiting = client.get("/de/history", headers={"Accept-Language": "fr"})
    assert waiting.status_code == 503 and waiting.headers["Content-Language"] == "de"
    assert "Die Statusseite wurde noch nicht veröffentlicht" in waiting.get_data(as_text=True)
    publish()
    for path in ("/de/no-such-page", "/de/incidents/ABC", "/de/history/1999-01"):
        missing = client.get(path, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
        text = missing.get_data(as_text=True)
        assert missing.status_code == 404, path
        assert missing.headers["Content-Language"] == "de", path
        assert "Accept-Language" not in missing.headers.get("Vary", ""), path
        assert '<html lang="de"' in text, path
        assert "Diese Seite gibt es auf dieser Statusseite nicht" in text, path
    arabic = client.get("/ar/no-such-page", headers={"Accept-Language": "de"})
    assert arabic.status_code == 404
    assert '<html lang="ar" dir="rtl"' in arabic.get_data(as_text=True)


def test_a_url_no_route_knows_gets_the_products_own_not_found_page(app, client, components):
    publish()
    for path in ("/no-such-page", "/subscribe/no-such-page", "/a/b/c.html"):
        missing = client.get(path, headers={"Accept-Language": "fr"})
        assert missing.status_code == 404, path
        assert missing.headers["Content-Language"] == "fr", path
        assert '<html lang="fr"' in missing.get_data(as_text=True), path
    admin = client.get("/admin/no-such-page")
    assert admin.status_code == 404
    assert 'href="/static/admin.css"' in admin.get_data(as_text=True)
    assert client.get("/api/v1/no-such-path").get_json()["code"] == "not_found"
