"""The Celery app: the Flask app's Celery, plus the beat schedule.

Run with ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``.
"""

from __future__ import annotations

from datetime import timedelta

from celery.signals import worker_process_init

from statuspage import create_app
from statuspage.extensions import db

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.include = ["workers.tasks"]
celery_app.conf.beat_schedule = {
    "sweep-due-deliveries": {
        "task": "workers.tasks.sweep_due",
        "schedule": timedelta(seconds=flask_app.config["SWEEP_INTERVAL"]),
    },
    "republish-page": {
        "task": "workers.tasks.republish",
        "schedule": timedelta(hours=1),
    },
}
app = celery_app


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """Forked pool processes must not share the parent's database connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
