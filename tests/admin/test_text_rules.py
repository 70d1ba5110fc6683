"""Every admin form refuses control characters in bodies and anything but one line of plain
text in names, with the error on the field, and writes nothing."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import AuditEvent
from tests.conftest import PASSWORD
from tests.signin import csrf_token, sign_in

BODY = "bell\u0007"
NAME = "a\u000bb"


def audited() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent))


def field_errors(page: str, name: str) -> list[str]:
    """The errors shown beside the fields called ``name`` (a page may hold several forms)."""
    errors = []
    for control in lxml_html.fromstring(page).cssselect(f'[name="{name}"]'):
        box = next(a for a in control.iterancestors() if "field" in a.get("class", "").split())
        errors += [e.text_content() for e in box.cssselect(".error")]
    return errors


@pytest.fixture
def admin(client, cast):
    sign_in(client, "alice@example.com")
    return client


@pytest.fixture
def opened(cast):
    incident = service.open_incident(
        actor=cast["admin"], name="Queue delays", impact="minor", body="x"
    )
    return incident.id, incident.updates[0].id


WINDOW = {"scheduled_for": "2030-01-01T10:00", "scheduled_until": "2030-01-01T11:00"}
OPEN = {"name": "ok", "impact": "minor", "status": "investigating", "body": "x"}
TEMPLATE = {"name": "n", "title": "t", "status": "investigating", "body": "x"}
CASES = [
    ("incidents/new", {**OPEN, "name": NAME}, "name", "control characters"),
    ("incidents/new", {**OPEN, "name": "<b>Down</b>"}, "name", "plain text"),
    ("incidents/new", {**OPEN, "name": "a\r\nb"}, "name", "single line"),
    ("incidents/new", {**OPEN, "body": BODY}, "body", "U+0007"),
    ("incidents/{i}", {"status": "identified", "body": BODY}, "body", "U+0007"),
    ("incidents/{i}/resolve", {"resolution": BODY}, "resolution", "U+0007"),
    ("updates/{u}/edit", {"corrected_body": BODY}, "corrected_body", "U+0007"),
    ("maintenance", {"name": NAME, "body": "x", **WINDOW}, "name", "U+000B"),
    ("maintenance", {"name": "ok", "body": BODY, **WINDOW}, "body", "U+0007"),
    ("settings", {"name": NAME, "time_zone": "UTC"}, "name", "U+000B"),
    ("templates", {**TEMPLATE, "name": NAME}, "name", "U+000B"),
    ("templates", {**TEMPLATE, "title": "<i>t"}, "title", "plain text"),
    ("templates", {**TEMPLATE, "body": BODY}, "body", "U+0007"),
    ("components", {"name": NAME, "status": "operational"}, "name", "U+000B"),
    (
        "components",
        {"name": "ok", "description": BODY, "status": "operational"},
        "description",
        "U+0007",
    ),
    ("groups", {"name": NAME}, "name", "U+000B"),
    ("inbox/templates", {"name": NAME, "body": "x"}, "name", "U+000B"),
    ("inbox/templates", {"name": "n", "body": BODY}, "body", "U+0007"),
    (
        "users",
        {"email": "a\u0001@example.com", "role": "viewer", "password": PASSWORD},
        "email",
        "U+0001",
    ),
]


@pytest.mark.parametrize("path, data, field, message", CASES)
def test_bad_text_is_refused_on_its_field_and_nothing_is_written(
    admin, opened, path, data, field, message
):
    incident_id, update_id = opened
    url = "/admin/" + path.format(i=incident_id, u=update_id)
    token = csrf_token(admin, "/admin/")
    before = audited()
    response = admin.post(url, data={"csrf_token": token, **data})
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), field)
    assert any(message in e for e in errors), errors
    assert audited() == before
