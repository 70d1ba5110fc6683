"""Operator alerts through the outbox, and the per-channel circuit breaker."""

from __future__ import annotations

from statuspage.alerts import alert_operators
from statuspage.extensions import db
from statuspage.models import AlertKind, Channel, DeliveryState, TargetKind
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes.fixtures import RECEIVER_PATH, connect
from tests.fakes.server import Reply
from tests.fakes.slack import HOOK_PATH
from workers.channels import breaker


def test_operator_alerts_reach_each_alert_channel_once(app, cast, components, wired):
    made = connect(wired, "slack", "webhook", "smtp", "x")
    for kind in ("slack", "webhook", "smtp"):
        made[kind].operator_alerts = True
    made["slack"].announce_updates = made["webhook"].announce_updates = False
    db.session.commit()
    incident = open_incident()
    text = "The next update of “Login failures” is due in 5 minutes."
    created = alert_operators(incident.id, AlertKind.REMINDER, text)
    db.session.commit()
    assert sorted(r.transport for r in created) == ["email", "slack", "webhook"]
    assert alert_operators(incident.id, AlertKind.REMINDER, text) == []  # once per promise
    db.session.commit()
    for row in rows():
        if row.target_kind == TargetKind.ALERT:
            deliver(row)
    alert_rows = [r for r in rows() if r.target_kind == TargetKind.ALERT]
    assert {r.state for r in alert_rows} == {DeliveryState.SENT}

    (slack,) = wired["slack"].messages()
    assert slack["text"] == text
    assert f"/admin/incidents/{incident.id}" in slack["blocks"][0]["text"]["text"]
    (event,) = wired["receiver"].events(RECEIVER_PATH)
    assert (event["type"], event["kind"], event["text"]) == ("operator.alert", "reminder", text)
    assert wired["receiver"].verified == [(RECEIVER_PATH, True)]
    (mail,) = wired["smtp"].mails
    assert sorted(mail.recipients) == ["alice@example.com", "rob@example.com"]
    assert text in mail.part("plain")
    assert wired["x"].received() == []


def test_the_circuit_opens_after_repeated_failures_and_holds_rows_back(app, components, wired):
    slack = wired["slack"]
    channel = connect(wired, "slack")["slack"]
    slack.script("POST", HOOK_PATH, *[Reply(503, body=b"down")] * breaker.THRESHOLD)
    for n in range(breaker.THRESHOLD):
        open_incident(name=f"Incident {n}")
    for row in rows("slack"):
        deliver(row)
    db.session.expire_all()
    paused = db.session.get(Channel, channel.id)
    assert paused.consecutive_failures == breaker.THRESHOLD and paused.paused_until is not None
    assert "HTTP 503" in paused.last_error

    open_incident(name="While paused")
    held = rows("slack")[-1]
    deliver(held)
    held = rows("slack")[-1]
    assert (held.state, held.attempts) == (DeliveryState.PENDING, 0)
    assert held.next_attempt_at == paused.paused_until
    assert len(slack.received("POST", HOOK_PATH)) == breaker.THRESHOLD

    # The pause ends: the next send is the trial, and its success closes the circuit.
    channel = db.session.get(Channel, channel.id)
    channel.paused_until = None
    db.session.commit()
    make_due(held)
    deliver(held)
    db.session.expire_all()
    assert rows("slack")[-1].state == DeliveryState.SENT
    assert db.session.get(Channel, channel.id).consecutive_failures == 0
