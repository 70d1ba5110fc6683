"""The compose preview endpoint: role, CSRF and input checks, each channel's text as its
worker fits it, the page's language, and ids chosen before posting (a form submitted
twice posts once)."""

from __future__ import annotations

import pytest

from statuspage.extensions import db
from statuspage.incidents import service, workflow
from statuspage.messages import x_length
from statuspage.models import Incident, IncidentUpdate, Page
from statuspage.models.types import new_public_id
from tests.channels.helpers import deliver, rows
from tests.fakes.fixtures import connect
from tests.signin import csrf_token, login

LONG = "Logins fail for some customers while we roll back a change. " * 12


@pytest.fixture
def incident(cast, components):
    return service.open_incident(
        actor=cast["responder"],
        name="API errors",
        impact="major",
        body="Investigating",
        components={components["API"]: "major_outage"},
    )


def _preview(client, incident_id: str, **fields: str):
    token = csrf_token(client, f"/admin/incidents/{incident_id}")
    data = {"csrf_token": token, "status": "identified", "body": "", "notify": "y"}
    data = {**data, "update_id": new_public_id(), **fields}
    return client.post(f"/admin/incidents/{incident_id}/preview", data=data)


def _by_kind(response) -> dict[str, dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {entry["kind"]: entry for entry in response.json["previews"]}


def test_only_responders_with_a_token_get_a_preview(client, incident):
    assert login(client, "vera@example.com").status_code == 302
    assert _preview(client, incident.id).status_code == 403
    client.post("/admin/logout", data={"csrf_token": csrf_token(client, "/admin/")})
    assert login(client, "rob@example.com").status_code == 302
    refused = client.post(f"/admin/incidents/{incident.id}/preview", data={"status": "identified"})
    assert refused.status_code == 400
    assert _preview(client, incident.id).status_code == 200


def test_it_names_each_field_it_cannot_preview(client, incident):
    assert login(client, "rob@example.com").status_code == 302
    response = _preview(
        client, incident.id, status="bogus", body="x" * (workflow.MAX_BODY + 1), update_id="a/b"
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"status", "body", "update_id"}
    assert db.session.scalar(db.select(db.func.count()).select_from(IncidentUpdate)) == 1


def test_each_channel_is_fitted_as_its_worker_fits_it(client, wired, incident):
    made = connect(wired, "x", "mastodon", "slack", "smtp")
    assert login(client, "rob@example.com").status_code == 302
    update_id = new_public_id()
    found = _by_kind(_preview(client, incident.id, body=LONG, update_id=update_id))
    assert set(found) == {"page", "x", "mastodon", "slack", "email"}
    x = found["x"]
    assert x["length"] == x_length(x["text"]) <= x["limit"] == 280
    assert x["shortened"] and LONG.strip().endswith(x["cut"]) and x["cut"] not in x["text"]
    assert x["text"].endswith(f"/incidents/{incident.id}#update-{update_id}")
    mastodon = found["mastodon"]
    assert (mastodon["limit"], mastodon["limit_known"]) == (500, False)
    made["mastodon"].post_limit = 200
    db.session.commit()
    mastodon = _by_kind(_preview(client, incident.id, body=LONG))["mastodon"]
    assert (mastodon["limit"], mastodon["limit_known"]) == (200, True)
    assert mastodon["length"] <= 200 and mastodon["shortened"]
    assert found["email"]["subject"].endswith("Identified: API errors")
    assert "Unsubscribe" not in found["email"]["text"]

    quiet = _by_kind(_preview(client, incident.id, body=LONG, notify=""))
    assert set(quiet) == {"page"}  # no notifications: only the page changes
    token = csrf_token(client, f"/admin/incidents/{incident.id}")
    chosen = client.post(
        f"/admin/incidents/{incident.id}/preview",
        data={
            "csrf_token": token,
            "status": "identified",
            "body": "Rolled back",
            "notify": "y",
            "update_id": new_public_id(),
            "channels-shown": "1",
            "channels": [str(made["slack"].id)],
        },
    )
    assert set(_by_kind(chosen)) == {"page", "slack", "email"}


def test_resolving_previews_the_components_back_to_operational(client, wired, incident):
    connect(wired, "x")
    assert login(client, "rob@example.com").status_code == 302
    found = _by_kind(_preview(client, incident.id, status="resolved", body="Fixed."))
    assert "API (operational)" in found["x"]["text"]
    assert "API (operational, was major outage)" in found["page"]["html"]


def test_fixed_words_speak_the_page_language(client, wired, incident):
    connect(wired, "x")
    Page.get().default_language = "de"
    db.session.commit()
    assert login(client, "rob@example.com").status_code == 302
    found = _by_kind(_preview(client, incident.id, body="Rollback läuft."))
    assert found["x"]["text"].startswith("Ursache gefunden: API errors\nRollback läuft.")
    assert "Nächstes Update bis" in found["x"]["text"]


def test_a_new_incident_is_opened_where_its_preview_linked(client, wired, cast, components):
    connect(wired, "x")
    assert login(client, "rob@example.com").status_code == 302
    token = csrf_token(client, "/admin/incidents/new")
    form = {
        "csrf_token": token,
        "name": "Checkout slow",
        "impact": "minor",
        "status": "investigating",
        "body": "Looking into it.",
        "notify": "y",
        "incident_id": new_public_id(),
        "update_id": new_public_id(),
    }
    found = _by_kind(client.post("/admin/incidents/new/preview", data=form))
    link = f"/incidents/{form['incident_id']}#update-{form['update_id']}"
    assert found["x"]["text"].startswith("Investigating: Checkout slow")
    assert found["x"]["text"].endswith(link)
    assert client.post("/admin/incidents/new", data=form).status_code == 302
    again = client.post("/admin/incidents/new", data=form)  # the same form, sent twice
    assert again.status_code == 302 and again.location.endswith(form["incident_id"])
    opened = db.session.get(Incident, form["incident_id"])
    assert [u.id for u in opened.updates] == [form["update_id"]]
    bad = client.post("/admin/incidents/new/preview", data={**form, "update_interval": "soon"})
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"update_interval"}


