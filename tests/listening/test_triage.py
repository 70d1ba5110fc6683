"""Triage in the admin: the inbox newest first with filters, bulk and single actions,
links to incidents, a new incident from an item, roles, and bursts grouped into signals."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from statuspage.extensions import db
from statuspage.incidents.workflow import Conflict
from statuspage.listening import inbox, signals
from statuspage.listening.inbox import Found
from statuspage.models import AuditEvent, Incident
from tests.channels.helpers import open_incident
from tests.listening.conftest import items, listen_on_x
from tests.signin import csrf_token, sign_in

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def heard(channel, texts: list[str], start: datetime | None = None, step: int = 30) -> None:
    start = start or datetime.now(UTC) - timedelta(minutes=5)
    inbox.store(
        channel,
        "mentions",
        [
            Found(
                external_id=str(1000 + n),
                text=text,
                posted_at=start + timedelta(seconds=step * n),
                author_handle=f"user{n}",
            )
            for n, text in enumerate(texts)
        ],
    )


def listed(client, query: str = "") -> list[str]:
    page = client.get(f"/admin/inbox{query}").get_data(as_text=True)
    return re.findall(r'<tr id="item-(\d+)"', page)


def test_the_inbox_lists_newest_first_with_filters(app, client, cast, wired):
    channel = listen_on_x()
    heard(channel, ["first: login slow", "second: checkout down", "third: login fails"])
    report = inbox.add_report(text="Export broken", component_id=None, email=None)
    incident = open_incident()
    by_text = {i.text.split(":")[0]: i.id for i in items()}
    inbox.link(actor=None, item_ids=[by_text["second"]], incident_id=incident.id)
    inbox.set_state(actor=None, item_ids=[by_text["first"]], state="ignored")

    sign_in(client, "vera@example.com")  # viewers read the inbox
    order = [str(report.id), str(by_text["third"]), str(by_text["second"]), str(by_text["first"])]
    assert listed(client) == order
    assert listed(client, "?channel=reports") == [str(report.id)]
    assert listed(client, f"?channel={channel.id}") == order[1:]
    assert listed(client, "?state=ignored") == [str(by_text["first"])]
    assert listed(client, "?source=form") == [str(report.id)]
    assert listed(client, "?source=mentions") == order[1:]
    assert listed(client, f"?incident={incident.id}") == [str(by_text["second"])]
    assert listed(client, "?incident=none") == [order[0], order[1], order[3]]
    assert listed(client, "?q=LOGIN") == [str(by_text["third"]), str(by_text["first"])]
    assert listed(client, "?q=%25") == [] and listed(client, "?state=bogus") == order
    page = client.get(f"/admin/inbox/{by_text['third']}").get_data(as_text=True)
    assert "third: login fails" in page and "Send reply" not in page  # viewers do not answer
    token = csrf_token(client, "/admin/inbox")
    answer = client.post(
        f"/admin/inbox/{by_text['third']}/answer", data={"csrf_token": token, "body": "x"}
    )
    assert answer.status_code == 403
    bulk = client.post("/admin/inbox/bulk", data={"csrf_token": token, "action": "ignored"})
    assert bulk.status_code == 403


def test_items_are_escaped_wherever_they_are_shown(app, client, cast, wired):
    channel = listen_on_x()
    heard(channel, ['<img src=x onerror="alert(1)"> is it down?'])
    inbox.store(channel, "mentions", [Found("9", "hi", T0, url="javascript:alert(1)")])
    assert items()[1].url is None  # only http(s) links from the far end become links
    sign_in(client, "vera@example.com")
    item_id = items()[0].id
    for path in ("/admin/inbox", f"/admin/inbox/{item_id}"):
        page = client.get(path).get_data(as_text=True)
        assert "<img src=x" not in page and "&lt;img src=x onerror=" in page


def test_bulk_actions_acknowledge_ignore_and_link(app, client, cast, wired):
    channel = listen_on_x()
    heard(channel, ["a", "b", "c"])
    ids = [i.id for i in items()]
    incident = open_incident()
    sign_in(client, "rob@example.com")

    def bulk(action: str, chosen: list[int], **extra: str):
        data = {
            "csrf_token": csrf_token(client, "/admin/inbox"),
            "action": action,
            "items": [str(i) for i in chosen],
            "next": "/admin/inbox?state=new",
        }
        return client.post("/admin/inbox/bulk", data={**data, **extra})

    done = bulk("acknowledged", ids[:2])
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/inbox?state=new")
    assert [i.state for i in items()] == ["acknowledged", "acknowledged", "new"]
    bulk("ignored", ids[2:])
    bulk("link", ids, incident=incident.id)
    assert {i.incident_id for i in items()} == {incident.id}
    assert [i.state for i in items()] == ["acknowledged", "acknowledged", "ignored"]
    events = db.session.scalars(db.select(AuditEvent.action)).all()
    assert events.count("inbox.link") == 3 and events.count("inbox.state") == 3

    refused = bulk("answered", ids)  # answering happens by replying, not by a button
    assert refused.status_code == 303
    assert "must be new, acknowledged or ignored" in client.get("/admin/inbox").get_data(
        as_text=True
    )
    elsewhere = bulk("new", ids[:1], next="https://evil.example/admin/inbox")
    assert elsewhere.headers["Location"] == "/admin/inbox"  # never off the inbox
    assert (
        client.post("/admin/inbox/bulk", data={"action": "new", "items": ["1"]}).status_code == 400
    )


def test_bulk_linking_needs_a_choice_and_asks_before_moving_links(app, client, cast, wired):
    channel = listen_on_x()
    heard(channel, ["a", "b"])
    first, second = [i.id for i in items()]
    earlier, later = open_incident(name="Earlier"), open_incident(name="Later")
    inbox.link(actor=None, item_ids=[first], incident_id=earlier.id)
    sign_in(client, "rob@example.com")
    page = client.get("/admin/inbox").get_data(as_text=True)
    choice = re.search(
        r'<select id="bulk-incident" name="incident">\s*<option value="" selected>', page
    )
    assert choice, "the incident to link to starts empty"

    def link(**extra: str):
        data = {"csrf_token": csrf_token(client, "/admin/inbox"), "action": "link"}
        return client.post("/admin/inbox/bulk", data={**data, "items": [first, second], **extra})

    assert link(incident="").status_code == 303
    assert "Nothing changed: choose an incident." in client.get("/admin/inbox").get_data(
        as_text=True
    )
    asked = link(incident=later.id)
    assert asked.status_code == 200
    question = html.unescape(asked.get_data(as_text=True))
    assert "Move 1 item to another incident?" in question and "Earlier" in question
    assert [i.incident_id for i in items()] == [earlier.id, None]  # nothing changed yet
    assert link(incident=later.id, replace="1").status_code == 303
    assert [i.incident_id for i in items()] == [later.id, later.id]


def test_linking_never_moves_an_item_unasked(app, wired):
    channel = listen_on_x()
    heard(channel, ["a"])
    (item,) = items()
    earlier, later = open_incident(name="Earlier"), open_incident(name="Later")
    inbox.link(actor=None, item_ids=[item.id], incident_id=earlier.id)
    with pytest.raises(Conflict, match="confirm to move them"):
        inbox.link(actor=None, item_ids=[item.id], incident_id=later.id)
    assert items()[0].incident_id == earlier.id


def test_linking_to_a_resolved_incident_is_refused(app, client, cast, wired):
    from statuspage.incidents import service

    channel = listen_on_x()
    heard(channel, ["down?"])
    item_id = items()[0].id
    incident = open_incident()
    service.resolve(actor=None, incident_id=incident.id, body="Fixed.")
    sign_in(client, "rob@example.com")
    path = f"/admin/inbox/{item_id}"
    response = client.post(
        f"{path}/link", data={"csrf_token": csrf_token(client, path), "incident": incident.id}
    )
    assert response.status_code == 303
    assert "only be linked to an open incident" in client.get(path).get_data(as_text=True)
    assert items()[0].incident_id is None


def test_a_new_incident_opens_prefilled_from_an_item_and_links_it(app, client, cast, components):
    report = inbox.add_report(
        text="Checkout times out after paying.\nOrder 1234.",
        component_id=components["API"],
        email=None,
    )
    sign_in(client, "rob@example.com")
    path = f"/admin/inbox/{report.id}/incident"
    form = client.get(path).get_data(as_text=True)
    assert 'value="Reports: Checkout times out after paying."' in form
    assert re.search(
        rf'name="component-{components["API"]}">.*?<option value="degraded_performance" selected',
        form,
        re.S,
    )
    bad = client.post(path, data={"csrf_token": csrf_token(client, path), "name": ""})
    assert bad.status_code == 422 and db.session.scalars(db.select(Incident)).all() == []
    opened = client.post(
        path,
        data={
            "csrf_token": csrf_token(client, path),
            "name": "Checkout times out",
            "impact": "major",
            "status": "investigating",
            "body": "We are investigating checkout timeouts.",
            f"component-{components['API']}": "partial_outage",
        },
    )
    assert opened.status_code == 302
    incident = db.session.scalars(db.select(Incident)).one()
    assert opened.headers["Location"].endswith(f"/admin/incidents/{incident.id}")
    (item,) = items()
    assert item.incident_id == incident.id and item.state == "acknowledged"


def test_tokenising_drops_links_handles_and_stop_words():
    terms = signals.tokenise(
        "@examplestatus Is the LOGIN page down?? #LoginFail https://example.com/x it's 2026 don't"
    )
    assert terms == {"login", "page", "down", "loginfail"}
    assert signals.tokenise("login login LOGIN", ignore={"login"}) == set()


def test_a_burst_in_a_sliding_window_is_one_signal():
    burst = [(n, T0 + timedelta(minutes=n * 0.5), f"login fails again {n}") for n in range(14)]
    spread = [(100 + n, T0 - timedelta(minutes=30 + 15 * n), "billing is wrong") for n in range(6)]
    noise = [(200, T0, "the login page is pretty")]
    found = signals.detect(
        burst + spread + noise, window=timedelta(minutes=10), threshold=5, ignore=()
    )
    assert len(found) == 1
    (signal,) = found
    assert signal.terms == ["login", "fails"]  # the same items: one signal, not two
    assert signal.count == 15  # 14 in the burst and the one in the same window
    assert signal.describe(10) == "15 mentions of 'login', 'fails' in 10 minutes"
    assert signal.start == T0 and signal.end == T0 + timedelta(minutes=6.5)
    quiet = signals.detect(burst[:4], window=timedelta(minutes=10), threshold=5)
    assert quiet == []  # below the threshold
    # The same words spread wider than the window are no burst.
    slow = [(n, T0 + timedelta(minutes=3 * n), "login fails") for n in range(6)]
    assert signals.detect(slow, window=timedelta(minutes=10), threshold=5) == []


def test_the_dashboard_shows_a_burst_as_one_signal(app, client, cast, wired):
    channel = listen_on_x(search="example.com")
    heard(channel, [f"login broken on example.com ({n})" for n in range(6)] + ["billing?"])
    sign_in(client, "vera@example.com")
    dashboard = html.unescape(client.get("/admin/").get_data(as_text=True))
    assert "6 mentions of 'broken', 'login' in 10 minutes" in dashboard
    assert "'example'" not in dashboard  # the search term is in every result by construction
    assert 'href="/admin/inbox?q=broken"' in dashboard
    assert 'Inbox <span class="counter" aria-label="7 new">7</span>' in dashboard  # in the nav


def test_customers_posts_are_cleaned_never_refused(app, wired):
    channel = listen_on_x()
    post = Found(
        "77",
        "down\u000b again\u0007\r\nreally",
        T0,
        author_handle="bob\u0000",
        author_name="Bob\r\nBuilder\u0007",
    )
    assert inbox.store(channel, "mentions", [post]) == 1
    (item,) = items()
    assert item.text == "down again\nreally"
    assert (item.author_handle, item.author_name) == ("bob", "Bob Builder")
