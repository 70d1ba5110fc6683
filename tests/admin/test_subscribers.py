"""The subscriber list: found, removed, asked again, exported and imported as CSV."""

from __future__ import annotations

import csv
import html
import io
import re

from statuspage.extensions import db
from statuspage.models import AuditEvent, Component, Subscriber, SubscriberKind
from statuspage.subscriptions import transfer
from tests.fakes.fixtures import add_subscriber, connect
from tests.signin import csrf_token, sign_in
from workers import tasks


def subscribers() -> list[Subscriber]:
    db.session.expire_all()
    found = list(db.session.scalars(db.select(Subscriber).order_by(Subscriber.address)))
    db.session.commit()
    return found


def audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)))


def upload(client, data: bytes):
    """The form post a browser makes, encoded here: the test client spools large bodies to
    a temporary file it never closes."""
    token = csrf_token(client, "/admin/subscribers")
    boundary = "----subscribers-csv"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="s.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return client.post(
        "/admin/subscribers/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def send_confirmations() -> None:
    for subscriber in subscribers():
        if subscriber.confirm_requested_at and not subscriber.confirm_sent_at:
            tasks.send_confirmation(subscriber.id)


def test_the_list_is_searched_filtered_by_component_and_paged(app, client, cast, components):
    api = db.session.get_one(Component, components["API"])
    for n in range(53):
        add_subscriber(SubscriberKind.EMAIL, f"reader{n:02}@example.com")
    add_subscriber(SubscriberKind.EMAIL, "api-only@example.org", components=[api])
    add_subscriber(SubscriberKind.EMAIL, "waiting@example.org", confirmed=False)
    sign_in(client, "alice@example.com")

    first = client.get("/admin/subscribers").get_data(as_text=True)
    assert "1–50 of 55 subscribers" in first and "Older" in first
    second = client.get("/admin/subscribers?page=2").get_data(as_text=True)
    assert "51–55 of 55 subscribers" in second and "Newer" in second

    found = client.get("/admin/subscribers?q=EXAMPLE.ORG").get_data(as_text=True)
    assert "1–2 of 2" in found and "api-only@example.org" in found
    hears = client.get(f"/admin/subscribers?component={components['Website']}")
    page = hears.get_data(as_text=True)
    assert "1–50 of 54" in page and "api-only@example.org" not in page  # follows API only
    waiting = client.get("/admin/subscribers?state=waiting").get_data(as_text=True)
    assert "1–1 of 1" in waiting and "Send confirmation again" in waiting
    assert client.get("/admin/subscribers?component=nope").status_code == 422


def test_only_admins_see_subscribers(app, client, cast):
    add_subscriber(SubscriberKind.EMAIL, "reader@example.com")
    sign_in(client, "rob@example.com")
    assert client.get("/admin/subscribers").status_code == 403
    assert client.get("/admin/subscribers.csv").status_code == 403


def test_removing_and_asking_again_are_audited(app, client, cast, components, wired):
    smtp = wired["smtp"]
    connect(wired, "smtp")
    gone = add_subscriber(SubscriberKind.EMAIL, "gone@example.com")
    waiting = add_subscriber(SubscriberKind.EMAIL, "slow@example.com", confirmed=False)
    sign_in(client, "alice@example.com")
    token = csrf_token(client, "/admin/subscribers")

    removed = client.post(f"/admin/subscribers/{gone.id}/delete", data={"csrf_token": token})
    assert removed.status_code == 302
    assert [s.address for s in subscribers()] == ["slow@example.com"]
    (event,) = audit("subscriber.delete")
    assert event.before["address"] == "gone@example.com"
    assert event.actor_label == "alice@example.com"

    again = client.post(
        f"/admin/subscribers/{waiting.id}/resend",
        data={"csrf_token": token, "next": "/admin/subscribers?state=waiting"},
    )
    assert again.headers["Location"] == "/admin/subscribers?state=waiting"
    send_confirmations()
    (mail,) = smtp.to("slow@example.com")
    assert "/subscribe/confirm/" in mail.part("plain")
    assert audit("subscriber.resend_confirmation")
    elsewhere = client.post(
        f"/admin/subscribers/{waiting.id}/resend",
        data={"csrf_token": token, "next": "https://evil.example/"},
    )
    assert elsewhere.headers["Location"] == "/admin/subscribers"


