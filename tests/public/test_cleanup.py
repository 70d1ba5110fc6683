"""Cleanup: a publish never deletes a past generation; beat's cleanup does, in slices, once
no kept snapshot links to it and its successor has been served for the grace period."""

from __future__ import annotations

import os
import time
from pathlib import Path

from click.testing import CliRunner

from statuspage.cli import main
from statuspage.incidents import service
from statuspage.publishing import manifest
from statuspage.publishing.cleanup import clean_up
from statuspage.publishing.snapshot import GENERATIONS, KEEP, SNAPSHOTS, TRASH, publish


def generations(root: Path) -> set[str]:
    return {p.name for p in (root / GENERATIONS).iterdir()}


def left_over(root: Path) -> int:
    """Files, links and directories set aside and not yet deleted."""
    trash = root / TRASH
    if not trash.is_dir():
        return 0
    return sum(len(dirs) + len(names) for _, dirs, names in os.walk(trash))


def generation_after_a_full_publish(app) -> tuple[Path, str]:
    """Publish, then publish fully: returns the publish folder and the generation left."""
    root = Path(app.config["PUBLISH_DIR"])
    first = manifest.read(publish())
    assert first is not None
    publish(full=True)
    return root, first.generation


def test_ordinary_publishes_after_a_full_one_leave_the_old_generation_whole(app, components):
    root, old = generation_after_a_full_publish(app)
    files = sum(len(names) for _, _, names in os.walk(root / GENERATIONS / old))
    assert files > 0
    for n in range(KEEP + 2):
        service.open_incident(actor=None, name=f"Blip {n}", impact="minor", body="Slow.")
        publish()
        assert old in generations(root)
        assert left_over(root) == 0
    assert sum(len(names) for _, _, names in os.walk(root / GENERATIONS / old)) == files


def test_the_cleanup_deletes_the_old_generation_once_no_kept_snapshot_links_to_it(app, components):
    root, old = generation_after_a_full_publish(app)
    for _ in range(KEEP - 2):
        publish()
    assert clean_up(root, grace=0) == 0
    assert old in generations(root)  # the snapshot before the full one is still kept
    publish()
    assert clean_up(root, grace=0) > 0
    assert old not in generations(root)
    assert left_over(root) == 0
    assert len(list((root / SNAPSHOTS).iterdir())) == KEEP


def test_the_cleanup_keeps_what_was_superseded_within_the_grace_period(app, components):
    root, old = generation_after_a_full_publish(app)
    for _ in range(KEEP + 1):
        publish()
    assert clean_up(root, grace=3600) == 0
    assert old in generations(root)
    assert len(list((root / SNAPSHOTS).iterdir())) == KEEP + 3


def test_the_cleanup_deletes_a_slice_per_run(app, components):
    root, old = generation_after_a_full_publish(app)
    for _ in range(KEEP):
        publish()
    assert clean_up(root, grace=0, budget=10) == 10
    assert old not in generations(root)  # set aside whole at once, out of any page's reach
    total = left_over(root)
    assert total > 10
    runs = [clean_up(root, grace=0, budget=10) for _ in range(total // 10 + 1)]
    assert runs[:-1] == [10] * (total // 10)
    assert runs[-1] == total % 10
    assert left_over(root) == 0


def test_beat_runs_the_cleanup():
    from workers.celery_app import celery_app
    from workers.tasks import clean_up_snapshots

    entry = celery_app.conf.beat_schedule["clean-up-snapshots"]
    assert entry["task"] == clean_up_snapshots.name == "workers.tasks.clean_up_snapshots"


def test_publish_from_the_command_line_cleans_up_too(app, components):
    root, old = generation_after_a_full_publish(app)
    for _ in range(KEEP - 1):
        publish()
    for snapshot in (root / SNAPSHOTS).iterdir():  # every swap was an hour ago
        os.utime(manifest.path_for(snapshot), ns=(0, time.time_ns() - 3600 * 10**9))
    result = CliRunner().invoke(main, ["publish"])
    assert result.exit_code == 0, result.output
    assert old not in generations(root)
    assert left_over(root) == 0
