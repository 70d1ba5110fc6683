"""/subscribe offers what this installation can deliver: email once an SMTP server is
connected, webhooks and Slack channels always. A Slack subscription is confirmed through a
signed link posted to the channel, and then hears every update there."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.models import DeliveryState, Subscriber, SubscriberKind
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import add_subscriber, connect
from tests.fakes.server import Reply
from tests.signin import csrf_token
from workers import tasks

SLACK_PATH = "/services/T0READER/B0READER/tok3nOfTheReader"


def subscribers() -> list[Subscriber]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Subscriber).order_by(Subscriber.id)))
    db.session.commit()
    return found


def offered(page: str) -> list[str]:
    email = ["email"] if 'name="email"' in page else []
    return email + re.findall(r'<input type="hidden" name="method" value="(\w+)">', page)


def test_a_fresh_install_offers_webhook_and_slack_and_never_a_503(client, components, wired):
    page = client.get("/subscribe")
    assert page.status_code == 200
    assert offered(page.get_data(as_text=True)) == ["webhook", "slack"]
    token = csrf_token(client, "/subscribe")
    email = client.post("/subscribe", data={"csrf_token": token, "email": "a@example.net"})
    assert email.status_code == 200 and b'name="email"' not in email.data
    assert client.post("/api/subscriptions", json={"email": "a@example.net"}).status_code == 503
    assert subscribers() == []

    connect(wired, "smtp")
    assert offered(client.get("/subscribe").get_data(as_text=True)) == ["email", "webhook", "slack"]


def test_a_bad_slack_url_is_named_beside_its_field(client, components, wired):
    token = csrf_token(client, "/subscribe")
    answer = client.post(
        "/subscribe/endpoint", data={"csrf_token": token, "method": "slack", "url": "ftp://nope"}
    )
    assert answer.status_code == 422
    assert "this URL must be an http(s) URL" in html.unescape(answer.get_data(as_text=True))
    assert subscribers() == []


def test_a_slack_channel_subscribes_confirms_by_its_link_and_hears_updates(
    client, components, wired
):
    slack = wired["slack"]
    hook = slack.url + SLACK_PATH
    token = csrf_token(client, "/subscribe")
    answer = client.post(
        "/subscribe/endpoint",
        data={
            "csrf_token": token,
            "method": "slack",
            "url": hook,
            "components": [components["API"]],
        },
    )
    assert answer.status_code == 200 and b"Check your Slack channel" in answer.data
    (subscriber,) = subscribers()
    assert subscriber.kind == SubscriberKind.SLACK and not subscriber.is_confirmed
    assert subscriber.shown_address == slack.url + "/services/T0READER/B0READER/to…"

    tasks.send_confirmation(subscriber.id)
    (asked,) = slack.messages(SLACK_PATH)
    link = re.search(r"<http://status\.test(/subscribe/confirm/[^|>]+)\|", asked["text"]).group(1)
    open_incident({components["API"]: "major_outage"})
    assert rows("slack") == []  # nothing before it is confirmed

    assert client.post(link).status_code == 200
    assert subscribers()[0].is_confirmed
    open_incident({components["API"]: "major_outage"})
    (row,) = rows("slack")
    deliver(row)
    assert rows("slack")[0].state == DeliveryState.SENT
    update = slack.messages(SLACK_PATH)[1]
    assert update["blocks"][0]["text"]["text"].startswith("Investigating:")
    assert "http://status.test/unsubscribe/" in update["blocks"][-1]["elements"][0]["text"]


def test_a_revoked_slack_webhook_is_unsubscribed(app, components, wired):
    slack = wired["slack"]
    add_subscriber(SubscriberKind.SLACK, slack.url + SLACK_PATH)
    slack.script("POST", SLACK_PATH, Reply(404, body=b"no_service"))
    open_incident()
    deliver(rows("slack")[0])
    (row,) = rows("slack")
    assert row.state == DeliveryState.DEAD and row.last_error.endswith("subscription removed")
    assert "tok3nOfTheReader" not in row.last_error
    assert subscribers() == []


def test_the_api_takes_a_slack_url(client, components, wired):
    answer = client.post("/api/subscriptions", json={"slack": wired["slack"].url + SLACK_PATH})
    assert answer.status_code == 202 and "Slack channel" in answer.get_json()["message"]
    both = client.post("/api/subscriptions", json={"slack": "https://a.example", "webhook": "x"})
    assert both.status_code == 422
    assert [s.kind for s in subscribers()] == [SubscriberKind.SLACK]


def test_a_webhook_subscription_is_answered_in_the_readers_language(client, components, wired):
    token = csrf_token(client, "/subscribe?lang=de")
    answer = client.post(
        "/subscribe/endpoint?lang=de",
        data={"csrf_token": token, "method": "webhook", "url": wired["receiver"].url + "/hook"},
    )
    assert answer.status_code == 200
    text = html.unescape(answer.get_data(as_text=True))
    assert "Sehen Sie an Ihrem Endpunkt nach" in text
    assert "Ein signiertes subscription.confirm-Ereignis ist unterwegs" in text
