"""Scheduled maintenance: announced when planned, moved on time by the beat, components
under maintenance and back, every transition an update through the outbox."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from statuspage.errors import ValidationError
from statuspage.extensions import db
from statuspage.incidents import maintenance
from statuspage.lib.clock import now
from statuspage.models import (
    Component,
    ComponentStatusChange,
    Delivery,
    DeliveryState,
    Incident,
    IncidentUpdate,
)
from tests.conftest import ROOT, wait_for

TICK = timedelta(minutes=1)  # how often beat's maintenance_tick runs in production


def reload(incident_id: str) -> Incident:
    db.session.expire_all()
    return db.session.get(Incident, incident_id)


def schedule(components, start, end, **kwargs) -> Incident:
    return maintenance.schedule(
        actor=None,
        name="Database upgrade",
        body="We are upgrading the primary database.",
        scheduled_for=start,
        scheduled_until=end,
        components=[components["API"], components["Dashboard"]],
        **kwargs,
    )


def test_scheduling_announces_without_touching_components(app, components):
    start = now() + timedelta(hours=1)
    row = schedule(components, start, start + timedelta(hours=2))
    row = reload(row.id)
    assert (row.status, row.impact, row.next_update_due) == ("scheduled", "maintenance", None)
    assert sorted(c.name for c in row.components) == ["API", "Dashboard"]
    (update,) = row.updates
    assert [(a.old_status, a.new_status) for a in update.affected] == [
        ("operational", "operational")
    ] * 2
    assert db.session.scalars(select(Delivery.update_id)).all() == [update.id]
    assert {c.status for c in db.session.scalars(select(Component))} == {"operational"}


@pytest.mark.parametrize(
    "start, end, field",
    [(None, 1, "scheduled_for"), (2, 1, "scheduled_until"), (1, 1, "scheduled_until")],
)
def test_a_bad_window_is_refused(app, components, start, end, field):
    base = now()
    with pytest.raises(ValidationError) as refused:
        schedule(
            components,
            base + timedelta(hours=start) if start is not None else None,
            base + timedelta(hours=end),
        )
    assert field in refused.value.errors
    assert db.session.scalars(select(Incident)).all() == []


def test_tick_moves_it_on_time_and_back(app, components):
    start = now() + timedelta(hours=1)
    row = schedule(components, start, start + timedelta(hours=2))
    assert maintenance.tick(start - timedelta(seconds=1)).started == []
    assert maintenance.tick(start).started == [row.id]
    assert maintenance.tick(start).started == []  # never twice
    row = reload(row.id)
    assert row.status == "in_progress"
    assert {c.status for c in row.components} == {"under_maintenance"}
    assert maintenance.tick(start + timedelta(hours=2)).completed == [row.id]
    row = reload(row.id)
    assert row.status == "completed"
    assert {c.status for c in row.components} == {"operational"}
    assert [u.status for u in row.updates] == ["completed", "in_progress", "scheduled"]
    causes = db.session.scalars(select(ComponentStatusChange.cause)).all()
    assert causes == ["maintenance"] * 4
    assert len(db.session.scalars(select(Delivery)).all()) == 3


def test_without_auto_flags_the_operator_moves_it(app, components):
    start = now() - timedelta(minutes=1)
    row = schedule(
        components,
        start,
        start + timedelta(minutes=2),
        auto_in_progress=False,
        auto_completed=False,
    )
    assert maintenance.tick(start + timedelta(hours=3)).started == []
    assert reload(row.id).status == "scheduled"


def test_a_moved_window_is_announced_where_the_old_one_was(app, components):
    start = now() + timedelta(hours=1)
    row = schedule(components, start, start + timedelta(hours=2))
    later = start + timedelta(days=1)
    message = maintenance.moved_message(later, later + timedelta(hours=3))
    maintenance.reschedule(
        actor=None,
        incident_id=row.id,
        scheduled_for=later,
        scheduled_until=later + timedelta(hours=3),
        announcement=message,
    )
    row = reload(row.id)
    assert (row.status, row.scheduled_for, row.started_at) == ("scheduled", later, later)
    moved, first = row.updates
    assert (moved.status, moved.body) == ("scheduled", message)
    assert later.strftime("%b %-d, %Y %H:%M UTC") in message
    deliveries = db.session.scalars(select(Delivery.update_id)).all()
    assert sorted(deliveries) == sorted([first.id, moved.id])
    # The beat now starts it at the new time, not the old one.
    assert maintenance.tick(start + timedelta(minutes=1)).started == []
    assert maintenance.tick(later).started == [row.id]


def test_a_quiet_move_changes_the_window_only(app, components):
    start = now() + timedelta(hours=1)
    row = schedule(components, start, start + timedelta(hours=2))
    maintenance.reschedule(
        actor=None,
        incident_id=row.id,
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=4),
    )
    row = reload(row.id)
    assert row.scheduled_until == start + timedelta(hours=4)
    assert len(row.updates) == 1
    assert len(db.session.scalars(select(Delivery)).all()) == 1


@pytest.mark.parametrize("announcement", ["", "   ", "x" * 20_001])
def test_a_move_with_a_bad_announcement_changes_nothing(app, components, announcement):
    start = now() + timedelta(hours=1)
    row = schedule(components, start, start + timedelta(hours=2))
    with pytest.raises(ValidationError) as refused:
        maintenance.reschedule(
            actor=None,
            incident_id=row.id,
            scheduled_for=start + timedelta(days=1),
            scheduled_until=start + timedelta(days=2),
            announcement=announcement,
        )
    assert "body" in refused.value.errors
    row = reload(row.id)
    assert (row.scheduled_for, len(row.updates)) == (start, 1)


@pytest.fixture
def beat(app, tmp_path):
    """A real ``celery beat`` with a one-second tick, on the test's broker queue."""
    app.config["TEST_ENV"]["STATUSPAGE_TICK_SECONDS"] = "1"
    env = dict(os.environ, **app.config["TEST_ENV"])
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        env=env,
        cwd=ROOT,
    )
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


