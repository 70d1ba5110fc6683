"""Subscribing by form and API, double opt-in, managing and one-click unsubscribe."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.models import Subscriber, SubscriberKind
from statuspage.subscriptions import links
from tests.fakes.fixtures import connect
from workers import tasks


@pytest.fixture
def smtp_ready(app, components, wired):
    connect(wired, "smtp")
    return wired["smtp"]


def csrf(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def subscribers() -> list[Subscriber]:
    db.session.expire_all()
    found = list(db.session.scalars(select(Subscriber).order_by(Subscriber.id)))
    db.session.commit()
    return found


def send_confirmations() -> None:
    for subscriber in subscribers():
        tasks.send_confirmation(subscriber.id)


def link_in(text: str, path: str) -> str:
    return re.search(rf"http://status\.test({path}/[^\s\"<]+)", text).group(1)


def test_subscribe_confirm_manage_and_unsubscribe(client, components, smtp_ready):
    token = csrf(client, "/subscribe")
    response = client.post(
        "/subscribe",
        data={
            "csrf_token": token,
            "email": "Reader@Example.NET",
            "components": [components["API"]],
        },
    )
    assert response.status_code == 200 and b"Check your inbox" in response.data
    (subscriber,) = subscribers()
    assert subscriber.address == "reader@example.net" and subscriber.confirmed_at is None
    send_confirmations()
    (mail,) = smtp_ready.to("reader@example.net")
    confirm = link_in(mail.part("plain"), "/subscribe/confirm")
    assert confirm in mail.part("html")

    assert client.get(confirm).status_code == 200  # a link scanner's GET confirms nothing
    assert subscribers()[0].confirmed_at is None
    done = client.post(confirm)
    assert done.status_code == 200 and b"Subscription confirmed" in done.data
    (subscriber,) = subscribers()
    assert subscriber.confirmed_at is not None
    assert [c.id for c in subscriber.components] == [components["API"]]

    manage = links.manage_url(subscriber).removeprefix("http://status.test")
    page = client.get(manage)
    assert page.status_code == 200 and b"r***@example.net" in page.data
    saved = client.post(
        manage, data={"csrf_token": csrf(client, manage), "components": [components["Website"]]}
    )
    assert saved.status_code == 200 and b"Saved." in saved.data
    assert [c.id for c in subscribers()[0].components] == [components["Website"]]

    unsubscribe = links.unsubscribe_url(subscriber).removeprefix("http://status.test")
    one_click = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200 and b"Unsubscribed" in one_click.data
    assert subscribers() == []
    assert client.post(unsubscribe).status_code == 404  # the link died with the address


def test_it_never_reveals_whether_an_address_is_subscribed(client, smtp_ready):
    first = client.post("/api/subscriptions", json={"email": "known@example.net"})
    (subscriber,) = subscribers()
    send_confirmations()
    client.post(f"/subscribe/confirm/{links.token(subscriber, links.CONFIRM)}")
    again = client.post("/api/subscriptions", json={"email": "known@example.net"})
    fresh = client.post("/api/subscriptions", json={"email": "new@example.net"})
    assert first.status_code == again.status_code == fresh.status_code == 202
    assert first.get_json() == again.get_json() == fresh.get_json()
    form_known = client.post(
        "/subscribe", data={"csrf_token": csrf(client, "/subscribe"), "email": "known@example.net"}
    )
    form_new = client.post(
        "/subscribe", data={"csrf_token": csrf(client, "/subscribe"), "email": "other@example.net"}
    )
    assert form_known.status_code == form_new.status_code == 200
    strip = lambda r: re.sub(r'value="[^"]+"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(form_known) == strip(form_new)
    assert len(subscribers()) == 3


def test_repeated_requests_send_one_confirmation(client, smtp_ready):
    for _ in range(3):
        assert (
            client.post("/api/subscriptions", json={"email": "twice@example.net"}).status_code
            == 202
        )
    send_confirmations()
    send_confirmations()
    assert len(smtp_ready.to("twice@example.net")) == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"email": "not-an-address"}, "email"),
        ({"email": "a@example.net", "components": ["nope00000000"]}, "components"),
        ({"email": "a@example.net", "webhook": "https://example.net/h"}, "email"),
        ({"webhook": "ftp://example.net/h"}, "webhook"),
        ({"webhook": "https://example.net/h\u000b"}, "webhook"),
        ({"email": "a\u0001b@example.net"}, "email"),
        ({"webhook": "https://example.net/h", "components": ["\u0000"]}, "components"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(client, smtp_ready, body, field):
    response = client.post("/api/subscriptions", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["fields"]
    assert db.session.scalar(select(func.count()).select_from(Subscriber)) == 0


def test_malformed_json_and_missing_csrf_are_refused(client, smtp_ready):
    assert (
        client.post("/api/subscriptions", data="{", content_type="application/json").status_code
        == 400
    )
    assert client.post("/subscribe", data={"email": "a@example.net"}).status_code == 400
    assert subscribers() == []


def test_the_subscribe_endpoints_are_rate_limited(app, client, smtp_ready):
    app.config["SUBSCRIBE_RATE_LIMIT"] = "3 per minute"
    codes = [
        client.post("/api/subscriptions", json={"email": f"r{n}@example.net"}).status_code
        for n in range(5)
    ]
    assert codes == [202, 202, 202, 429, 429]
    limited = client.post("/api/subscriptions", json={"email": "late@example.net"})
    assert limited.get_json()["error"].startswith("too many requests")
    assert len(subscribers()) == 3


def test_without_an_email_channel_no_address_is_accepted(client, components):
    page = client.get("/subscribe")
    assert page.status_code == 200 and b'name="email"' not in page.data
    assert client.post("/api/subscriptions", json={"email": "a@example.net"}).status_code == 503
    assert subscribers() == []


def test_tampered_and_stale_links_are_refused(client, smtp_ready):
    client.post("/api/subscriptions", json={"email": "me@example.net"})
    (subscriber,) = subscribers()
    good = links.token(subscriber, links.MANAGE)
    assert client.get(f"/subscribe/manage/{good[:-2]}xx").status_code == 404
    assert client.get(f"/subscribe/confirm/{good}").status_code == 404  # wrong purpose
    subscriber.link_nonce = "rotated"
    db.session.commit()
    assert client.get(f"/subscribe/manage/{good}").status_code == 404


def test_a_webhook_subscribes_by_handshake(app, client, wired):
    receiver = wired["receiver"]
    url = receiver.url + "/incoming"
    response = client.post("/api/subscriptions", json={"webhook": url})
    assert response.status_code == 202
    send_confirmations()
    (event,) = receiver.events("/incoming")
    assert event["type"] == "subscription.confirm"
    assert receiver.verified == [("/incoming", True)]  # signed with the secret it carries
    (subscriber,) = subscribers()
    assert subscriber.kind == SubscriberKind.WEBHOOK and subscriber.secret == event["secret"]
    confirm = event["confirm_url"].removeprefix("http://status.test")
    assert client.post(confirm, headers={"Accept": "application/json"}).get_json() == {
        "status": "confirmed"
    }
    assert subscribers()[0].confirmed_at is not None


def test_private_webhook_addresses_are_refused_by_default(app, client, wired):
    app.config["ALLOW_PRIVATE_WEBHOOKS"] = False
    for url in ("http://127.0.0.1:9/x", "https://169.254.169.254/latest", "https://10.1.2.3/h"):
        response = client.post("/api/subscriptions", json={"webhook": url})
        assert response.status_code == 422, url
    assert subscribers() == []


@pytest.fixture
def behind_proxy(monkeypatch):
    monkeypatch.setenv("STATUSPAGE_PROXY_HOPS", "1")


def subscribe_via(client, forwarded_for: str, email: str) -> int:
    response = client.post(
        "/api/subscriptions", json={"email": email}, headers={"X-Forwarded-For": forwarded_for}
    )
    return response.status_code


def test_behind_a_proxy_each_visitor_has_a_budget_of_its_own(behind_proxy, app, client, smtp_ready):
    """The address the proxy appended is the visitor; addresses a client put before it are
    not trusted, so forging them does not buy a fresh budget."""
    app.config["SUBSCRIBE_RATE_LIMIT"] = "2 per minute"
    codes = [
        subscribe_via(client, f"198.51.100.{n}, 192.0.2.7", f"a{n}@example.net") for n in range(3)
    ]
    assert codes == [202, 202, 429]
    assert subscribe_via(client, "203.0.113.9", "b@example.net") == 202
    assert len(subscribers()) == 3


def test_without_a_proxy_forwarded_addresses_are_ignored(app, client, smtp_ready):
    app.config["SUBSCRIBE_RATE_LIMIT"] = "2 per minute"
    codes = [subscribe_via(client, f"203.0.113.{n}", f"c{n}@example.net") for n in range(3)]
    assert codes == [202, 202, 429]


def test_the_form_refuses_control_characters_on_the_field(client, smtp_ready):
    token = csrf(client, "/subscribe")
    response = client.post("/subscribe", data={"csrf_token": token, "email": "a\u000b@b.net"})
    assert response.status_code == 422
    assert "enter a valid email address" in response.get_data(as_text=True)
    assert subscribers() == []
