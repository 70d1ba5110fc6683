"""The Celery app: the Flask app's Celery, plus the beat schedule.

Run with ``celery -A workers.celery_app worker`` and ``celery -A workers.celery_app beat``.
"""

from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab
from celery.signals import worker_process_init

from statuspage import create_app
from statuspage.config import env_int
from statuspage.extensions import db

flask_app = create_app()
celery_app = flask_app.extensions["celery"]
celery_app.conf.include = ["workers.tasks"]
celery_app.conf.beat_schedule = {
    "sweep-due-deliveries": {
        "task": "workers.tasks.sweep_due",
        "schedule": timedelta(seconds=flask_app.config["SWEEP_INTERVAL"]),
    },
    "sweep-subscription-confirmations": {
        "task": "workers.tasks.sweep_confirmations",
        "schedule": timedelta(seconds=flask_app.config["SWEEP_INTERVAL"]),
    },
    "publish-page-changes": {
        "task": "workers.tasks.publish_requests",
        "schedule": timedelta(seconds=flask_app.config["SWEEP_INTERVAL"]),
    },
    # Maintenance transitions and update-cadence reminders: every minute, shorter in tests.
    "maintenance-tick": {
        "task": "workers.tasks.maintenance_tick",
        "schedule": timedelta(seconds=env_int("STATUSPAGE_TICK_SECONDS", 60)),
    },
    "cadence-reminders": {
        "task": "workers.tasks.cadence_reminders",
        "schedule": timedelta(seconds=env_int("STATUSPAGE_TICK_SECONDS", 60)),
    },
    # Listening: mentions, searches and hashtags into the inbox. A poll that waited longer
    # than one interval (no worker was free) is dropped; the next one covers it.
    "poll-mentions": {
        "task": "workers.tasks.poll_mentions",
        "schedule": timedelta(seconds=flask_app.config["LISTEN_POLL_INTERVAL"]),
        "options": {"expires": flask_app.config["LISTEN_POLL_INTERVAL"]},
    },
    # Followed vendor pages: each has its own cadence; this only looks for those due.
    "poll-upstreams": {
        "task": "workers.tasks.poll_upstreams",
        "schedule": timedelta(seconds=env_int("STATUSPAGE_UPSTREAM_TICK_SECONDS", 15)),
        "options": {"expires": env_int("STATUSPAGE_UPSTREAM_TICK_SECONDS", 15)},
    },
    # A full publish leaves its previous generation behind; this deletes it a slice per run.
    "clean-up-snapshots": {
        "task": "workers.tasks.clean_up_snapshots",
        "schedule": timedelta(seconds=env_int("STATUSPAGE_CLEANUP_SECONDS", 15)),
        "options": {"expires": env_int("STATUSPAGE_CLEANUP_SECONDS", 15)},
    },
    # On the clock (UTC), not relative to beat's start: a run at 00:00 rolls the uptime
    # bars over to the new day, and "today" stays current within five minutes.
    "republish-page": {
        "task": "workers.tasks.republish",
        "schedule": crontab(minute="*/5"),
    },
}
app = celery_app


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """Forked pool processes must not share the parent's database connections."""
    with flask_app.app_context():
        db.engine.dispose(close=False)
