"""Token auth and roles on every route: 401 writes nothing, 403 names the role."""

from __future__ import annotations

from sqlalchemy import func, select

from statuspage import accounts
from statuspage.extensions import db
from statuspage.models import ApiToken, AuditEvent, Component, Delivery, Incident

INCIDENT = {"incident": {"name": "Down", "status": "investigating", "body": "Looking"}}


def written() -> dict[str, int]:
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Incident, Component, Delivery, AuditEvent)
    }


WRONG = [None, "OAuth sp_not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "OAuth"]


def test_a_wrong_token_gets_401_and_writes_nothing(api):
    before = written()
    for header in WRONG:
        headers = {"Authorization": header} if header is not None else {}
        response = api.call("POST", "incidents", headers=headers, json=INCIDENT)
        assert response.status_code == 401, header
        assert response.json == {
            "error": "missing, unknown or revoked API token",
            "code": "unauthorized",
            "status": 401,
            "fields": {},
        }
        assert "OAuth" in response.headers["WWW-Authenticate"]
    assert written() == before


def test_a_revoked_token_gets_401_and_writes_nothing(api, cast):
    token = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == cast["responder"].id)
    ).one()
    accounts.revoke_token(token.id, cast["admin"])
    before = written()
    response = api.call("POST", "incidents", who="responder", json=INCIDENT)
    assert response.status_code == 401
    assert written() == before


def test_a_deactivated_users_token_gets_401(api, cast):
    accounts.set_active(cast["responder"].id, False, cast["admin"])
    assert api.call("GET", "incidents", who="responder").status_code == 401


def test_both_schemes_work_and_record_use(api, cast):
    assert api.call("GET", "components", headers=api.headers("viewer", "Bearer")).status_code == 200
    assert api.call("GET", "components", headers=api.headers("viewer", "OAuth")).status_code == 200
    db.session.expire_all()
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == cast["viewer"].id)).one()
    assert token.last_used_at is not None


def test_viewers_read_but_cannot_post(api, components):
    assert api.call("GET", "incidents", who="viewer").status_code == 200
    before = written()
    response = api.call("POST", "incidents", who="viewer", json=INCIDENT)
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    response = api.call(
        "PATCH",
        f"components/{components['API']}",
        who="viewer",
        json={"component": {"status": "major_outage"}},
    )
    assert response.status_code == 403
    assert written() == before


def test_responders_run_incidents_but_not_components(api, components):
    assert api.call("POST", "incidents", who="responder", json=INCIDENT).status_code == 201
    response = api.call("POST", "components", who="responder", json={"component": {"name": "CDN"}})
    assert response.status_code == 403
    assert "admin" in response.json["error"]


def test_another_page_id_is_404_after_auth(api):
    response = api.client.get("/api/v1/pages/aaaaaaaaaaaa/components", headers=api.headers())
    assert (response.status_code, response.json["code"]) == (404, "not_found")
    response = api.client.get("/api/v1/pages/aaaaaaaaaaaa/components")
    assert response.status_code == 401


def test_the_api_is_csrf_exempt_but_the_admin_is_not(api, client):
    client.application.config["WTF_CSRF_ENABLED"] = True
    assert api.call("POST", "incidents", json=INCIDENT).status_code == 201
    assert client.post("/admin/incidents/new", data={"name": "x"}).status_code in (302, 400)
