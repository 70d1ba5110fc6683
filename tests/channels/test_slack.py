"""Slack incoming webhooks: Block Kit messages, permanent and temporary failures."""

from __future__ import annotations

import re

from sqlalchemy import update

from statuspage.alerts import alert_operators
from statuspage.extensions import db
from statuspage.messages import incident_url
from statuspage.models import AlertKind, Channel, DeliveryState, Incident
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply
from tests.fakes.slack import HOOK_PATH


def test_it_posts_a_block_kit_message(app, components, wired):
    slack = wired["slack"]
    connect(wired, "slack")
    incident = open_incident(
        {components["API"]: "major_outage"}, body="Logins fail when 2 > 1 & **retry** helps <b>"
    )
    deliver(rows("slack")[0])
    (message,) = slack.messages()
    header, section, context = message["blocks"]
    assert header["text"]["text"] == "Investigating: Login failures"
    text = section["text"]["text"]
    assert "Logins fail when 2 &gt; 1 &amp; retry helps" in text  # escaped plain text
    assert "*Affected:* Platform - API (major outage)" in text and "*Next update by*" in text
    assert f"<http://status.test/incidents/{incident.id}#update-" in text
    assert message["text"].startswith("Investigating: Login failures")
    assert context["type"] == "context"
    assert rows("slack")[0].state == DeliveryState.SENT


def test_a_removed_webhook_goes_dead_and_keeps_the_url_out_of_the_ledger(app, components, wired):
    slack = wired["slack"]
    channel = connect(wired, "slack")["slack"]
    slack.script("POST", HOOK_PATH, Reply(404, body=b"no_service"))
    open_incident()
    deliver(rows("slack")[0])
    row = rows("slack")[0]
    assert row.state == DeliveryState.DEAD
    assert "HTTP 404" in row.last_error and "no_service" in row.last_error
    assert "XXXXXXXX" not in row.last_error  # the secret part of the hook URL
    db.session.expire_all()
    assert "XXXXXXXX" not in (db.session.get(Channel, channel.id).last_error or "")


def test_429_retry_after_is_honoured(app, components, wired):
    slack = wired["slack"]
    connect(wired, "slack")
    slack.script("POST", HOOK_PATH, Reply(429, body=b"rate_limited", headers={"Retry-After": "30"}))
    open_incident()
    deliver(rows("slack")[0])
    row = rows("slack")[0]
    waited = (row.next_attempt_at - row.created_at).total_seconds()
    assert row.state == DeliveryState.FAILED and 29 <= waited <= 40


def test_the_webhook_url_never_reaches_the_logs(app, components, wired, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    connect(wired, "slack")
    wired["slack"].script("POST", HOOK_PATH, Reply(500, body=b"oops"))
    open_incident()
    deliver(rows("slack")[0])
    assert "POST http://127.0.0.1" in caplog.text or "failed" in caplog.text
    assert "XXXXXXXXXXXXXXXX" not in caplog.text and "B0000" not in caplog.text


HOSTILE_NAME = "<!channel> <https://evil.example|click> & co"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_a_name_never_becomes_slack_markup_in_any_field(app, cast, components, wired):
    slack = wired["slack"]
    channel = connect(wired, "slack")["slack"]
    channel.operator_alerts = True
    db.session.commit()
    incident = open_incident()
    db.session.execute(update(Incident).where(Incident.id == incident.id).values(name=HOSTILE_NAME))
    db.session.commit()
    alert_operators(incident.id, AlertKind.REMINDER, f"{HOSTILE_NAME} needs an update")
    for row in rows("slack"):
        deliver(row)
    update_message, alert_message = slack.messages()
    own_link = re.compile(r"<(http://status\.test/[^|>\s]+)\|View incident>")
    for message in (update_message, alert_message):
        for text in _strings(message):
            assert "<" not in own_link.sub("", text) and ">" not in own_link.sub("", text), text
    assert update_message["blocks"][0]["text"]["text"] == (
        "Investigating: &lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co"
    )
    for text in (update_message["text"], update_message["blocks"][1]["text"]["text"]):
        assert own_link.search(text).group(1).startswith(incident_url(incident.id))
    assert "&lt;!channel&gt;" in alert_message["text"]
    assert {r.state for r in rows("slack")} == {DeliveryState.SENT}
