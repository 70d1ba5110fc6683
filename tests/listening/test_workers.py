"""Polling in real ``celery worker`` processes: a fresh process resumes from the cursors
in the database, stores nothing twice and asks the APIs only for what is newer."""

from __future__ import annotations

import pytest

from statuspage.extensions import db
from statuspage.models import ListeningSource
from tests.conftest import wait_for
from tests.listening.conftest import items, listen_on_mastodon, listen_on_x

MENTIONS = "/2/users/42/mentions"
NOTIFICATIONS = "/api/v1/notifications"


def polled_everything() -> bool:
    db.session.expire_all()
    rows = db.session.scalars(db.select(ListeningSource)).all()
    db.session.commit()
    return len(rows) == 2 and all(r.last_success_at and r.polling_until is None for r in rows)


def since(request) -> str | None:
    return (request.query.get("since_id") or [None])[0]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_fresh_worker_resumes_where_the_last_one_stopped(app, wired, start_worker):
    x, mastodon = wired["x"], wired["mastodon"]
    listen_on_x()
    listen_on_mastodon(mastodon.url)
    first_tweet = x.customer_post("alice", "login fails")
    mastodon.customer_post("ann@social.example", "login fails here too")
    celery = app.extensions["celery"]

    worker = start_worker("first")
    celery.send_task("workers.tasks.poll_mentions")
    wait_for(polled_everything, timeout=30, interval=0.2)
    assert len(items()) == 2
    first_note = mastodon.notifications[-1]["id"]
    worker.stop()

    x.customer_post("bob", "still failing")
    mastodon.customer_post("ben@social.example", "same")
    start_worker("second")  # nothing of the first process survives but the database
    celery.send_task("workers.tasks.poll_mentions")
    wait_for(lambda: len(items()) == 4, timeout=30, interval=0.2)
    celery.send_task("workers.tasks.poll_mentions")  # and again: nothing new
    wait_for(lambda: len(x.received("GET", MENTIONS)) == 3, timeout=30, interval=0.2)
    wait_for(polled_everything, timeout=30, interval=0.2)

    assert len(items()) == 4 and len({(i.channel_id, i.external_id) for i in items()}) == 4
    x_polls = x.received("GET", MENTIONS)
    assert [since(r) for r in x_polls[:2]] == [None, first_tweet["id"]]
    notes = mastodon.received("GET", NOTIFICATIONS)
    assert [since(r) for r in notes[:2]] == [None, first_note]
    assert len(x.received("GET", "/2/users/me")) == 1  # the account id came from the database
