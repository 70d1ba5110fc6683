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
    """The filesystem broker needs its folders; it is the embedded default (no server)."""
    if not app.config["BROKER_URL"].startswith("filesystem://"):
        return {"visibility_timeout": 3600}
    folder = Path(app.config["DATA_DIR"]) / "broker"
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "store_processed": False,
        "polling_interval": 0.1,
    }


def celery_init_app(app: Flask) -> Celery:
    """Bind a Celery app to ``app``: every task runs inside its app context."""

    class FlaskTask(Task):
        def __call__(self, *args: object, **kwargs: object) -> object:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    filesystem = app.config["BROKER_URL"].startswith("filesystem://")
    celery_app.conf.update(
        broker_url=app.config["BROKER_URL"],
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
        worker_enable_remote_control=not filesystem,
        worker_hijack_root_logger=False,
        beat_schedule_filename=str(Path(app.config["DATA_DIR"]) / "celerybeat-schedule"),
        timezone="UTC",
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
