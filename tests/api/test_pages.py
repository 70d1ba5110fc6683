"""Statuspage's page endpoints: the profile of this installation's one page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import AuditEvent, Page, PublishRequest


def test_the_page_profile_is_listed_and_read(api):
    listed = api.client.get("/api/v1/pages.json", headers=api.headers("viewer"))
    assert listed.status_code == 200
    (page,) = listed.get_json()
    assert page == api.client.get(f"/api/v1/pages/{api.page_id}", headers=api.headers()).get_json()
    assert (page["id"], page["name"], page["time_zone"]) == (api.page_id, "Status", "Etc/UTC")
    assert (page["url"], page["domain"]) == ("http://status.test", "status.test")
    assert page["allow_rss_atom_feeds"] is True and page["allow_sms_subscribers"] is False
    assert page["allow_email_subscribers"] is False  # no SMTP channel connected yet
    assert page["created_at"].endswith("+00:00")


def test_an_admin_renames_the_page_with_a_statuspage_body(api):
    body = {"page": {"name": "Acme Status", "time_zone": "America/Chicago", "headline": "x"}}
    response = api.client.patch(
        f"/api/v1/pages/{api.page_id}.json", json=body, headers=api.headers()
    )
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["name"], response.get_json()["time_zone"]) == (
        "Acme Status",
        "America/Chicago",
    )
    db.session.expire_all()
    assert Page.get().name == "Acme Status"
    assert "page.update" in db.session.scalars(select(AuditEvent.action)).all()
    assert db.session.scalars(select(PublishRequest.reason)).all() == ["page settings changed"]
    # Only the name: the time zone stays.
    renamed = api.client.put(
        f"/api/v1/pages/{api.page_id}", json={"page": {"name": "Acme"}}, headers=api.headers()
    )
    assert renamed.get_json()["time_zone"] == "America/Chicago"


@pytest.mark.parametrize(
    "body, status, field",
    [
        ({"page": {"name": ""}}, 422, "name"),
        ({"page": {"name": "  "}}, 422, "name"),
        ({"page": {"name": "x" * 101}}, 422, "name"),
        ({"page": {"time_zone": "Mars/Olympus"}}, 422, "time_zone"),
        ({"page": {"time_zone": ["Europe/Paris"]}}, 422, "time_zone"),
        ({"page": {"headline": "only unknown fields"}}, 422, "page"),
        ({"name": "not wrapped"}, 400, None),
    ],
)
def test_bad_page_changes_are_refused_and_nothing_is_written(api, body, status, field):
    response = api.client.patch(f"/api/v1/pages/{api.page_id}", json=body, headers=api.headers())
    assert response.status_code == status, response.get_json()
    if field:
        assert field in response.get_json()["fields"]
    db.session.expire_all()
    assert (Page.get().name, Page.get().time_zone) == ("Status", "Etc/UTC")
    assert (
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "page.update")).all() == []
    )


def test_only_admins_change_the_page(api):
    for who in ("responder", "viewer"):
        response = api.client.patch(
            f"/api/v1/pages/{api.page_id}",
            json={"page": {"name": "Nope"}},
            headers=api.headers(who),
        )
        assert response.status_code == 403
    assert api.client.get("/api/v1/pages").status_code == 401
    assert api.client.get("/api/v1/pages/nosuchpage", headers=api.headers()).status_code == 404
    db.session.expire_all()
    assert Page.get().name == "Status"
