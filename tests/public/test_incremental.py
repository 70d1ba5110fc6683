"""Incremental publishing: after any sequence of changes, the snapshot built from the changes
alone is byte for byte the one a full render of every record gives."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from statuspage import page_settings
from statuspage.extensions import db
from statuspage.incidents import components as component_service
from statuspage.incidents import maintenance, service
from statuspage.lib.clock import now
from statuspage.models import Component, Incident, IncidentUpdate
from statuspage.publishing import manifest, render
from statuspage.publishing.snapshot import GENERATIONS, current_dir, publish


def files(root: Path) -> dict[str, bytes]:
    """Every file of the served snapshot, but those that left the site and stay a while
    for readers of older snapshots."""
    served = current_dir(root)
    assert served is not None
    written = manifest.read(served)
    leaving = set(written.pending) if written else set()
    leaving |= {f"{path}.gz" for path in leaving}
    found = {}
    for folder, _, names in os.walk(served, followlinks=True):
        for name in names:
            path = Path(folder) / name
            relative = str(path.relative_to(served))
            if relative not in leaving:
                found[relative] = path.read_bytes()
    return found


@pytest.fixture
def compare(app, tmp_path, monkeypatch):
    """Publish incrementally into the app's folder and fully into another, at one pinned
    moment (the home page's uptime moves with the clock), and compare what they serve."""
    root, full_root = Path(app.config["PUBLISH_DIR"]), tmp_path / "full"

    def check() -> Path:
        at = now()
        monkeypatch.setattr(render, "now", lambda: at)
        served = publish()
        db.session.remove()
        publish(full_root, full=True)
        db.session.remove()
        incremental, full = files(root), files(full_root)
        assert incremental.keys() == full.keys()
        assert [k for k in full if incremental[k] != full[k]] == []
        return served

    return check


def past(incident_id: str, days: int) -> None:
    """Move an incident back in time, as if it had happened ``days`` ago."""
    then = now() - timedelta(days=days)
    db.session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .values(created_at=then, started_at=then, resolved_at=then + timedelta(hours=1))
    )
    db.session.execute(
        update(IncidentUpdate)
        .where(IncidentUpdate.incident_id == incident_id)
        .values(created_at=then, display_at=then)
    )
    db.session.commit()


def was_incremental(served: Path) -> bool:
    written = manifest.read(served)
    assert written is not None
    return written.generation != served.name


def test_incremental_and_full_snapshots_stay_identical_through_every_kind_of_change(
    app, components, compare
):
    compare()  # the first publish is a full one
    api, web = components["API"], components["Website"]
    old = service.open_incident(
        actor=None,
        name="Old outage",
        impact="major",
        body="Down.",
        components={api: "major_outage"},
    ).id
    service.resolve(actor=None, incident_id=old, body="Fixed.", components={api: "operational"})
    past(old, 70)
    older = service.open_incident(actor=None, name="Older", impact="minor", body="Slow.").id
    service.resolve(actor=None, incident_id=older, body="Fine.")
    past(older, 40)
    assert was_incremental(compare())

    incident = service.open_incident(
        actor=None,
        name="Checkout errors",
        impact="critical",
        body="Investigating **checkout**.",
        components={api: "partial_outage", web: "degraded_performance"},
    ).id
    assert was_incremental(compare())
    second = service.post_update(
        actor=None, incident_id=incident, status="identified", body="A bad deploy."
    )
    service.edit_update(actor=None, update_id=second.id, body="A bad config deploy.")
    assert was_incremental(compare())

    service.resolve(
        actor=None,
        incident_id=incident,
        body="Resolved.",
        components={api: "operational", web: "operational"},
    )
    service.publish_postmortem(actor=None, incident_id=old, body="What went wrong, 70 days ago.")
    service.update_details(actor=None, incident_id=older, name="Older, renamed")
    assert was_incremental(compare())

    start = (now() + timedelta(days=40)).replace(hour=2, minute=0, second=0, microsecond=0)
    window = maintenance.schedule(
        actor=None,
        name="Database upgrade",
        body="We will upgrade the database.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[api],
    ).id
    assert was_incremental(compare())  # a month of its own appears, next to its neighbour
    moved = start + timedelta(days=31)
    maintenance.reschedule(
        actor=None,
        incident_id=window,
        scheduled_for=moved,
        scheduled_until=moved + timedelta(hours=2),
        announcement="Moved by a month.",
    )
    assert was_incremental(compare())  # one month goes, another comes

    component_service.update_component(actor=None, component_id=api, fields={"name": "Public API"})
    assert was_incremental(compare())  # every page naming it, and its feeds
    group = db.session.get(Component, web).group_id
    component_service.save_group(actor=None, group_id=group, name="Frontends")
    component_service.update_component(
        actor=None, component_id=web, fields={"status": "major_outage", "description": "Shop."}
    )
    assert was_incremental(compare())

    page_settings.update_page(actor=None, name="Acme", time_zone="Europe/Paris")
    compare()
    added = component_service.create_component(actor=None, fields={"name": "Search"}).id
    compare()
    component_service.delete_component(actor=None, component_id=added)
    component_service.delete_group(actor=None, group_id=group)
    compare()
    service.post_update(actor=None, incident_id=older, status="resolved", body="Postscript.")
    assert was_incremental(compare())


def test_an_incremental_publish_writes_only_what_the_change_shows(app, components, compare):
    quiet = service.open_incident(actor=None, name="Quiet", impact="minor", body="Slow.").id
    service.resolve(actor=None, incident_id=quiet, body="Fine.")
    past(quiet, 35)
    service.open_incident(actor=None, name="Earlier today", impact="minor", body="Slow.")
    compare()
    root = Path(app.config["PUBLISH_DIR"])
    page = current_dir(root) / f"incidents/{quiet}.html"
    month = current_dir(root) / f"history/{datetime.now(UTC) - timedelta(days=35):%Y-%m}.html"
    before = page.stat().st_ino, month.stat().st_ino
    service.open_incident(actor=None, name="Loud", impact="major", body="Down.")
    served = compare()
    assert was_incremental(served)
    assert (page.stat().st_ino, month.stat().st_ino) == before  # not written again
    assert len(list((root / GENERATIONS).iterdir())) == 1  # one generation, shared