def test_a_csv_round_trip_keeps_confirmed_subscribers_and_asks_the_others(
    app, client, cast, components, wired
):
    smtp = wired["smtp"]
    connect(wired, "smtp")
    api = db.session.get_one(Component, components["API"])
    add_subscriber(SubscriberKind.EMAIL, "all@example.com")
    add_subscriber(SubscriberKind.EMAIL, "=cmd|calc@example.com", components=[api])
    add_subscriber(SubscriberKind.EMAIL, "unsure@example.com", confirmed=False)
    before = {s.address: (s.confirmed_at, [c.id for c in s.components]) for s in subscribers()}
    sign_in(client, "alice@example.com")

    exported = client.get("/admin/subscribers.csv")
    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    text = exported.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["address"] for r in rows] == [
        "all@example.com",
        "'=cmd|calc@example.com",  # a spreadsheet shows it, never runs it
        "unsure@example.com",
    ]
    assert rows[1]["components"] == "API"
    assert audit("subscriber.export")[0].after == {"count": 3}

    for subscriber in subscribers():
        db.session.delete(subscriber)
    db.session.commit()
    imported = upload(client, exported.get_data())
    assert imported.status_code == 302
    flashed = html.unescape(client.get("/admin/subscribers").get_data(as_text=True))
    assert "Imported 2 confirmed, 1 sent a confirmation; 0 already subscribed" in flashed

    after = {s.address: (s.confirmed_at, [c.id for c in s.components]) for s in subscribers()}
    assert after == before  # same addresses, confirmation times and components
    events = {e.after["address"]: e.after for e in audit("subscriber.import")}
    assert events["all@example.com"]["confirmed_at"] is not None
    assert events["unsure@example.com"]["confirmed_at"] is None
    assert events["=cmd|calc@example.com"]["source"] == "CSV line 3"
    send_confirmations()
    assert [m.recipients for m in smtp.mails] == [["unsure@example.com"]]

    again = upload(client, exported.get_data())  # importing twice changes nothing
    assert again.status_code == 302
    assert "0 confirmed, 0 sent a confirmation; 3 already subscribed" in html.unescape(
        client.get("/admin/subscribers").get_data(as_text=True)
    )


def test_a_file_with_bad_lines_imports_nothing_and_names_them(app, client, cast, components):
    sign_in(client, "alice@example.com")
    data = (
        b"kind,address,components,confirmed_at\n"
        b"email,good@example.com,API,2026-01-02T03:04:05Z\n"
        b"email,not an address,,yes\n"
        b'email,other@example.com,"API\nNo such thing",yes\n'
        b"pigeon,coo@example.com,,yes\n"
        b"email,good@example.com,,yes\n"
        b"email,late@example.com,,next tuesday\n"
    )
    refused = upload(client, data)
    assert refused.status_code == 200
    page = html.unescape(refused.get_data(as_text=True))
    assert "Nothing was imported" in page
    lines = re.findall(r"<li>Line (\d+): ([^<]+)</li>", page)
    assert [n for n, _ in lines] == ["3", "5", "6", "7", "8"]  # the quoted cell spans 4-5
    assert "enter a valid email address" in lines[0][1]
    assert "No such thing" in lines[1][1]
    assert "pigeon" in lines[2][1]
    assert "the same address as line 2" in lines[3][1]
    assert "confirmed_at" in lines[4][1]
    assert subscribers() == []
    assert audit("subscriber.import") == []


def test_unconfirmed_email_rows_need_smtp(app, client, cast):
    sign_in(client, "alice@example.com")
    page = upload(client, b"address\nnew@example.com\n").get_data(as_text=True)
    assert "Line 2: address: confirmation mail needs an enabled SMTP channel" in page
    assert subscribers() == []
    assert upload(client, b"address,confirmed_at\nnew@example.com,yes\n").status_code == 302
    assert [s.is_confirmed for s in subscribers()] == [True]


def test_imports_are_bounded(app, client, cast):
    sign_in(client, "alice@example.com")
    too_big = b"address\n" + b"x" * transfer.MAX_BYTES
    assert "larger than 1,000,000 bytes" in upload(client, too_big).get_data(as_text=True)
    many = "address,confirmed_at\n" + "".join(
        f"r{n}@example.com,yes\n" for n in range(transfer.MAX_ROWS + 1)
    )
    page = upload(client, many.encode()).get_data(as_text=True)
    assert "at most 10,000 subscribers" in page
    assert "not UTF-8" in upload(client, b"address\n\xff@example.com\n").get_data(as_text=True)
    assert "must name the columns" in upload(client, b"a@example.com\n").get_data(as_text=True)
    assert subscribers() == []
