"""A production worker on Redis outlives restarts of Redis while its tasks are unacknowledged.

Redis here is a private ``redis-server`` on a free port (the shared one is never
restarted); the worker is a real prefork ``celery worker`` configured like production.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from statuspage.extensions import db
from statuspage.models import DeliveryState
from tests.channels.helpers import open_incident, rows
from tests.conftest import ROOT, wait_for
from tests.fakes.fixtures import RECEIVER_PATH, connect
from tests.fakes.server import Reply
from tests.private_services import PrivateRedis

RESTARTS = 5


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_a_worker_outlives_redis_restarts_with_tasks_unacknowledged(
    app, components, wired, private_redis, tmp_path
):
    celery = app.extensions["celery"]
    celery.conf.broker_url = app.config["BROKER_URL"] = private_redis.url
    env = {**os.environ, **app.config["TEST_ENV"], "STATUSPAGE_BROKER_URL": private_redis.url}
    for n in range(4):
        connect(wired, "webhook")["webhook"].name = f"ops {n}"
    db.session.commit()
    # Every webhook answers late, so the worker always holds tasks it has not acknowledged.
    wired["receiver"].script("POST", RECEIVER_PATH, *[Reply(delay=0.7, process=True)] * 200)
    log = tmp_path / "worker.log"
    celery_cli = [sys.executable, "-m", "celery", "-A", "workers.celery_app"]
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [*celery_cli, "worker", "--concurrency", "2", "--without-gossip", "--without-mingle"]
            + ["--loglevel", "INFO"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # Redis keeps nothing across these restarts: beat's sweep rings the lost doorbells again.
    beat = subprocess.Popen(
        [*celery_cli, "beat", "--schedule", str(tmp_path / "beat"), "--loglevel", "WARNING"],
        env=env,
        cwd=ROOT,
    )
    try:
        for n in range(RESTARTS):
            open_incident(name=f"Outage {n}")
            time.sleep(1.5)  # the worker is now inside a webhook call, its message unacked
            private_redis.stop()
            time.sleep(0.5)
            private_redis.start()
            time.sleep(1.5)
            assert worker.poll() is None, (
                f"worker exited after restart {n + 1}:\n" + log.read_text()
            )
        wait_for(
            lambda: {r.state for r in rows()} == {DeliveryState.SENT}, timeout=90, interval=0.5
        )
        assert worker.poll() is None, log.read_text()
    finally:
        for proc in (worker, beat):
            proc.terminate()
            proc.wait(timeout=30)
    assert len(rows()) == RESTARTS * 5  # the page and four webhooks per incident
