"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file in the data directory."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from statuspage import create_app


@pytest.fixture
def celery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Celery]:
    for name in [n for n in os.environ if n.startswith("STATUSPAGE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("STATUSPAGE_DATA_DIR", str(tmp_path))
    app = create_app()
    yield app.extensions["celery"]
    app.extensions["celery"].pool.force_close_all()


def broker_file(celery: Celery) -> Path:
    return Path(celery.conf.broker_url.removeprefix("sqlite:///"))


def rows(celery: Celery) -> list[str]:
    with sqlite3.connect(broker_file(celery)) as conn:
        return [payload for (payload,) in conn.execute("SELECT payload FROM kombu_message")]


def take(celery: Celery) -> dict:
    queue = celery.conf.task_default_queue
    with celery.connection_for_read() as conn, conn.SimpleQueue(queue) as simple:
        message = simple.get(timeout=2)
        message.ack()
        return message.headers


def queued(celery: Celery) -> int:
    with celery.connection_for_read() as conn:
        return conn.default_channel.queue_declare(
            queue=celery.conf.task_default_queue, passive=True
        ).message_count


def test_the_embedded_broker_is_a_sqlite_file_in_the_data_directory(celery, tmp_path):
    celery.send_task("workers.tasks.sweep_due")
    assert broker_file(celery) == tmp_path / "broker.sqlite"
    assert len(rows(celery)) == 1
    assert not (Path.cwd() / "control").exists()  # nothing is written beside the code


def test_a_message_is_deleted_once_a_worker_takes_it(celery):
    celery.send_task("workers.tasks.sweep_due")
    celery.send_task("workers.tasks.republish")
    assert queued(celery) == 2
    assert take(celery)["task"] == "workers.tasks.sweep_due"
    assert queued(celery) == 1
    assert len(rows(celery)) == 1
    assert take(celery)["task"] == "workers.tasks.republish"
    assert rows(celery) == []


def test_an_unreadable_message_is_dropped_and_the_next_one_still_arrives(celery, caplog):
    celery.send_task("workers.tasks.sweep_due")  # creates the queue
    take(celery)
    with sqlite3.connect(broker_file(celery)) as conn:
        conn.execute(
            "INSERT INTO kombu_message (visible, payload, version, queue_id)"
            " SELECT 1, '', 1, id FROM kombu_queue"
        )
    celery.send_task("workers.tasks.republish")
    with caplog.at_level(logging.ERROR, logger="statuspage.broker"):
        assert take(celery)["task"] == "workers.tasks.republish"
    assert "not a readable message" in caplog.text
    assert rows(celery) == []