def test_transitions_happen_on_time_under_a_real_beat(app, components, beat, start_worker):
    start_worker()
    # A window due now shows when beat and the worker are both running: a loaded machine
    # can take longer to start them than the few seconds the window below lasts.
    canary = maintenance.schedule(
        actor=None,
        name="Mail relay swap",
        body="We are swapping the mail relay.",
        scheduled_for=now(),
        scheduled_until=now() + timedelta(hours=1),
        components=[components["Email delivery"]],
    )
    wait_for(lambda: reload(canary.id).status == "in_progress", timeout=120, interval=0.2)
    start = now() + timedelta(seconds=3)
    end = start + timedelta(seconds=3)
    row = schedule(components, start, end)

    # Polling could miss the three seconds in progress on a loaded machine; the updates and
    # the components' history record every step, so the test reads them once it is over.
    wait_for(lambda: reload(row.id).status == "completed", timeout=120, interval=0.2)
    row = reload(row.id)
    assert {c.status for c in row.components} == {"operational"}
    updates = {
        u.status: u.created_at
        for u in db.session.scalars(
            select(IncidentUpdate).where(IncidentUpdate.incident_id == row.id)
        )
    }
    # Never early, and no later than the one tick (a minute) between beat's looks.
    assert start <= updates["in_progress"] < start + TICK
    assert end <= updates["completed"] < end + TICK
    steps = db.session.execute(
        select(
            ComponentStatusChange.component_id,
            IncidentUpdate.status,
            ComponentStatusChange.new_status,
        )
        .join(IncidentUpdate, ComponentStatusChange.incident_update_id == IncidentUpdate.id)
        .where(IncidentUpdate.incident_id == row.id)
        .order_by(ComponentStatusChange.id)
    ).all()
    history: dict[str, list[tuple[str, str]]] = {}
    for component_id, step, status in steps:
        history.setdefault(component_id, []).append((step, status))
    under_and_back = [("in_progress", "under_maintenance"), ("completed", "operational")]
    assert history == {components["API"]: under_and_back, components["Dashboard"]: under_and_back}
    # Every transition went through the outbox to the public page.
    rows = select(Delivery).join(IncidentUpdate).where(IncidentUpdate.incident_id == row.id)
    wait_for(
        lambda: (
            {d.state for d in db.session.scalars(rows)} == {DeliveryState.SENT}
            or db.session.expire_all()
        ),
        timeout=120,
        interval=0.2,
    )
    assert len(db.session.scalars(rows).all()) == 3
