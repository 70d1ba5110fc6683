"""Microsoft Teams through a Workflows trigger: Adaptive Cards, limits, failures."""

from __future__ import annotations

from statuspage.alerts import alert_operators
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import AlertKind, Channel, DeliveryState, Page
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply
from tests.fakes.teams import FLOW_PATH

LONG = "Logins fail for some customers while we roll back a change. " * 333


def _texts(card: dict) -> list[str]:
    return [block["text"] for block in card["body"]]


def test_it_posts_an_adaptive_card_with_every_fact(app, components, wired):
    teams = wired["teams"]
    connect(wired, "teams")
    incident = open_incident({components["API"]: "major_outage"}, body="Logins **fail**.")
    service.post_update(actor=None, incident_id=incident.id, status="resolved", body="Fixed.")
    for row in rows("teams"):
        deliver(row)

    first, resolved = teams.cards()
    assert first["type"] == "AdaptiveCard" and first["version"] == "1.4"
    title, *lines = _texts(first)
    assert title == "Investigating: Login failures" and first["body"][0]["color"] == "Attention"
    assert lines[0] == "Logins fail."
    assert "**Affected:** Platform - API (major outage)" in lines
    assert any("**Next update by**" in line for line in lines)
    (action,) = first["actions"]
    assert action["type"] == "Action.OpenUrl"
    opened = rows("teams")[0].update_id
    assert action["url"] == f"http://status.test/incidents/{incident.id}#update-{opened}"
    assert _texts(resolved)[0] == "Resolved: Login failures"
    assert resolved["body"][0]["color"] == "Good"
    assert {r.state for r in rows("teams")} == {DeliveryState.SENT}


def test_a_long_update_is_cut_and_keeps_its_facts_and_link(app, components, wired):
    connect(wired, "teams")
    incident = open_incident({components["API"]: "major_outage"}, body=LONG)
    deliver(rows("teams")[0])
    (card,) = wired["teams"].cards()
    text = "\n".join(_texts(card)[1:])
    assert len(text) <= 20_000 and len(text) > 19_000 and "…" in text
    assert "Next update by" in text and f"/incidents/{incident.id}#update-" in text


def test_a_429_is_retried_at_its_reset_and_the_url_stays_secret(app, components, wired, caplog):
    teams = wired["teams"]
    channel = connect(wired, "teams")["teams"]
    teams.script(
        "POST",
        FLOW_PATH,
        Reply(429, json={"error": {"code": "TooManyRequests"}}, headers={"Retry-After": "40"}),
    )
    open_incident()
    deliver(rows("teams")[0])
    row = rows("teams")[0]
    waited = (row.next_attempt_at - row.created_at).total_seconds()
    assert row.state == DeliveryState.FAILED and 39 <= waited <= 50
    assert "SECRETSIGNATURE" not in row.last_error + caplog.text
    db.session.expire_all()
    assert "SECRETSIGNATURE" not in (db.session.get(Channel, channel.id).last_error or "")


def test_a_refused_card_goes_dead_at_once(app, components, wired):
    wired["teams"].script("POST", FLOW_PATH, Reply(400, json={"error": {"code": "Invalid"}}))
    connect(wired, "teams")
    open_incident()
    deliver(rows("teams")[0])
    row = rows("teams")[0]
    assert row.state == DeliveryState.DEAD and "HTTP 400" in row.last_error


def test_it_carries_operator_alerts(app, cast, components, wired):
    channel = connect(wired, "teams")["teams"]
    channel.operator_alerts = True
    db.session.commit()
    incident = open_incident()
    alert_operators(incident.id, AlertKind.REMINDER, "Login failures needs an update")
    for row in rows("teams"):
        deliver(row)
    update_card, alert_card = wired["teams"].cards()
    assert _texts(alert_card)[:2] == ["Operator alert", "Login failures needs an update"]
    assert any(f"/admin/incidents/{incident.id}" in t for t in _texts(alert_card))


def test_the_card_speaks_the_page_language(app, components, wired):
    teams = wired["teams"]
    connect(wired, "teams")
    Page.get().default_language = "de"
    db.session.commit()
    open_incident({components["API"]: "major_outage"}, body="Anmeldungen schlagen fehl.")
    deliver(rows("teams")[0])

    (card,) = teams.cards()
    assert _texts(card)[0] == "Wird untersucht: Login failures"
    assert card["actions"][0]["title"] == "Störung ansehen"
