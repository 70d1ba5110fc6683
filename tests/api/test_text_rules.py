"""Every write of the v1 API refuses control characters in bodies and anything but one
line of plain text in names: 422 with the field named, and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import AuditEvent, Incident, IncidentUpdate, Page


def call(api, method: str, path: str, **kwargs):
    """``path`` under the page; "" is the page itself."""
    url = f"/api/v1/pages/{api.page_id}" + (f"/{path}" if path else "")
    return api.client.open(url, method=method, headers=api.headers(), **kwargs)


def audited() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def incident(api, cast):
    opened = service.open_incident(
        actor=cast["admin"], name="Queue delays", impact="minor", body="x"
    )
    return opened.id, opened.updates[0].id


CASES = [
    ("POST", "incidents", "incident", {"name": "a\u000bb"}, "name", "control characters"),
    ("POST", "incidents", "incident", {"name": "a\r\nb"}, "name", "single line"),
    ("POST", "incidents", "incident", {"name": "<b>Down</b>"}, "name", "plain text"),
    ("POST", "incidents", "incident", {"name": "ok", "body": "a\u001bb"}, "body", "U+001B"),
    ("PATCH", "incidents/{i}", "incident", {"name": "a\u0085b"}, "name", "U+0085"),
    ("PATCH", "incidents/{i}", "incident", {"body": "bell\u0007"}, "body", "U+0007"),
    ("PATCH", "incidents/{i}", "incident", {"postmortem_body": "\u0008"}, "postmortem_body", ""),
    (
        "PATCH",
        "incidents/{i}/incident_updates/{u}",
        "incident_update",
        {"body": "\u000c"},
        "body",
        "U+000C",
    ),
    ("POST", "components", "component", {"name": "Web\u0000"}, "name", "stored"),
    (
        "POST",
        "components",
        "component",
        {"name": "Web", "description": "\u007f"},
        "description",
        "U+007F",
    ),
    ("PATCH", "components/{c}", "component", {"name": "<script>x"}, "name", "plain text"),
    ("PATCH", "", "page", {"name": "Acme\tstatus"}, "name", "U+0009"),
]


@pytest.mark.parametrize("method, path, wrapper, fields, field, message", CASES)
def test_control_characters_and_markup_in_names_are_refused_with_the_field_named(
    api, components, incident, method, path, wrapper, fields, field, message
):
    incident_id, update_id = incident
    url = path.format(i=incident_id, u=update_id, c=components["API"])
    before = audited()
    response = call(api, method, url, json={wrapper: fields})
    assert response.status_code == 422, response.json
    assert response.json["code"] == "unprocessable"
    assert list(response.json["fields"]) == [field]
    assert message in response.json["fields"][field]
    assert audited() == before


def test_form_fields_follow_the_same_rules(api, components):
    response = api.call("POST", "incidents", data={"incident[name]": "a\u000bb"})
    assert (response.status_code, list(response.json["fields"])) == (422, ["name"])
    assert db.session.scalar(select(func.count()).select_from(Incident)) == 0


def test_line_breaks_and_tabs_are_kept_in_bodies(api, components):
    body = "Line one\r\n\r\n- item\tone\r\n- item two"
    created = api.call("POST", "incidents", json={"incident": {"name": "a < b", "body": body}})
    assert created.status_code == 201, created.json
    assert created.json["name"] == "a < b"
    update = db.session.scalars(select(IncidentUpdate)).one()
    assert update.body == "Line one\n\n- item\tone\n- item two"


def test_fields_the_api_does_not_read_are_ignored_whatever_they_hold(api, components):
    body = {"incident": {"name": "Checkout errors", "\u0000odd": "\u0007"}, "x\u0000": 1}
    assert api.call("POST", "incidents", json=body).status_code == 201
    renamed = call(api, "PATCH", "", json={"page": {"name": "Acme", "logo\u0000": "\u0001"}})
    assert renamed.status_code == 200
    assert Page.get().name == "Acme"
