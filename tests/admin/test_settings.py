"""The page's name and time zone, set by an admin and published everywhere."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import AuditEvent, Page
from statuspage.publishing.snapshot import publish
from tests.signin import csrf_token, sign_in


def page_row() -> Page:
    """The page as stored (a page nobody has saved yet has the defaults)."""
    db.session.expire_all()
    return Page.get()


def test_an_admin_renames_the_page_and_it_is_published(app, client, cast):
    sign_in(client, "alice@example.com")
    token = csrf_token(client, "/admin/settings")
    response = client.post(
        "/admin/settings",
        data={"csrf_token": token, "name": "Acme Cloud Status", "time_zone": "Europe/Paris"},
    )
    assert response.status_code == 302
    page = page_row()
    assert (page.name, page.time_zone) == ("Acme Cloud Status", "Europe/Paris")
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "page.update"))
    assert event.before["name"] == "Status" and event.after["name"] == "Acme Cloud Status"

    current = publish()
    assert "Acme Cloud Status" in (current / "index.html").read_text()
    summary = json.loads((current / "api/v2/summary.json").read_text())
    assert summary["page"]["name"] == "Acme Cloud Status"
    assert summary["page"]["time_zone"] == "Europe/Paris"
    assert "Acme Cloud Status" in (current / "history.rss").read_text()


def test_an_admin_sets_the_default_language(app, client, cast):
    sign_in(client, "alice@example.com")
    token = csrf_token(client, "/admin/settings")
    form = {"csrf_token": token, "name": "Acme", "time_zone": "Etc/UTC"}
    refused = client.post("/admin/settings", data={**form, "default_language": "xx"})
    assert refused.status_code == 422 and b"must be one of en, de, fr, es, ja, ar" in refused.data
    assert page_row().default_language == "en"
    assert (
        client.post("/admin/settings", data={**form, "default_language": "ja"}).status_code == 302
    )
    assert page_row().default_language == "ja"
    current = publish()
    assert '<html lang="ja" dir="ltr">' in (current / "index.html").read_text()
    assert "すべてのシステムが正常に稼働しています" in (current / "index.html").read_text()
    assert '<html lang="en" dir="ltr">' in (current / "en" / "index.html").read_text()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name": "", "time_zone": "Etc/UTC"}, b"This field is required"),
        ({"name": "x" * 101, "time_zone": "Etc/UTC"}, b"longer than 100 characters"),
        ({"name": "Acme", "time_zone": "Mars/Olympus"}, b"is not a known time zone"),
    ],
)
def test_bad_settings_are_refused_and_nothing_changes(app, client, cast, data, field):
    sign_in(client, "alice@example.com")
    token = csrf_token(client, "/admin/settings")
    response = client.post("/admin/settings", data={"csrf_token": token, **data})
    assert response.status_code == 422 and field in response.data
    assert (page_row().name, page_row().time_zone) == ("Status", "Etc/UTC")


def test_only_admins_change_settings(app, client, cast):
    sign_in(client, "rob@example.com")
    assert client.get("/admin/settings").status_code == 403
    token = csrf_token(client, "/admin/incidents/new")
    response = client.post(
        "/admin/settings", data={"csrf_token": token, "name": "Hijacked", "time_zone": "Etc/UTC"}
    )
    assert response.status_code == 403
    assert page_row().name == "Status"


def test_missing_csrf_changes_nothing(app, client, cast):
    sign_in(client, "alice@example.com")
    response = client.post("/admin/settings", data={"name": "Acme", "time_zone": "Etc/UTC"})
    assert response.status_code == 400
    assert page_row().name == "Status"
