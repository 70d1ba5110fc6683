"""SMS through Twilio's own library against a local Twilio: texts only when an incident
opens and resolves and when maintenance starts, one ledger row per phone, Retry-After
honoured, the monthly cap held with the operators told, STOP at the carrier honoured, and
the auth token never in a log."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from statuspage import outbox
from statuspage.extensions import db
from statuspage.incidents import maintenance, service
from statuspage.lib.clock import now
from statuspage.models import (
    AlertKind,
    Channel,
    DeliveryState,
    OperatorAlert,
    SmsMonth,
    Subscriber,
    SubscriberKind,
    TargetKind,
)
from statuspage.subscriptions import sms
from statuspage.subscriptions.sms_rules import SMS_LIMIT, sms_length
from tests.channels.helpers import deliver, make_due, open_incident, rows
from tests.fakes.fixtures import add_subscriber, connect
from tests.fakes.twilio import ACCOUNT_SID, AUTH_TOKEN, MESSAGES, too_many
from workers import tasks
from workers.channels.sms import Sms

PHONES = ("+447700900001", "+447700900002", "+447700900003")
LONG = "Logins fail for some customers while we roll back a change. " * 20


def _phones(*numbers: str, **kwargs) -> list[Subscriber]:
    return [add_subscriber(SubscriberKind.SMS, n, **kwargs) for n in numbers or PHONES]


def _deliver_all() -> None:
    for row in rows("sms"):
        deliver(row)


def test_phones_hear_of_an_incident_opening_and_resolving_only(app, components, wired):
    twilio = wired["twilio"]
    connect(wired, "twilio")
    _phones()
    add_subscriber(SubscriberKind.SMS, "+447700900009", confirmed=False)
    incident = open_incident({components["API"]: "major_outage"}, body=LONG)
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    service.post_update(actor=None, incident_id=incident.id, status="monitoring", body="Fixed")
    service.resolve(actor=None, incident_id=incident.id, body="All good again.")
    _deliver_all()

    sent = rows("sms")
    assert len(sent) == 2 * len(PHONES)  # one row per confirmed phone and texted update
    assert {r.state for r in sent} == {DeliveryState.SENT}
    assert {r.target_kind for r in sent} == {TargetKind.SUBSCRIBER}
    assert {r.external_id for r in sent} == {m["sid"] for m in twilio.messages}
    opened = [m for m in twilio.messages if "Investigating" in m["body"]]
    resolved = [m for m in twilio.messages if "Resolved" in m["body"]]
    assert sorted(m["to"] for m in opened) == sorted(m["to"] for m in resolved) == list(PHONES)
    first = opened[0]["body"]
    assert sms_length(first) <= SMS_LIMIT and "..." in first and "…" not in first
    assert all(c.isascii() for c in first)  # GSM-7: two segments hold 306 characters
    assert "Login failures" in first and "Major impact" in first
    assert f"/incidents/{incident.id}#update-" in first and first.endswith("Reply STOP to end")


def test_phones_hear_of_maintenance_only_when_it_starts(app, components, wired):
    twilio = wired["twilio"]
    connect(wired, "twilio")
    _phones(PHONES[0])
    window = maintenance.schedule(
        actor=None,
        name="Database upgrade",
        body="We upgrade the database.",
        scheduled_for=now() + timedelta(hours=1),
        scheduled_until=now() + timedelta(hours=2),
        components=[components["API"]],
    )
    assert maintenance.start(window.id) and maintenance.complete(window.id)
    _deliver_all()
    (text,) = twilio.messages  # not when it was scheduled, nor when it completed
    assert "In progress: Database upgrade" in text["body"]


def test_a_429_is_waited_out_as_retry_after_says(app, components, wired):
    twilio = wired["twilio"]
    channel = connect(wired, "twilio")["twilio"]
    _phones(*PHONES[:2])
    twilio.script("POST", MESSAGES, too_many(30))
    open_incident()
    _deliver_all()
    held = rows("sms")
    assert {r.state for r in held} == {DeliveryState.FAILED}  # the rest of the batch waits too
    for row in held:
        waited = (row.next_attempt_at - row.created_at).total_seconds()
        assert 29 <= waited <= 40 and "429" in row.last_error
    assert twilio.messages == [] and len(twilio.received("POST", MESSAGES)) == 1
    paused = db.session.get(Channel, channel.id).paused_until
    assert paused is not None and (paused - held[0].next_attempt_at) < timedelta(seconds=1)
    make_due(*held)  # the half minute has passed
    db.session.get(Channel, channel.id).paused_until = None
    db.session.commit()
    _deliver_all()
    assert {r.state for r in rows("sms")} == {DeliveryState.SENT}
    assert sorted(m["to"] for m in twilio.messages) == list(PHONES[:2])
    month = db.session.scalars(select(SmsMonth)).one()
    assert month.sent == 2  # the refused attempt was not counted


def test_past_the_monthly_cap_texts_are_dropped_and_operators_are_told(
    app, client, cast, components, wired
):
    from tests.signin import sign_in

    twilio, slack = wired["twilio"], wired["slack"]
    channels = connect(wired, "twilio", "slack")
    channels["slack"].operator_alerts = True
    channel = channels["twilio"]
    channel.config = {**channel.config, "monthly_cap": 2}
    db.session.commit()
    _phones()
    open_incident()
    _deliver_all()

    states = sorted(r.state for r in rows("sms"))
    assert states == [DeliveryState.DEAD, DeliveryState.SENT, DeliveryState.SENT]
    (dropped,) = [r for r in rows("sms") if r.state == DeliveryState.DEAD]
    month = now().strftime("%Y-%m")
    assert dropped.last_error == (
        f"dropped, not queued: the monthly SMS cap (2) is reached for {month}; "
        "raise the cap, then Retry to send it"
    )
    assert len(twilio.messages) == 2
    (alert,) = db.session.scalars(select(OperatorAlert)).all()
    assert alert.kind == AlertKind.SMS_CAP and "cap (2)" in alert.text
    assert "dropped, not queued" in alert.text
    for row in rows("slack"):
        deliver(row)
    assert any("monthly SMS cap" in str(message) for message in slack.messages())
    assert sms.sent_this_month(channel) == 2
    sign_in(client, "alice@example.com")
    listing = client.get("/admin/channels").get_data(as_text=True)
    assert "2 of 2 texts this month; texts past the cap are dropped, not queued" in listing

    # A confirmation past the cap is held back too, and the operators are not told twice.
    pending = add_subscriber(SubscriberKind.SMS, "+447700900077", confirmed=False)
    pending.confirm_requested_at = now()
    db.session.commit()
    tasks.send_confirmation(pending.id)
    assert len(twilio.messages) == 2
    assert len(db.session.scalars(select(OperatorAlert)).all()) == 1

    # Raised, the cap lets an operator's Retry send the dropped text, as its entry says.
    channel.config = {**channel.config, "monthly_cap": 3}
    db.session.commit()
    assert outbox.retry(dropped.id)
    db.session.commit()
    deliver(dropped.id)
    assert {r.state for r in rows("sms")} == {DeliveryState.SENT}
    assert len(twilio.messages) == 3


def test_a_number_stopped_at_the_carrier_is_unsubscribed(app, components, wired):
    twilio = wired["twilio"]
    connect(wired, "twilio")
    stopped, fine = _phones(*PHONES[:2])
    twilio.stopped.add(stopped.address)
    open_incident()
    _deliver_all()
    by_phone = {r.target_id: r for r in rows("sms")}
    assert by_phone[stopped.id].state == DeliveryState.DEAD
    assert "21610" in by_phone[stopped.id].last_error
    assert by_phone[fine.id].state == DeliveryState.SENT
    db.session.expire_all()
    assert db.session.get(Subscriber, stopped.id).confirmed_at is None
    assert db.session.scalars(select(SmsMonth)).one().sent == 1


def test_a_wrong_token_goes_dead_and_no_token_is_logged(app, components, wired, caplog):
    caplog.set_level(logging.DEBUG)
    channel = connect(wired, "twilio")["twilio"]
    _phones(PHONES[0])
    open_incident()
    _deliver_all()
    assert rows("sms")[0].state == DeliveryState.SENT
    channel.secrets = {"auth_token": "wrong-token-wrong-token"}
    db.session.commit()
    service.resolve(actor=None, incident_id=rows("sms")[0].update.incident_id, body="Done.")
    _deliver_all()
    dead = rows("sms")[-1]
    assert dead.state == DeliveryState.DEAD and "20003" in dead.last_error
    logged = caplog.text + dead.last_error + (db.session.get(Channel, channel.id).last_error or "")
    assert AUTH_TOKEN not in logged and "wrong-token-wrong-token" not in logged


def test_send_test_reads_the_account_without_texting(app, wired):
    twilio = wired["twilio"]
    channel = connect(wired, "twilio")["twilio"]
    assert "Example Ops" in Sms().test(channel, "")
    assert twilio.messages == []


def test_the_admin_connects_twilio_with_the_token_encrypted_and_shows_the_months_texts(
    app, client, cast, wired
):
    from tests.signin import csrf_token, sign_in

    sign_in(client, "alice@example.com")
    path = "/admin/channels/new/twilio"
    data = {
        "csrf_token": csrf_token(client, path),
        "name": "Texts",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "sender": "+15005550006",
        "monthly_cap": "-1",
        "enabled": "y",
    }
    refused = client.post(path, data=data)
    assert refused.status_code == 422
    assert "must be between 0 and 10000000" in refused.get_data(as_text=True)
    assert client.post(path, data={**data, "monthly_cap": "250"}).status_code == 302
    channel = db.session.scalars(select(Channel)).one()
    assert channel.config["monthly_cap"] == 250 and channel.secrets == {"auth_token": AUTH_TOKEN}
    assert AUTH_TOKEN not in (channel.secrets_encrypted or "")
    assert AUTH_TOKEN not in client.get(f"/admin/channels/{channel.id}").get_data(as_text=True)
    listing = client.get("/admin/channels").get_data(as_text=True)
    assert "subscriber texts" in listing and "0 of 250 texts this month" in listing
    channel.announce_updates = True
    db.session.commit()
    open_incident()
    assert rows("twilio") == []  # it carries subscribers' texts, it posts nothing itself
