"""Incremental publishing: after any sequence of changes, the snapshot built from the changes
alone is byte for byte the one a full render of every record gives."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import update

from statuspage import page_settings
from statuspage.extensions import db
from statuspage.incidents import components as component_service
from statuspage.incidents import maintenance, service
from statuspage.lib.clock import now
from statuspage.models import Component, Incident, IncidentUpdate
from statuspage.publishing import changes, feeds, gzipped, manifest, months, pages, render, uptime
from statuspage.publishing.cleanup import clean_up
from statuspage.publishing.snapshot import GENERATIONS, KEEP, TRASH, current_dir, publish


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


def forget_renders() -> None:
    """Drop every rendered piece this process holds, so a full render starts from the rows
    alone and a piece kept too long shows as a difference."""
    for held in (
        pages._incident_pages,
        pages._bars,
        pages._rows,
        pages._lists,
        pages._cards,
        pages._past,
        months._rendered,
        months._kept,
        feeds._bodies,
        gzipped._stretches,
        gzipped._blocks,
    ):
        held.clear()
    pages._day_strings.cache_clear()
    uptime._formatted.cache_clear()


@pytest.fixture
def compare(app, tmp_path, monkeypatch):
    """Publish incrementally into the app's folder and fully (from nothing rendered before)
    into another, at one pinned moment (the home page's uptime moves with the clock), and
    compare what they serve. Rows stamped before the last render are not read again (no
    overlap for late commits), so whatever a publish carries over is compared too."""
    root, full_root = Path(app.config["PUBLISH_DIR"]), tmp_path / "full"
    monkeypatch.setattr(changes, "OVERLAP", timedelta(0))

    def check() -> Path:
        at = now()
        monkeypatch.setattr(render, "now", lambda: at)
        served = publish()
        db.session.remove()
        forget_renders()
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
    component_service.update_component(
        actor=None, component_id=api, fields={"only_show_if_degraded": True}
    )
    component_service.update_component(actor=None, component_id=web, fields={"showcase": False})
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


def test_the_home_page_s_components_are_rendered_again_when_any_one_reads_differently(
    app, components, compare
):
    """Kept whole while nothing it shows changes; each of these changes alone shows."""
    api, web = components["API"], components["Website"]
    compare()
    for component_id, fields in [
        (api, {"description": "For developers."}),
        (web, {"name": "Web shop"}),
        (api, {"only_show_if_degraded": True}),
        (web, {"showcase": False}),
        (api, {"status": "degraded_performance"}),
    ]:
        component_service.update_component(actor=None, component_id=component_id, fields=fields)
        assert was_incremental(compare())


def test_the_home_page_s_incidents_are_rendered_again_when_any_one_reads_differently(
    app, components, compare
):
    """Open incidents' cards and the last days' closed ones are kept one by one."""
    quiet = service.open_incident(actor=None, name="Quiet", impact="minor", body="Slow.").id
    service.resolve(actor=None, incident_id=quiet, body="Fine.")
    loud = service.open_incident(actor=None, name="Loud", impact="major", body="Down.").id
    compare()
    service.update_details(actor=None, incident_id=quiet, name="Quiet, renamed")
    assert was_incremental(compare())
    service.update_details(actor=None, incident_id=loud, name="Loud, renamed")
    assert was_incremental(compare())
    service.post_update(actor=None, incident_id=loud, status="identified", body="Found it.")
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


def test_a_month_is_not_built_again_when_the_rows_read_again_show_the_same(
    app, components, compare, monkeypatch
):
    """An open incident, or one stamped just before the last render, is read again by every
    publish; its month's page and kept entries stay as they were unless an entry differs."""
    done = service.open_incident(actor=None, name="Done", impact="minor", body="Slow.").id
    service.resolve(actor=None, incident_id=done, body="Fine.")
    service.open_incident(actor=None, name="Ongoing", impact="major", body="Down.")
    compare()
    monkeypatch.setattr(changes, "OVERLAP", timedelta(minutes=10))
    root = Path(app.config["PUBLISH_DIR"])
    generation = root / GENERATIONS / manifest.read(current_dir(root)).generation
    key = f"{now():%Y-%m}"
    kept = [generation / f"{folder}history/{key}.html" for folder in ("", "de/", "ar/")]
    kept += [generation / months.FOLDER / folder / f"{key}.jsonl" for folder in ("_", "de", "ar")]

    def written() -> list[tuple[int, int]]:
        return [(path.stat().st_ino, path.stat().st_mtime_ns) for path in kept]

    before = written()
    assert was_incremental(compare())
    assert written() == before
    service.update_details(actor=None, incident_id=done, name="Done, renamed")
    assert was_incremental(compare())
    assert all(after != then for after, then in zip(written(), before, strict=True))


def test_new_templates_or_code_render_the_whole_site(app, components, compare, monkeypatch):
    service.open_incident(actor=None, name="Slow", impact="minor", body="Slow.")
    compare()
    service.open_incident(actor=None, name="Down", impact="major", body="Down.")
    assert was_incremental(compare())

    changed = DictLoader(
        {
            "public/history_month.html": app.jinja_env.loader.get_source(
                app.jinja_env, "public/history_month.html"
            )[0].replace("<h1>", '<h1 class="month">')
        }
    )
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([changed, app.jinja_env.loader]))
    served = compare()
    assert not was_incremental(served)  # a new generation: every file rendered again
    assert b'<h1 class="month">' in (served / f"history/{now():%Y-%m}.html").read_bytes()
    assert was_incremental(compare())

    monkeypatch.setattr(manifest, "_code_digest", lambda: "another release")
    assert not was_incremental(compare())


