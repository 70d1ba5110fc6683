"""Publishing: complete snapshots swapped in atomically, bursts coalesced, old ones pruned."""

from __future__ import annotations

import fcntl
import threading
import time
from pathlib import Path

import pytest
from celery.schedules import crontab

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Delivery, TargetKind
from statuspage.publishing import render, snapshot
from statuspage.publishing.cleanup import clean_up
from statuspage.publishing.snapshot import KEEP, SNAPSHOTS, current_dir, publish
from tests.conftest import wait_for


def publish_dir(app) -> Path:
    return Path(app.config["PUBLISH_DIR"])


def test_each_publish_swaps_in_a_complete_snapshot_and_the_cleanup_prunes_old_ones(app, components):
    made = [publish() for _ in range(KEEP + 3)]
    root = publish_dir(app)
    assert (root / "current").is_symlink()
    assert current_dir(root) == made[-1]
    assert sorted(p.name for p in (root / SNAPSHOTS).iterdir()) == [p.name for p in made]
    clean_up(root, grace=0)
    kept = sorted(p.name for p in (root / SNAPSHOTS).iterdir())
    assert kept == [p.name for p in made[-KEEP:]]
    for expected in ["index.html", "api/v2/summary.json", "history.rss", "static/public.css"]:
        assert (made[-1] / expected).is_file(), expected


def test_unchanged_files_are_shared_with_the_previous_snapshot(app, components):
    first = publish()
    second = publish()
    same = first / "api/v2/components.json"
    assert same.stat().st_ino == (second / "api/v2/components.json").stat().st_ino
    gz = Path(str(same) + ".gz")
    assert gz.stat().st_ino == Path(str(second / "api/v2/components.json") + ".gz").stat().st_ino


def test_a_failed_render_leaves_the_served_snapshot_alone(app, components, monkeypatch):
    served = publish()

    def broken(*args) -> dict:
        raise RuntimeError("template error")

    monkeypatch.setattr(render, "head_files", broken)
    with pytest.raises(RuntimeError):
        publish()
    root = publish_dir(app)
    assert current_dir(root) == served
    assert sorted(p.name for p in (root / SNAPSHOTS).iterdir()) == [served.name]


def _publish_in_thread(app, results: list[Path]) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            results.append(publish())
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_callers_waiting_on_a_render_share_the_next_one(app, components, monkeypatch):
    publish()
    root = publish_dir(app)
    asked: list[int] = []

    class Clock:
        """Counts the moments callers ask for a render (and, later, renders start)."""

        @staticmethod
        def time_ns() -> int:
            asked.append(1)
            return time.time_ns()

    monkeypatch.setattr(snapshot, "time", Clock)
    results: list[Path] = []
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a render is in progress
        threads = [_publish_in_thread(app, results) for _ in range(8)]
        wait_for(lambda: len(asked) >= 8)  # every caller has asked and is waiting
        fcntl.flock(lock, fcntl.LOCK_UN)
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8
    assert len(set(results)) == 1  # one render served all eight
    assert current_dir(root) == results[0]


def test_a_burst_of_updates_through_the_worker_costs_a_bounded_number_of_renders(
    app, components, start_worker
):
    publish()
    root = publish_dir(app)
    incident = service.open_incident(actor=None, name="Flapping", impact="minor", body="0")
    with open(root / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # hold renders while the burst arrives
        start_worker()
        for n in range(1, 20):
            service.post_update(
                actor=None, incident_id=incident.id, status="identified", body=str(n)
            )
        time.sleep(0.5)
        fcntl.flock(lock, fcntl.LOCK_UN)

    def all_sent() -> list[Delivery] | None:
        db.session.expire_all()
        rows = db.session.scalars(
            db.select(Delivery).where(Delivery.target_kind == TargetKind.PAGE)
        ).all()
        return rows if len(rows) == 20 and all(r.sent_at for r in rows) else None

    rows = wait_for(all_sent, timeout=30)
    renders = {r.external_id for r in rows}
    assert len(renders) <= 3, renders
    summary = (current_dir(root) / "api/v2/summary.json").read_text()
    assert '"body":"19"' in summary


def test_beat_republishes_on_the_clock_including_midnight_utc():
    from workers.celery_app import celery_app

    entry = celery_app.conf.beat_schedule["republish-page"]
    assert entry["task"] == "workers.tasks.republish"
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert 0 in schedule.minute and schedule.hour == set(range(24))
    assert celery_app.conf.timezone == "UTC"
