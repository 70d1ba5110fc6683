"""The outbox end to end with real ``celery worker`` processes on the Redis broker."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Delivery, DeliveryState
from statuspage.publishing.snapshot import current_dir, publish
from tests.conftest import wait_for


def summary(app) -> dict | None:
    root = current_dir(Path(app.config["PUBLISH_DIR"]))
    if root is None:
        return None
    return json.loads((root / "api/v2/summary.json").read_text())


def states() -> list[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).order_by(Delivery.id))
    return [(d.state, d.attempts) for d in rows]


def test_nothing_is_public_until_a_worker_delivers(app, components, start_worker):
    publish()
    before = summary(app)
    incident = service.open_incident(
        actor=None,
        name="Login failures",
        impact="major",
        body="Investigating",
        components={components["API"]: "major_outage"},
    )
    assert states() == [(DeliveryState.PENDING, 0)]
    assert summary(app) == before  # the web request published nothing

    start_worker()
    published = wait_for(lambda: (s := summary(app)) and s["incidents"] and s, timeout=120)
    assert published["incidents"][0]["id"] == incident.id
    assert published["status"]["indicator"] == "critical"  # a major outage dominates
    api = next(c for c in published["components"] if c["id"] == components["API"])
    assert api["status"] == "major_outage"
    wait_for(lambda: states() == [(DeliveryState.SENT, 1)])


def test_a_lost_doorbell_is_caught_by_the_sweep(app, components, start_worker):
    import redis

    from tests.conftest import REDIS_URL

    incident = service.open_incident(actor=None, name="Lost bell", impact="minor", body="x")
    # The bell rang (its queue exists) and is lost with it.
    assert redis.Redis.from_url(REDIS_URL).delete(app.config["CELERY_QUEUE"]) == 1
    start_worker()
    app.extensions["celery"].send_task("workers.tasks.sweep_due")
    # A loaded machine may take a minute to start a worker; the claim is not about speed.
    published = wait_for(lambda: (s := summary(app)) and s["incidents"] and s, timeout=120)
    assert published["incidents"][0]["id"] == incident.id


def test_two_workers_and_duplicate_tasks_deliver_each_row_once(app, components, start_worker):
    incident = service.open_incident(actor=None, name="Burst", impact="minor", body="one")
    for n in range(5):
        service.post_update(
            actor=None, incident_id=incident.id, status="identified", body=f"update {n}"
        )
    rows = db.session.scalars(select(Delivery.id)).all()
    celery = app.extensions["celery"]
    for row_id in rows:  # ring every bell a second time: duplicates must be harmless
        celery.send_task("workers.tasks.deliver", args=[row_id])
    start_worker("a")
    start_worker("b")
    # Slow to start on a loaded machine; what counts is each row sent once, in order.
    wait_for(lambda: all(s == DeliveryState.SENT for s, _ in states()), timeout=120)
    assert all(attempts == 1 for _, attempts in states())
    final = summary(app)
    bodies = [u["body"] for u in final["incidents"][0]["incident_updates"]]
    assert bodies == [f"update {n}" for n in reversed(range(5))] + ["one"]
    renders = {d.external_id for d in db.session.scalars(select(Delivery))}
    assert 1 <= len(renders) <= len(rows)  # bursts coalesce into fewer renders
