"""Polling X (tweepy) and Mastodon (Mastodon.py) against the loopback fakes: items stored
once, since_id advancing, paging through a backlog, rate limits honoured without waiting,
and failures recorded where operators see them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import ItemKind, ListeningSource
from tests.fakes.server import Reply
from tests.listening.conftest import items, listen_on_mastodon, listen_on_x, source
from tests.signin import sign_in
from workers import tasks
from workers.listening import mastodon as mastodon_poller
from workers.listening import run
from workers.listening import x as x_poller

MENTIONS = "/2/users/42/mentions"
NOTIFICATIONS = "/api/v1/notifications"


def param(request, name: str) -> str | None:
    return (request.query.get(name) or [None])[0]


def due_again() -> None:
    """Time passes: every source may be polled again (as after its backoff or reset)."""
    db.session.execute(update(ListeningSource).values(next_poll_at=now() - timedelta(seconds=1)))
    db.session.commit()


def test_x_mentions_are_stored_once_and_since_id_advances(app, wired):
    x = wired["x"]
    channel = listen_on_x()
    first = x.customer_post("alice", "login fails & the <app> hangs")
    second = x.customer_post("bob", "cannot log in either")

    assert tasks.poll_mentions() == {f"{channel.id}:mentions": 2}
    stored = {i.external_id: i for i in items()}
    assert set(stored) == {first["id"], second["id"]}
    alice = stored[first["id"]]
    assert alice.kind == ItemKind.X and alice.source == "mentions"
    assert alice.author_handle == "alice" and alice.author_name == "Alice"
    assert alice.text == "@examplestatus login fails & the <app> hangs"
    assert alice.url == f"https://x.com/alice/status/{first['id']}"
    assert alice.conversation_id == first["id"] and alice.state == "new"
    assert abs((alice.posted_at - datetime.now(UTC)).total_seconds()) < 60
    assert param(x.received("GET", MENTIONS)[0], "since_id") is None
    assert source(channel, "mentions").since_id == second["id"]

    assert tasks.poll_mentions() == {f"{channel.id}:mentions": 0}  # nothing new: nothing twice
    assert param(x.received("GET", MENTIONS)[-1], "since_id") == second["id"]
    third = x.customer_post("carol", "still down")
    tasks.poll_mentions()
    assert [i.external_id for i in items()].count(third["id"]) == 1 and len(items()) == 3
    assert source(channel, "mentions").since_id == third["id"]
    assert len(x.received("GET", "/2/users/me")) == 1  # the account id is kept


def test_x_pages_through_a_backlog_and_resumes_where_it_stopped(app, wired, monkeypatch):
    monkeypatch.setattr(x_poller, "PAGE_SIZE", 5)
    monkeypatch.setattr(run, "MAX_PAGES", 2)
    x = wired["x"]
    channel = listen_on_x()
    history = [x.customer_post(f"old{n}", "ancient") for n in range(7)]
    tasks.poll_mentions()  # the first poll starts listening now: the newest page only
    assert len(items()) == 5 and source(channel, "mentions").since_id == history[-1]["id"]

    backlog = [x.customer_post(f"user{n}", f"complaint {n}") for n in range(13)]
    tasks.poll_mentions()  # two pages of five, newest first; the sweep is unfinished
    assert len(items()) == 15
    row = source(channel, "mentions")
    assert row.since_id == history[-1]["id"]  # not moved until the sweep reaches it
    assert row.sweep_newest_id == backlog[-1]["id"] and row.sweep_until_id == backlog[3]["id"]
    second_page = x.received("GET", MENTIONS)[-1]
    assert param(second_page, "pagination_token") and param(second_page, "max_results") == "5"

    tasks.poll_mentions()  # continues below the oldest seen, down to since_id
    resumed = x.received("GET", MENTIONS)[-1]
    assert param(resumed, "until_id") == backlog[3]["id"]
    assert param(resumed, "since_id") == history[-1]["id"]
    assert {i.external_id for i in items()} >= {p["id"] for p in backlog}
    assert len(items()) == 18
    row = source(channel, "mentions")
    assert (row.since_id, row.sweep_until_id) == (backlog[-1]["id"], None)


def test_x_search_finds_posts_without_a_mention_and_stores_a_post_once(app, wired):
    x = wired["x"]
    channel = listen_on_x(search='"example.com" down -is:retweet')
    quiet = x.customer_post("dana", "is example.com down for anyone?", mention=False)
    x.customer_post("erin", "example.com works fine", mention=False)
    both = x.customer_post("fred", "example.com down again")  # a mention that also matches

    counts = tasks.poll_mentions()
    assert counts == {f"{channel.id}:mentions": 1, f"{channel.id}:search": 1}
    by_id = {i.external_id: i for i in items()}
    assert set(by_id) == {quiet["id"], both["id"]}
    assert by_id[quiet["id"]].source == "search" and by_id[both["id"]].source == "mentions"
    search = x.received("GET", "/2/tweets/search/recent")[0]
    assert param(search, "query") == '"example.com" down -is:retweet'


def test_an_x_rate_limit_is_honoured_until_its_reset_without_waiting(app, wired):
    x = wired["x"]
    channel = listen_on_x()
    reset = int(time.time()) + 600
    x.script(
        "GET",
        MENTIONS,
        Reply(429, json={"title": "Too Many Requests"}, headers={"x-rate-limit-reset": str(reset)}),
    )
    x.customer_post("alice", "login fails")
    started = time.monotonic()
    tasks.poll_mentions()
    assert time.monotonic() - started < 5  # the worker slot did not sleep out the limit
    row = source(channel, "mentions")
    assert int(row.rate_limited_until.timestamp()) == reset
    assert row.last_error.startswith("rate limited until ")
    assert items() == []

    tasks.poll_mentions()  # before the reset: the source is skipped, not asked again
    assert len(x.received("GET", MENTIONS)) == 1

    due_again()  # the reset has passed
    tasks.poll_mentions()
    assert len(items()) == 1
    row = source(channel, "mentions")
    assert row.last_error is None and row.rate_limited_until is None


def test_mastodon_mentions_and_hashtags_page_with_since_id(app, wired, monkeypatch):
    monkeypatch.setattr(mastodon_poller, "PAGE_SIZE", 3)
    mastodon = wired["mastodon"]
    channel = listen_on_mastodon(mastodon.url, hashtags="exampledown")
    mastodon.customer_post("ann@social.example", "Is login broken?", visibility="unlisted")
    tasks.poll_mentions()
    (first,) = items()
    assert first.kind == ItemKind.MASTODON and first.author_handle == "ann@social.example"
    assert first.text == "@status Is login broken?" and first.visibility == "unlisted"
    assert first.url.endswith(f"/@ann@social.example/{first.external_id}")
    since = source(channel, "mentions").since_id
    assert since == mastodon.notifications[-1]["id"]  # a notification id, not a status id

    for n in range(7):
        mastodon.customer_post(f"user{n}@social.example", f"login broken {n} <b>help</b>")
    mastodon.customer_post(
        "quiet@other.example", "timeouts again", mention=False, tags=("ExampleDown",)
    )
    mastodon.customer_post("both@other.example", "still failing", tags=("exampledown",))
    tasks.poll_mentions()

    stored = items()
    assert len(stored) == 10 and len({i.external_id for i in stored}) == 10
    assert {i.source for i in stored} == {"mentions", "tag:exampledown"}
    tagged = next(i for i in stored if i.author_handle == "quiet@other.example")
    assert tagged.source == "tag:exampledown" and tagged.text == "timeouts again #ExampleDown"
    assert any(i.text == "@status login broken 3 <b>help</b>" for i in stored)  # text, not markup
    requests = mastodon.received("GET", NOTIFICATIONS)[1:]
    assert [param(r, "since_id") for r in requests] == [since] * 3  # three pages
    assert [param(r, "types[]") for r in requests] == ["mention"] * 3
    assert param(requests[1], "max_id") is not None
    assert source(channel, "mentions").since_id == mastodon.notifications[-1]["id"]

    tasks.poll_mentions()  # again: nothing new, nothing stored twice
    assert len(items()) == 10


def test_a_mastodon_rate_limit_waits_for_the_reset(app, wired):
    mastodon = wired["mastodon"]
    channel = listen_on_mastodon(mastodon.url)
    reset = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    mastodon.script(
        "GET",
        NOTIFICATIONS,
        Reply(
            429,
            json={"error": "Too many requests"},
            headers={"X-RateLimit-Reset": reset.isoformat(), "X-RateLimit-Remaining": "0"},
        ),
    )
    mastodon.customer_post("ann@social.example", "down?")
    tasks.poll_mentions()
    row = source(channel, "mentions")
    assert abs((row.rate_limited_until - reset).total_seconds()) < 5
    assert "rate limited until" in row.last_error
    tasks.poll_mentions()
    assert len(mastodon.received("GET", NOTIFICATIONS)) == 1
    due_again()
    tasks.poll_mentions()
    assert len(items()) == 1 and source(channel, "mentions").last_error is None


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_failing_sources_back_off_and_are_shown_to_operators(app, client, cast, wired):
    mastodon, x = wired["mastodon"], wired["x"]
    broken = listen_on_mastodon(mastodon.url)
    broken.secrets = {"access_token": "revoked"}
    db.session.commit()
    listen_on_x()
    x.script("GET", MENTIONS, Reply(503, json={"title": "Service Unavailable"}))
    tasks.poll_mentions()
    failing = source(broken, "mentions")
    assert (
        failing.last_error.startswith("Mastodon refused (401)")
        and "revoked" not in failing.last_error
    )
    assert failing.next_poll_at > now() + timedelta(seconds=30)  # backing off
    tasks.poll_mentions()
    assert len(mastodon.received("GET")) == 1  # not asked again while backing off

    sign_in(client, "vera@example.com")
    page = client.get("/admin/inbox").get_data(as_text=True)
    assert page.count(">Failing</span>") == 2
    assert "Mastodon refused (401)" in page and "X server error 503" in page
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Listening source mentions" in dashboard and "X server error 503" in dashboard


def test_channels_that_do_not_listen_are_not_polled(app, wired):
    from tests.fakes.fixtures import connect

    connect(wired, "x", "mastodon")  # announcing only
    assert tasks.poll_mentions() == {}
    assert wired["x"].received("GET") == [] and wired["mastodon"].received("GET") == []


def test_our_own_posts_are_not_heard_as_customers(app, wired, components):
    from statuspage.models import ChannelKind
    from tests.channels.helpers import deliver, open_incident, rows
    from tests.fakes import x as x_fake
    from tests.fakes.fixtures import add_channel
    from tests.fakes.mastodon import TOKEN

    x, mastodon = wired["x"], wired["mastodon"]
    add_channel(ChannelKind.X, {"listen": "on", "search_query": "status.test"}, dict(x_fake.KEYS))
    config = {"base_url": mastodon.url, "listen": "on", "hashtags": "exampledown"}
    add_channel(ChannelKind.MASTODON, config, {"access_token": TOKEN})
    open_incident(body="Logins fail. #exampledown")  # announced on both channels
    for row in rows():
        if row.transport in ("x", "mastodon"):
            deliver(row)
    assert len(x.tweets) == 1 and len(mastodon.statuses) == 1
    customer_tweet = x.customer_post("gina", "status.test says all is well, but no", mention=False)
    customer_toot = mastodon.customer_post(
        "hal@social.example", "same", mention=False, tags=("exampledown",)
    )

    tasks.poll_mentions()
    assert {i.external_id for i in items()} == {customer_tweet["id"], customer_toot["id"]}