def test_an_update_form_sent_twice_posts_once(client, incident):
    assert login(client, "rob@example.com").status_code == 302
    token = csrf_token(client, f"/admin/incidents/{incident.id}")
    form = {"csrf_token": token, "status": "identified", "body": "Found it.", "notify": "y"}
    form["update_id"] = new_public_id()
    for _ in range(2):
        assert client.post(f"/admin/incidents/{incident.id}", data=form).status_code == 302
    db.session.expire_all()
    posted = db.session.get(Incident, incident.id).updates
    assert form["update_id"] in [u.id for u in posted] and len(posted) == 2


def test_teams_discord_telegram_and_bluesky_get_what_was_previewed(client, wired, incident):
    connect(wired, "teams", "discord", "telegram", "bluesky")
    assert login(client, "rob@example.com").status_code == 302
    update_id = new_public_id()
    body = "Rolled back; **logins** work again for 98% of accounts. " * 8
    found = _by_kind(_preview(client, incident.id, body=body, update_id=update_id))
    assert found["bluesky"]["shortened"] and found["bluesky"]["limit"] == 300
    token = csrf_token(client, f"/admin/incidents/{incident.id}")
    form = {"csrf_token": token, "status": "identified", "body": body, "notify": "y"}
    posted = client.post(f"/admin/incidents/{incident.id}", data={**form, "update_id": update_id})
    assert posted.status_code == 302
    for row in rows():
        if row.state == "pending":
            deliver(row)

    card = found["teams"]["payload"]["attachments"][0]["content"]
    assert wired["teams"].cards()[-1] == card
    (embed,) = wired["discord"].messages[-1]["embeds"]
    (previewed,) = found["discord"]["payload"]["embeds"]
    del embed["timestamp"], previewed["timestamp"]  # the time of posting, not of the preview
    assert embed == previewed
    assert wired["telegram"].messages[-1]["text"] == found["telegram"]["text"]
    assert wired["bluesky"].posts[-1]["value"]["text"] == found["bluesky"]["text"]
