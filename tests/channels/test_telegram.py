"""Telegram through the Bot API against a local one: replies to the incident's first
message, the text limit, flood control and a token that never reaches the logs."""

from __future__ import annotations

import logging

from statuspage.channel_messages import telegram_length
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib import http
from statuspage.models import Channel, DeliveryState
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply
from tests.fakes.telegram import TOKEN, too_many
from workers.channels.telegram import Telegram

SEND = f"/bot{TOKEN}/sendMessage"
LONG = "Logins fail for some customers 🔥 while we roll back a change. " * 100


def _update(incident, status: str, body: str) -> None:
    service.post_update(actor=None, incident_id=incident.id, status=status, body=body)


def test_every_update_replies_to_the_incidents_first_message(app, components, wired):
    telegram = wired["telegram"]
    connect(wired, "telegram")
    login = open_incident({components["API"]: "major_outage"}, body=LONG)
    search = open_incident(name="Slow search", body="Searching is slow.")
    _update(login, "identified", "Found it")
    _update(search, "resolved", "Fixed")
    _update(login, "resolved", "Fixed")
    for row in rows("telegram"):
        deliver(row)

    first, other, identified, search_fixed, resolved = telegram.messages
    assert "reply_to_message" not in first and "reply_to_message" not in other
    assert identified["reply_to_message"]["message_id"] == first["message_id"]
    assert resolved["reply_to_message"]["message_id"] == first["message_id"]
    assert search_fixed["reply_to_message"]["message_id"] == other["message_id"]
    assert telegram_length(first["text"]) <= 4096 and "…" in first["text"]
    assert "API (major outage)" in first["text"] and "Next update by" in first["text"]
    assert first["text"].endswith(f"/incidents/{login.id}#update-{rows('telegram')[0].update_id}")
    assert {m["link_preview_options"]["is_disabled"] for m in telegram.messages} == {True}
    sent = rows("telegram")
    assert {r.state for r in sent} == {DeliveryState.SENT}
    assert sent[0].external_url == f"https://t.me/examplestatus/{first['message_id']}"


def test_flood_control_is_waited_out_as_the_body_says(app, components, wired):
    telegram = wired["telegram"]
    connect(wired, "telegram")
    telegram.script("POST", SEND, too_many(35))
    open_incident()
    deliver(rows("telegram")[0])
    row = rows("telegram")[0]
    waited = (row.next_attempt_at - row.created_at).total_seconds()
    assert row.state == DeliveryState.FAILED and 34 <= waited <= 45
    assert "retry after 35" in row.last_error and telegram.messages == []


def test_an_unknown_outcome_holds_the_thread_and_is_not_sent_again(app, components, wired):
    telegram = wired["telegram"]
    connect(wired, "telegram")
    telegram.script("POST", SEND, Reply(process=True, cut="connection"))
    incident = open_incident()
    _update(incident, "identified", "Found it")
    for row in rows("telegram"):
        deliver(row)
    first, later = rows("telegram")
    assert first.state == DeliveryState.UNCERTAIN and "no answer" in first.last_error
    assert later.state == DeliveryState.PENDING
    assert len(telegram.messages) == 1


def test_a_wrong_token_goes_dead_and_no_token_is_logged(app, components, wired, caplog):
    caplog.set_level(logging.DEBUG)
    channel = connect(wired, "telegram")["telegram"]
    channel.secrets = {"bot_token": "987654321:WrongTokenWrongToken"}
    db.session.commit()
    open_incident()
    deliver(rows("telegram")[0])
    row = rows("telegram")[0]
    assert row.state == DeliveryState.DEAD and "Unauthorized" in row.last_error
    assert "WrongToken" not in caplog.text + row.last_error
    assert "WrongToken" not in (db.session.get(Channel, channel.id).last_error or "")
    assert http.redact_url(f"https://api.telegram.org/bot{TOKEN}/sendMessage") == (
        "https://api.telegram.org/bot***/…"
    )


def test_the_test_checks_the_bot_and_the_chat_without_posting(app, components, wired):
    telegram = wired["telegram"]
    channel = connect(wired, "telegram")["telegram"]
    message = Telegram().test(channel, "owner@example.com")
    assert message == "Connected as @example_status_bot to “Example Status”."
    assert telegram.messages == []
