"""Unbound extension singletons; ``create_app`` binds them to an app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery, Task
from flask import Flask
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from statuspage.broker import EMBEDDED_POLL_SECONDS, transport_for


class Base(DeclarativeBase):
    # Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate(directory=str(Path(__file__).parent / "migrations"), render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL and a busy timeout let the embedded web, worker and beat share one SQLite file."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def broker_transport_options(app: Flask) -> dict[str, Any]:
    """Redis redelivers a task a worker never acknowledged after an hour; the embedded
    SQLite broker is polled, often enough that an update is public well within a second."""
    if app.config["BROKER_URL"].startswith("sqlite:"):
        return {"polling_interval": EMBEDDED_POLL_SECONDS}
    return {"visibility_timeout": 3600}


def celery_init_app(app: Flask) -> Celery:
    """Bind a Celery app to ``app``: every task runs inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.conf.update(
        broker_url=app.config["BROKER_URL"],
        broker_transport=transport_for(app.config["BROKER_URL"]),
        broker_transport_options=broker_transport_options(app),
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=app.config["CELERY_QUEUE"],
        # A broker outage must cost the operator's request a moment, not a hang.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2},
        # A running send finishes after a lost broker connection; cancelling it mid-send
        # would leave an X post's outcome unknown.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        # Remote control needs fanout, which the SQLite transport lacks.
        worker_enable_remote_control=not app.config["BROKER_URL"].startswith("sqlite:"),
        worker_hijack_root_logger=False,
        beat_schedule_filename=str(Path(app.config["DATA_DIR"]) / "celerybeat-schedule"),
        timezone="UTC",
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
