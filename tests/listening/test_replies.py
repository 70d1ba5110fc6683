"""Answering in place through the outbox: replies threaded to the customer's post on X
and Mastodon, by email for reports, with the outbox's guarantees; templates; follow-ups
once an incident is resolved; time to first response."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import IntegrityError

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.incidents.workflow import Conflict
from statuspage.listening import inbox, replies
from statuspage.listening import templates as reply_templates
from statuspage.models import (
    ApiToken,
    Channel,
    Delivery,
    DeliveryState,
    InboxItem,
    Page,
    TargetKind,
)
from tests.channels.helpers import deliver, make_due, open_incident
from tests.fakes.server import Reply
from tests.listening.conftest import items, listen_on_mastodon, listen_on_x, reply_rows
from tests.signin import csrf_token, sign_in
from workers import tasks

TWEETS = "/2/tweets"


def heard_on_x(x, text: str = "login fails for me") -> tuple[dict, InboxItem]:
    post = x.customer_post("alice", text)
    tasks.poll_mentions()
    return post, next(i for i in items() if i.external_id == post["id"])


def test_an_answer_on_x_replies_to_the_customers_post(app, wired, cast):
    x = wired["x"]
    listen_on_x()
    post, item = heard_on_x(x)
    incident = open_incident()
    inbox.link(actor=cast["responder"], item_ids=[item.id], incident_id=incident.id)
    template = reply_templates.save(
        actor=cast["responder"],
        name="Aware",
        body="Hi {author}, we are on it ({incident_status}): {incident_url}",
    )
    text = reply_templates.fill(template.body, db.session.get(InboxItem, item.id))
    assert (
        text
        == f"Hi @alice, we are on it (investigating): http://status.test/incidents/{incident.id}"
    )

    replies.answer(actor=cast["responder"], item_id=item.id, body=text)
    (row,) = reply_rows()
    assert (row.update_id, row.target_kind, row.transport) == (None, TargetKind.REPLY, "x")
    assert row.state == DeliveryState.PENDING and items()[0].state == "answered"
    assert items()[0].first_response_at is None  # not until it is sent

    deliver(row)
    (tweet,) = x.replies_to(post["id"])
    assert tweet["text"] == text
    (row,) = reply_rows()
    assert row.state == DeliveryState.SENT and row.external_id == tweet["id"]
    (answered,) = items()
    assert answered.first_response_at is not None and 0 <= answered.response_seconds < 60


def test_a_mastodon_answer_mentions_the_author_and_is_no_wider_than_their_post(app, wired, cast):
    mastodon = wired["mastodon"]
    listen_on_mastodon(mastodon.url)
    status = mastodon.customer_post("ann@social.example", "is login down?", visibility="unlisted")
    tasks.poll_mentions()
    (item,) = items()
    replies.answer(actor=cast["responder"], item_id=item.id, body="We are looking into it.")
    deliver(reply_rows()[0])
    (sent,) = mastodon.replies_to(status["id"])
    assert sent["content"] == "@ann@social.example We are looking into it."
    assert sent["visibility"] == "unlisted"
    (post,) = mastodon.received("POST", "/api/v1/statuses")
    assert post.header("Idempotency-Key") == reply_rows()[0].idempotency_key
    assert items()[0].first_response_at is not None


def test_an_answered_report_gets_its_answer_by_email(app, wired, cast, smtp_channel):
    smtp = wired["smtp"]
    item = inbox.add_report(
        text="The export button does nothing.", component_id=None, email="reader@example.net"
    )
    replies.answer(
        actor=cast["responder"], item_id=item.id, body="Thanks, fixed in the next release."
    )
    (row,) = reply_rows()
    assert (row.transport, row.channel_id) == ("email", smtp_channel.id)
    deliver(row)
    (mail,) = smtp.to("reader@example.net")
    assert mail.message["Subject"] == "Re: your problem report to Status"
    body = mail.part("plain")
    assert body.startswith("Thanks, fixed in the next release.")
    assert "> The export button does nothing." in body
    assert row.idempotency_key in mail.message["Message-ID"]
    assert reply_rows()[0].state == DeliveryState.SENT and items()[0].first_response_at


def test_what_cannot_be_answered_says_why_and_queues_nothing(app, wired, cast, smtp_channel):
    anonymous = inbox.add_report(text="It is slow.", component_id=None, email=None)
    with pytest.raises(Conflict, match="no email address"):
        replies.answer(actor=cast["responder"], item_id=anonymous.id, body="Thanks")
    x = wired["x"]
    channel = listen_on_x()
    _, item = heard_on_x(x)
    with pytest.raises(ValidationError) as empty:
        replies.answer(actor=cast["responder"], item_id=item.id, body="   ")
    assert empty.value.errors == {"body": "must not be empty"}
    with pytest.raises(ValidationError) as long:
        replies.answer(actor=cast["responder"], item_id=item.id, body="word " * 60)
    assert "X takes 280" in long.value.errors["body"]
    with pytest.raises(ValidationError) as unlinked:
        reply_templates.fill("See {incident_url}", item)
    assert "link the item to an incident first" in unlinked.value.errors["body"]
    channel.enabled = False
    db.session.commit()
    with pytest.raises(Conflict, match="is disabled"):
        replies.answer(actor=cast["responder"], item_id=item.id, body="Hello")
    assert reply_rows() == [] and {i.state for i in items()} == {"new"}


def test_templates_accept_only_known_plain_variables(app, cast):
    for body in ("{incident_url.__class__}", "{nope}", "{author!r}", "{author:>10}", "{oops"):
        with pytest.raises(ValidationError):
            reply_templates.save(actor=cast["responder"], name=f"t {body}", body=body)
    saved = reply_templates.save(
        actor=cast["responder"], name="Braces", body="{{literal}} {author}"
    )
    assert saved.body == "{{literal}} {author}"


def test_a_reply_has_the_outbox_guarantees_of_an_update(app, client, wired, cast):
    x = wired["x"]
    listen_on_x()
    post, item = heard_on_x(x)
    reset = int(time.time()) + 600
    x.script(
        "POST",
        TWEETS,
        Reply(429, json={"title": "Too Many Requests"}, headers={"x-rate-limit-reset": str(reset)}),
    )
    replies.answer(actor=cast["responder"], item_id=item.id, body="On it.")
    deliver(reply_rows()[0])
    (row,) = reply_rows()
    assert row.state == DeliveryState.FAILED and int(row.next_attempt_at.timestamp()) == reset

    db.session.execute(db.update(Channel).values(paused_until=None))  # the reset has passed
    make_due(row)
    x.script("POST", TWEETS, Reply(delay=3, process=True))  # posted, but the answer is late
    deliver(row)
    (row,) = reply_rows()
    assert row.state == DeliveryState.UNCERTAIN and "no answer from X" in row.last_error
    assert len(x.replies_to(post["id"])) == 1
    deliver(row)  # a stray doorbell: never re-sent without an operator
    assert len(x.replies_to(post["id"])) == 1
    assert items()[0].first_response_at is None

    sign_in(client, "rob@example.com")
    path = f"/admin/inbox/{item.id}"
    assert "Resend (may duplicate)" in client.get(path).get_data(as_text=True)
    token = csrf_token(client, path)
    wrong_place = client.post(f"/admin/deliveries/{row.id}/retry", data={"csrf_token": token})
    assert wrong_place.status_code == 404  # the incident ledger carries updates only
    _, plain = ApiToken.issue(cast["responder"], "automation")
    db.session.commit()
    through_api = client.post(
        f"/api/v1/pages/{Page.get().id}/deliveries/{row.id}/retry",
        headers={"Authorization": f"OAuth {plain}"},
    )
    assert through_api.status_code == 404
    resent = client.post(f"/admin/inbox/replies/{row.id}/retry", data={"csrf_token": token})
    assert resent.status_code == 303 and reply_rows()[0].state == DeliveryState.PENDING
    deliver(row)
    assert len(x.replies_to(post["id"])) == 2 and reply_rows()[0].state == DeliveryState.SENT
    assert items()[0].first_response_at is not None


def test_after_resolution_one_action_follows_up_every_linked_item(
    app, client, wired, cast, smtp_channel
):
    x, mastodon, smtp = wired["x"], wired["mastodon"], wired["smtp"]
    listen_on_x()
    listen_on_mastodon(mastodon.url)
    tweet = x.customer_post("alice", "checkout broken")
    status = mastodon.customer_post("ann@social.example", "checkout broken here too")
    tasks.poll_mentions()
    report = inbox.add_report(text="Cannot pay.", component_id=None, email="payer@example.net")
    ignored = inbox.add_report(text="spam", component_id=None, email=None)
    incident = open_incident(name="Checkout failures")
    ids = [i.id for i in items()]
    inbox.link(actor=cast["responder"], item_ids=ids, incident_id=incident.id)
    inbox.set_state(actor=cast["responder"], item_ids=[ignored.id], state="ignored")
    assert replies.pending_follow_ups() == []  # not before the incident is resolved
    with pytest.raises(Conflict):
        replies.follow_up(
            actor=cast["responder"], incident_id=incident.id, body="x", item_ids=ids[:1]
        )

    service.resolve(actor=cast["responder"], incident_id=incident.id, body="Fixed.")
    ((offered, pending),) = replies.pending_follow_ups()
    assert offered.id == incident.id and len(pending) == 3

    sign_in(client, "rob@example.com")
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert (
        "Review and send follow-ups" in dashboard and "3 linked items had no follow-up" in dashboard
    )
    path = f"/admin/inbox/follow-up/{incident.id}"
    review = client.get(path).get_data(as_text=True)
    assert (
        "This is resolved: Checkout failures." in review
        and "@ann@social.example This is resolved" in review
    )
    body = "Hi {author}, {incident_name} is {incident_status}: {incident_url}"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "body": body,
            "items": [str(i) for i in ids if i != ignored.id],
        },
    )
    assert response.status_code == 302
    rows = reply_rows()
    assert len(rows) == 3 and {r.transport for r in rows} == {"x", "mastodon", "email"}
    for row in rows:
        deliver(row)
    url = f"http://status.test/incidents/{incident.id}"
    assert (
        x.replies_to(tweet["id"])[0]["text"] == f"Hi @alice, Checkout failures is resolved: {url}"
    )
    assert mastodon.replies_to(status["id"])[0]["content"].startswith(
        "@ann@social.example Hi @ann@social.example"
    )
    assert (
        smtp.to("payer@example.net")[0]
        .part("plain")
        .startswith("Hi there, Checkout failures is resolved")
    )
    assert replies.pending_follow_ups() == []
    assert {i.id for i in items() if i.first_response_at} == set(ids) - {ignored.id}
    assert report.id in ids


def test_a_delivery_carries_exactly_one_subject(app):
    db.session.add(Delivery(target_kind=TargetKind.REPLY, target_id=1, mailbox="m", transport="x"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
