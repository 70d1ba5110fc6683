"""The minimal admin: login, open an incident, post an update; bad input writes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.models import AuditEvent, Component, Delivery, Incident, IncidentUpdate
from tests.conftest import PASSWORD
from tests.signin import csrf_token, login


def written() -> dict[str, int]:
    return {
        m.__name__: db.session.scalar(select(func.count()).select_from(m))
        for m in (Incident, IncidentUpdate, Delivery)
    }


@pytest.fixture
def responder(client, cast):
    assert login(client, "rob@example.com").status_code == 302
    return client


def test_admin_requires_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_wrong_password_is_refused(client, cast):
    response = login(client, "rob@example.com", "not the password")
    assert response.status_code == 401
    assert b"Wrong email or password." in response.data
    assert client.get("/admin/").status_code == 302


def test_deactivated_users_cannot_log_in(client, cast):
    assert login(client, "olga@example.com").status_code == 401


def test_login_without_csrf_token_is_rejected(client, cast):
    response = client.post("/admin/login", data={"email": "rob@example.com", "password": PASSWORD})
    assert response.status_code == 400
    assert b"CSRF" in response.data
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_open_incident_and_post_update(responder, components):
    api = components["API"]
    token = csrf_token(responder, "/admin/incidents/new")
    response = responder.post(
        "/admin/incidents/new",
        data={
            "csrf_token": token,
            "name": "Checkout errors",
            "impact": "major",
            "status": "investigating",
            "body": "We see *errors*.",
            "notify": "y",
            f"component-{api}": "partial_outage",
        },
    )
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert incident.name == "Checkout errors"
    assert db.session.get(Component, api).status == "partial_outage"

    page = responder.get(response.headers["Location"])
    assert b"Checkout errors" in page.data and b">Pending<" in page.data
    token = csrf_token(responder, f"/admin/incidents/{incident.id}")
    response = responder.post(
        f"/admin/incidents/{incident.id}",
        data={"csrf_token": token, "status": "resolved", "body": "Fixed."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).status == "resolved"
    assert db.session.get(Component, api).status == "operational"
    assert written() == {"Incident": 1, "IncidentUpdate": 2, "Delivery": 2}


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("name", "", b"This field is required."),
        ("impact", "apocalyptic", b"Not a valid choice."),
        ("status", "on_fire", b"Not a valid choice."),
        ("component-doesnotexist", "major_outage", b"no such component"),
        ("component-{api}", "kaput", b"must be one of"),
    ],
)
def test_bad_incident_input_gets_422_and_writes_nothing(
    responder, components, field, value, message
):
    token = csrf_token(responder, "/admin/incidents/new")
    data = {
        "csrf_token": token,
        "name": "Outage",
        "impact": "minor",
        "status": "investigating",
        "body": "Looking",
    }
    data[field.format(api=components["API"])] = value
    response = responder.post("/admin/incidents/new", data=data)
    assert response.status_code == 422
    assert message in response.data
    assert written() == {"Incident": 0, "IncidentUpdate": 0, "Delivery": 0}


def test_missing_csrf_on_incident_form_writes_nothing(responder, components):
    response = responder.post(
        "/admin/incidents/new",
        data={"name": "Outage", "impact": "minor", "status": "investigating", "body": "x"},
    )
    assert response.status_code == 400
    assert written() == {"Incident": 0, "IncidentUpdate": 0, "Delivery": 0}


def test_viewers_cannot_open_or_update(client, cast, components):
    login(client, "vera@example.com")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/incidents/new").status_code == 403
    assert written() == {"Incident": 0, "IncidentUpdate": 0, "Delivery": 0}
