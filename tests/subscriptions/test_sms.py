"""Subscribing by phone: the form and API take E.164 numbers, a text asks for YES, and the
replies Twilio forwards (signed with the account's token, checked with Twilio's own
validator) confirm, stop and restart the subscription."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import Subscriber, SubscriberKind
from tests.fakes.fixtures import connect
from tests.fakes.twilio import AUTH_TOKEN, SENDER, signature
from tests.subscriptions.test_subscribe import csrf
from workers import tasks

INBOUND = "/subscribe/sms/inbound"
PUBLIC_INBOUND = "http://status.test" + INBOUND
PHONE = "+447700900123"


@pytest.fixture
def twilio(app, components, wired):
    connect(wired, "twilio")
    return wired["twilio"]


def phones() -> list[Subscriber]:
    db.session.expire_all()
    found = list(
        db.session.scalars(select(Subscriber).where(Subscriber.kind == SubscriberKind.SMS))
    )
    db.session.commit()
    return found


def text_in(client, body: str, sender: str = PHONE, token: str = AUTH_TOKEN, url: str = ""):
    """What Twilio posts when a phone texts our number, signed as Twilio signs it."""
    params = {
        "MessageSid": "SM" + "f" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": SENDER,
        "Body": body,
        "NumMedia": "0",
    }
    signed = signature(url or PUBLIC_INBOUND, params, token)
    return client.post(INBOUND, data=params, headers={"X-Twilio-Signature": signed})


def test_a_phone_subscribes_confirms_by_reply_stops_and_starts_again(client, components, twilio):
    token = csrf(client, "/subscribe")
    page = client.get("/subscribe").get_data(as_text=True)
    assert 'action="/subscribe/sms"' in page and 'autocomplete="tel"' in page
    response = client.post(
        "/subscribe/sms",
        data={"csrf_token": token, "phone": "+44 7700 900-123", "components": [components["API"]]},
    )
    assert response.status_code == 200 and b"reply YES" in response.data
    (subscriber,) = phones()
    assert subscriber.address == PHONE and subscriber.confirmed_at is None

    tasks.send_confirmation(subscriber.id)
    (confirmation,) = twilio.messages
    assert confirmation["to"] == PHONE and confirmation["from"] == SENDER
    assert "reply YES" in confirmation["body"] and "STOP" in confirmation["body"]

    answer = text_in(client, "yes")
    assert answer.status_code == 200 and answer.mimetype == "application/xml"
    assert answer.get_data(as_text=True).endswith("<Response />")
    (subscriber,) = phones()
    assert subscriber.confirmed_at is not None
    assert [c.id for c in subscriber.components] == [components["API"]]

    text_in(client, "Stop.")
    (subscriber,) = phones()
    assert subscriber.confirmed_at is None  # kept only so START restores its choice

    text_in(client, "START")
    (subscriber,) = phones()
    assert subscriber.confirmed_at is not None
    assert [c.id for c in subscriber.components] == [components["API"]]


def test_other_texts_and_unknown_numbers_change_nothing(client, twilio):
    client.post("/api/subscriptions", json={"phone": PHONE})
    assert text_in(client, "yes please, and what is this?").status_code == 200
    assert text_in(client, "YES", sender="+15550000001").status_code == 200
    (subscriber,) = phones()
    assert subscriber.confirmed_at is None


def test_unsigned_or_missigned_replies_are_refused(client, twilio):
    client.post("/api/subscriptions", json={"phone": PHONE})
    params = {"From": PHONE, "To": SENDER, "Body": "YES"}
    assert client.post(INBOUND, data=params).status_code == 403
    assert text_in(client, "YES", token="not-the-auth-token").status_code == 403
    # Signed over another URL than the public one configured: a replay elsewhere fails.
    assert text_in(client, "YES", url="http://elsewhere.test" + INBOUND).status_code == 403
    forged = {**params, "Body": "STOP"}
    signed_yes = signature(PUBLIC_INBOUND, params)
    response = client.post(INBOUND, data=forged, headers={"X-Twilio-Signature": signed_yes})
    assert response.status_code == 403
    assert phones()[0].confirmed_at is None


def test_the_api_takes_a_phone_and_names_a_bad_number(app, client, twilio):
    app.config["SUBSCRIBE_RATE_LIMIT"] = "100 per minute"
    accepted = client.post("/api/subscriptions", json={"phone": "0044 7700 900123"})
    assert accepted.status_code == 202 and "reply YES" in accepted.get_json()["message"]
    for bad in ("07700 900123", "+0123456789", "+44 7700", "+1" + "2" * 15, "call me"):
        refused = client.post("/api/subscriptions", json={"phone": bad})
        assert refused.status_code == 422, bad
        assert "country code" in refused.get_json()["fields"]["phone"]
    both = client.post("/api/subscriptions", json={"phone": PHONE, "email": "a@example.net"})
    assert both.status_code == 422
    assert [p.address for p in phones()] == [PHONE]


def test_the_form_names_the_field_of_a_bad_number(client, twilio):
    token = csrf(client, "/subscribe")
    response = client.post("/subscribe/sms", data={"csrf_token": token, "phone": "12345"})
    assert response.status_code == 422
    assert "enter the number with its country code" in response.get_data(as_text=True)
    assert phones() == []


def test_the_sms_form_is_rate_limited_like_the_others(app, client, twilio):
    app.config["SUBSCRIBE_RATE_LIMIT"] = "2 per minute"
    token = csrf(client, "/subscribe")
    codes = [
        client.post(
            "/subscribe/sms", data={"csrf_token": token, "phone": f"+4477009001{n:02d}"}
        ).status_code
        for n in range(4)
    ]
    assert codes == [200, 200, 429, 429]
    assert len(phones()) == 2


def test_without_a_twilio_channel_no_phone_is_taken(client, components):
    assert b'action="/subscribe/sms"' not in client.get("/subscribe").data
    assert client.post("/api/subscriptions", json={"phone": PHONE}).status_code == 503
    assert text_in(client, "YES").status_code == 404
    assert phones() == []


def test_the_phone_form_speaks_the_pages_language(client, twilio):
    page = client.get("/subscribe?lang=de").get_data(as_text=True)
    assert "Per SMS abonnieren" in page and "Mobilnummer mit Ländervorwahl" in page
    assert 'action="/subscribe/sms?lang=de"' in page
