"""Email subscribers over SMTP: batches on one connection, parts, unsubscribe headers."""

from __future__ import annotations

from sqlalchemy import select

from statuspage import outbox
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Component, DeliveryState, SubscriberKind
from tests.channels.helpers import deliver, open_incident, rows
from tests.fakes.fixtures import add_subscriber, connect


def test_subscribers_get_text_and_html_with_one_click_unsubscribe(
    app, components, wired, monkeypatch
):
    smtp = wired["smtp"]
    monkeypatch.setitem(outbox.BATCH_SIZES, SubscriberKind.EMAIL, 3)
    connect(wired, "smtp")
    api = db.session.get(Component, components["API"])
    website = db.session.get(Component, components["Website"])
    for n in range(7):
        add_subscriber(SubscriberKind.EMAIL, f"all{n}@example.net")
    add_subscriber(SubscriberKind.EMAIL, "api@example.net", components=[api])
    add_subscriber(SubscriberKind.EMAIL, "web@example.net", components=[website])
    add_subscriber(SubscriberKind.EMAIL, "pending@example.net", confirmed=False)

    incident = open_incident({components["API"]: "major_outage"})
    mail_rows = rows("email")
    assert len(mail_rows) == 8  # everyone following all, plus the API follower
    mailboxes = sorted({r.mailbox for r in mail_rows})
    for mailbox in mailboxes:
        deliver(next(r for r in mail_rows if r.mailbox == mailbox))
    assert {r.state for r in rows("email")} == {DeliveryState.SENT}
    assert sorted(a for m in smtp.mails for a in m.recipients) == sorted(
        [f"all{n}@example.net" for n in range(7)] + ["api@example.net"]
    )
    assert smtp.to("web@example.net") == [] and smtp.to("pending@example.net") == []
    assert len({m.peer for m in smtp.mails}) == len(mailboxes)  # one connection per batch

    mail = smtp.to("api@example.net")[0]
    message = mail.message
    assert message["Subject"] == "[Status] Investigating: Login failures"
    assert message["From"] == "Example Status <status@example.com>"
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://status.test/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    row = next(r for r in rows("email") if r.target_id == mail_target(mail))
    assert message["Message-ID"] == f"<{row.idempotency_key}@example.com>"
    text, html = mail.part("plain"), mail.part("html")
    for part in (text, html):
        assert "Platform - API" in part and "Major outage" in part
        assert "Next update by" in part
        assert f"http://status.test/incidents/{incident.id}#update-" in part
        assert unsubscribe.strip("<>") in part
    assert "<strong>Major outage</strong>" in html


def mail_target(mail) -> int:  # noqa: ANN001
    from statuspage.models import Subscriber

    return db.session.scalar(select(Subscriber.id).where(Subscriber.address == mail.recipients[0]))


def test_a_refused_recipient_dies_alone_and_a_lost_server_is_retried(app, components, wired):
    smtp = wired["smtp"]
    channel = connect(wired, "smtp")["smtp"]
    for address in ("ok@example.net", "gone@example.net", "also-ok@example.net"):
        add_subscriber(SubscriberKind.EMAIL, address)
    smtp.refuse["gone@example.net"] = "550 5.1.1 No such user"
    incident = open_incident()
    deliver(rows("email")[0])
    states = {r.target_id: (r.state, r.last_error) for r in rows("email")}
    assert sorted(s for s, _ in states.values()) == ["dead", "sent", "sent"]
    assert any(e and "550" in e for _, e in states.values())

    channel.config = {**channel.config, "port": 9}  # the server is gone
    db.session.commit()
    service.post_update(actor=None, incident_id=incident.id, status="identified", body="Found")
    second = [r for r in rows("email") if r.update_id != rows("email")[0].update_id]
    deliver(second[0])
    assert {r.state for r in rows("email") if r.id in {s.id for s in second}} == {
        DeliveryState.FAILED
    }
    assert all(
        "SMTP 127.0.0.1" in r.last_error for r in rows("email") if r.id in {s.id for s in second}
    )