def test_files_that_left_the_site_go_once_no_kept_snapshot_links_to_them(app, components, compare):
    root = Path(app.config["PUBLISH_DIR"])
    start = (now() + timedelta(days=40)).replace(hour=2, minute=0, second=0, microsecond=0)
    window = maintenance.schedule(
        actor=None,
        name="Database upgrade",
        body="We will upgrade the database.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[components["API"]],
    ).id
    compare()
    moved = start + timedelta(days=62)
    maintenance.reschedule(
        actor=None,
        incident_id=window,
        scheduled_for=moved,
        scheduled_until=moved + timedelta(hours=2),
        announcement="Moved.",
    )
    served = compare()
    generation = root / GENERATIONS / manifest.read(served).generation
    left = f"history/{start:%Y-%m}.html"
    assert left in manifest.read(served).pending
    assert (generation / left).exists()  # readers of the snapshot before still find it
    for n in range(KEEP):
        clean_up(root, grace=0)  # as beat does between publishes
        service.open_incident(actor=None, name=f"Blip {n}", impact="minor", body="Slow.")
        served = compare()
        assert (generation / left).exists() == (n < KEEP - 1)
    assert not (generation / left).exists() and not (generation / f"{left}.gz").exists()
    assert manifest.read(served).pending == {}
    clean_up(root, grace=0)
    assert len(list((root / "snapshots").iterdir())) == KEEP
    linked = {os.readlink(p / "history").split("/")[-2] for p in (root / "snapshots").iterdir()}
    assert {p.name for p in (root / GENERATIONS).iterdir()} == linked
    assert list((root / TRASH).iterdir()) == []  # what was set aside is deleted


def test_a_month_whose_entries_were_not_kept_is_read_from_the_rows(app, components, compare):
    """A generation written before month entries were kept (or that lost them) still
    publishes incrementally, and alike."""
    quiet = service.open_incident(actor=None, name="Quiet", impact="minor", body="Slow.").id
    service.resolve(actor=None, incident_id=quiet, body="Fine.")
    compare()
    root = Path(app.config["PUBLISH_DIR"])
    generation = root / GENERATIONS / manifest.read(current_dir(root)).generation
    shutil.rmtree(generation / months.FOLDER)
    service.open_incident(actor=None, name="Loud", impact="major", body="Down.")
    assert was_incremental(compare())
    assert list((generation / months.FOLDER).rglob("*.jsonl"))
