"""Admins manage users, tokens and components; every action lands in the audit log."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import (
    ApiToken,
    AuditEvent,
    Component,
    ComponentGroup,
    ComponentStatusChange,
    IncidentTemplate,
    User,
)
from statuspage.models.accounts import hash_token
from tests.signin import csrf_token, login


@pytest.fixture
def admin(client, cast):
    assert login(client, "alice@example.com").status_code == 302
    return client


def post(client, path: str, **data):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/users"), **data})


def test_create_user_change_role_and_deactivate(admin, cast):
    response = post(
        admin,
        "/admin/users",
        email="New@Example.com",
        role="viewer",
        password="a long enough password",
    )
    assert response.status_code == 302
    user = db.session.scalars(select(User).where(User.email == "new@example.com")).one()
    assert post(admin, f"/admin/users/{user.id}/role", role="responder").status_code == 302
    assert post(admin, f"/admin/users/{user.id}/deactivate").status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.role, user.active) == ("responder", False)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert '<option value="responder" selected>Responder</option>' in page
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["user.create", "user.role", "user.deactivate"]


def test_bad_user_input_is_refused_with_422(admin, cast):
    for data in (
        {"email": "not-an-email", "role": "viewer", "password": "a long enough password"},
        {"email": "rob@example.com", "role": "viewer", "password": "a long enough password"},
        {"email": "x@example.com", "role": "owner", "password": "a long enough password"},
        {"email": "x@example.com", "role": "viewer", "password": "short"},
    ):
        assert post(admin, "/admin/users", **data).status_code == 422, data
    assert len(db.session.scalars(select(User)).all()) == 4


def test_the_last_admin_cannot_demote_or_deactivate_themselves(admin, cast):
    me = cast["admin"].id
    response = post(admin, f"/admin/users/{me}/role", role="viewer")
    assert response.status_code == 422 and b"last active admin" in response.data
    assert post(admin, f"/admin/users/{me}/deactivate").status_code == 422
    db.session.expire_all()
    assert (db.session.get(User, me).role, db.session.get(User, me).active) == ("admin", True)


def test_a_token_is_shown_once_stored_hashed_and_revocable(admin, cast):
    response = post(admin, f"/admin/users/{cast['responder'].id}/tokens", name="pager hook")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    plain = re.search(r'id="new-token">(sp_[^<]+)<', response.get_data(as_text=True)).group(1)
    token = db.session.scalars(select(ApiToken)).one()
    assert token.token_hash == hash_token(plain)
    assert plain not in admin.get("/admin/users").get_data(as_text=True)
    assert post(admin, f"/admin/tokens/{token.id}/revoke").status_code == 302
    db.session.expire_all()
    assert ApiToken.find_active(plain) is None


def test_audit_log_filters_by_actor_action_object_and_date(admin, cast):
    post(admin, f"/admin/users/{cast['viewer'].id}/role", role="responder")
    page = admin.get("/admin/audit?action=user.role").get_data(as_text=True)
    assert "alice@example.com" in page and "user.role" in page and "user.login" not in page
    assert "<dt>role</dt><dd><del>viewer</del> → <ins>responder</ins></dd>" in page
    page = admin.get(f"/admin/audit?object_type=user&object_id={cast['viewer'].id}").get_data(
        as_text=True
    )
    assert "user.role" in page
    assert "No matching events." in admin.get("/admin/audit?actor=nobody").get_data(as_text=True)
    empty = admin.get("/admin/audit?since=2001-01-01T00:00&until=2001-01-02T00:00")
    assert "No matching events." in empty.get_data(as_text=True)
    assert admin.get("/admin/audit?since=yesterday").status_code == 422


def test_components_page_sets_status_by_hand(admin, components):
    api = components["API"]
    token = csrf_token(admin, "/admin/components")
    response = admin.post(
        f"/admin/components/{api}/status", data={"csrf_token": token, "status": "major_outage"}
    )
    assert response.status_code == 302
    change = db.session.scalars(select(ComponentStatusChange)).one()
    assert (change.new_status, change.cause) == ("major_outage", "manual")
    bad = admin.post(f"/admin/components/{api}/status", data={"csrf_token": token, "status": "x"})
    assert bad.status_code == 422
    response = admin.post(
        "/admin/components",
        data={
            "csrf_token": token,
            "name": "CDN",
            "group_id": "",
            "status": "operational",
            "position": "9",
            "showcase": "y",
        },
    )
    assert response.status_code == 302
    cdn = db.session.scalars(select(Component).where(Component.name == "CDN")).one()
    assert cdn.position == 9
    response = admin.post(f"/admin/components/{cdn.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalars(select(Component).where(Component.name == "CDN")).first() is None


def test_templates_are_managed_and_prefill_the_incident_form(client, cast):
    login(client, "rob@example.com")
    token = csrf_token(client, "/admin/templates")
    response = client.post(
        "/admin/templates",
        data={
            "csrf_token": token,
            "name": "DB failover",
            "title": "Database failover",
            "status": "identified",
            "body": "We are failing over the **database**.",
        },
    )
    assert response.status_code == 302
    template = db.session.scalars(select(IncidentTemplate)).one()
    duplicate = client.post(
        "/admin/templates",
        data={
            "csrf_token": token,
            "name": "DB failover",
            "title": "x",
            "status": "identified",
            "body": "y",
        },
    )
    assert duplicate.status_code == 422
    form = client.get(f"/admin/incidents/new?template={template.id}").get_data(as_text=True)
    assert 'value="Database failover"' in form
    assert "We are failing over the **database**." in form
    assert '<option selected value="identified">' in form


def test_groups_are_renamed_and_reordered(admin, components):
    group = db.session.scalars(
        select(ComponentGroup).where(ComponentGroup.name == "Platform")
    ).one()
    token = csrf_token(admin, "/admin/components")
    page = admin.get("/admin/components").get_data(as_text=True)
    assert f'id="group-name-{group.id}"' in page
    response = admin.post(
        f"/admin/groups/{group.id}",
        data={"csrf_token": token, "name": "Core platform", "description": "", "position": "5"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    group = db.session.get(ComponentGroup, group.id)
    assert (group.name, group.position, group.description) == ("Core platform", 5, None)
    bad = admin.post(f"/admin/groups/{group.id}", data={"csrf_token": token, "name": ""})
    assert bad.status_code == 422
    assert (
        admin.post(
            "/admin/groups/nosuchgroup1", data={"csrf_token": token, "name": "x"}
        ).status_code
        == 404
    )
