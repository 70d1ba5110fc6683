"""Shared fixtures: a real PostgreSQL and SQLite database, a real Redis broker.

Each database is migrated once per session with the project's Alembic migrations and
emptied between tests. ``app`` runs every test that uses it on both databases.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from statuspage import create_app
from statuspage.extensions import db
from statuspage.models import Role, User

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"statuspage_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("statuspage")


def database_url(backend: str, request: pytest.FixtureRequest, session_dir: Path) -> str:
    if backend == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{session_dir / 'test.db'}"


_migrated: set[str] = set()


def environment(url: str, data_dir: Path, queue: str) -> dict[str, str]:
    """The env vars a test app (and any worker it starts) is configured with."""
    return {
        "STATUSPAGE_DATABASE_URL": url,
        "STATUSPAGE_BROKER_URL": REDIS_URL,
        "STATUSPAGE_CELERY_QUEUE": queue,
        "STATUSPAGE_SECRET_KEY": "test-secret-key",
        "STATUSPAGE_BASE_URL": "http://status.test",
        "STATUSPAGE_DATA_DIR": str(data_dir),
        "STATUSPAGE_PUBLISH_DIR": str(data_dir / "public"),
        "STATUSPAGE_SWEEP_SECONDS": "1",
    }


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def app(
    backend: str,
    request: pytest.FixtureRequest,
    session_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Flask]:
    url = database_url(backend, request, session_dir)
    queue = f"statuspage-test-{uuid.uuid4().hex[:8]}"
    env = environment(url, tmp_path, queue)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    flask_app = create_app({"TESTING": True})
    flask_app.config["TEST_ENV"] = env
    with flask_app.app_context():
        if url not in _migrated:
            from flask_migrate import upgrade

            upgrade(revision="heads")
            _migrated.add(url)
        _empty_tables()
        yield flask_app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()
    redis.Redis.from_url(REDIS_URL).delete(queue)


def _empty_tables() -> None:
    """Deletes every row, children first, and restarts PostgreSQL's id sequences.

    DELETE rather than TRUNCATE: a test leaves a few rows, and TRUNCATE gives each of the
    tables new files (about a second for all of them on a busy disk, twice per test)."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(text(f'DELETE FROM "{table.name}"'))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
    db.session.commit()


class BufferedClient(FlaskClient):
    """Reads each response fully, so files served from the snapshot are closed at once."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    app.test_client_class = BufferedClient
    return app.test_client()


def make_user(email: str, role: Role) -> User:
    user = User(email=email, role=role)
    user.set_password(PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def cast(app: Flask) -> dict[str, User]:
    """The fixed cast: an admin, a responder, a viewer and a deactivated outsider."""
    people = {
        "admin": make_user("alice@example.com", Role.ADMIN),
        "responder": make_user("rob@example.com", Role.RESPONDER),
        "viewer": make_user("vera@example.com", Role.VIEWER),
        "outsider": make_user("olga@example.com", Role.RESPONDER),
    }
    people["outsider"].active = False
    db.session.commit()
    return people


@pytest.fixture
def components(app: Flask) -> dict[str, str]:
    """Two groups of demo components; returns {name: id}."""
    from statuspage.demo import seed_demo_components
    from statuspage.models import Component

    seed_demo_components()
    return {c.name: c.id for c in db.session.scalars(db.select(Component))}


class Worker:
    """A real ``celery worker`` process on the Redis broker, configured like the app."""

    def __init__(self, env: dict[str, str], name: str) -> None:
        self.env = env
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "--pool",
            "solo",
            "--hostname",
            f"{self.name}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ]
        env = dict(os.environ, **self.env)
        self.proc = subprocess.Popen(command, env=env, cwd=ROOT)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def start_worker(app: Flask) -> Iterator:  # type: ignore[type-arg]
    started: list[Worker] = []

    def start(name: str = "w1") -> Worker:
        worker = Worker(app.config["TEST_ENV"], f"{name}-{uuid.uuid4().hex[:6]}").start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll until ``predicate()`` is truthy; return its value or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
