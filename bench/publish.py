"""Re-publish time of the public snapshot as history grows.

For each size, a fresh process builds an installation with ``bench/dataset.py`` (50
components, 365 days of status history, 5 updates per incident) on the embedded SQLite
database, then measures, in that one process:

- the first publish (a full render, nothing cached, no previous snapshot);
- a full re-publish (``statuspage publish --full``): the baseline, what every publish cost
  before publishing followed the change;
- a re-publish with nothing changed;
- a re-publish after one new incident opened with its first update (the case every
  incident update pays);
- a re-publish with nothing new while those incidents are open (what beat's five-minute
  re-publish and component changes pay during an outage);
- the objects the collector tracks in that process afterwards, how long one full
  collection of them takes, and how many full collections ran during the incremental
  publishes (each one a pause of that length inside a publish).

Prints the curve and the ratios, and as its last line one JSON object with
``republish_after_update_s`` per size. Targets: under 0.2 s at 8,000 incidents, and at most
1.5 times the 500-incident figure.

    python bench/publish.py                      # 500, 2,000 and 8,000 incidents
    python bench/publish.py --incidents 500 2000
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPONENTS, DAYS, UPDATES = 50, 365, 5
SIZES = [500, 2000, 8000]
TARGET_S = 0.2  # at the largest size
MAX_GROWTH = 1.5
RUNS = 5
FULL_RUNS = 2


def measure(incidents: int, runs: int) -> dict[str, object]:
    """One size, in this process (called in a fresh one per size)."""
    data = Path(tempfile.mkdtemp(prefix="statuspage-bench-"))
    os.environ["STATUSPAGE_DATA_DIR"] = str(data)
    for key in ("STATUSPAGE_DATABASE_URL", "STATUSPAGE_PUBLISH_DIR"):
        os.environ.pop(key, None)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from dataset import populate
    from flask_migrate import upgrade

    from statuspage import create_app
    from statuspage.extensions import db
    from statuspage.incidents import service
    from statuspage.models import Component
    from statuspage.publishing.snapshot import publish

    def timed(**kwargs: bool) -> float:
        db.session.remove()
        started = time.perf_counter()
        publish(**kwargs)
        return time.perf_counter() - started

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        populate(COMPONENTS, DAYS, incidents, UPDATES)
        cold = timed()
        served = Path(app.config["PUBLISH_DIR"]) / "current"
        files = [
            Path(folder) / name
            for folder, _, names in os.walk(served.resolve(), followlinks=True)
            for name in names
        ]
        size = sum(p.stat().st_size for p in files)
        full = [timed(full=True) for _ in range(FULL_RUNS)]
        full_collections = gc.get_stats()[2]["collections"]
        unchanged = [timed() for _ in range(runs)]
        component_id = db.session.scalars(db.select(Component.id).limit(1)).one()
        after_update = []
        for n in range(runs):
            service.open_incident(
                actor=None,
                name=f"Bench incident {n}",
                impact="minor",
                body="Investigating.",
                components={component_id: "degraded_performance"},
            )
            after_update.append(timed())
        # While those incidents are open, as beat's five-minute re-publish and component
        # changes find the page during an outage: nothing new to show.
        while_open = [timed() for _ in range(runs)]
        full_collections = gc.get_stats()[2]["collections"] - full_collections
        db.session.remove()
        gc.collect()
        tracked = len(gc.get_objects())
        started = time.perf_counter()
        gc.collect()
        collection = time.perf_counter() - started
        db.engine.dispose()
    return {
        "incidents": incidents,
        "files": len(files),
        "snapshot_mib": round(size / 2**20, 1),
        "cold_publish_s": round(cold, 3),
        "full_republish_s": round(statistics.median(full), 3),
        "republish_unchanged_s": round(statistics.median(unchanged), 3),
        "republish_after_update_s": round(statistics.median(after_update), 3),
        "republish_while_open_s": round(statistics.median(while_open), 3),
        "gc_tracked_objects": tracked,
        "gc_full_collection_s": round(collection, 3),
        "gc_full_collections_during": full_collections,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--incidents", type=int, nargs="+", default=SIZES)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.runs)))
        return
    rows = []
    for incidents in args.incidents:
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(incidents), "--runs", str(args.runs)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        row = rows[-1]
        print(
            f"{row['incidents']:>6} incidents  {row['files']:>6} files  "
            f"{row['snapshot_mib']:>6} MiB  full {row['full_republish_s']:.3f} s  "
            f"unchanged {row['republish_unchanged_s']:.3f} s  "
            f"after an update {row['republish_after_update_s']:.3f} s  "
            f"while open {row['republish_while_open_s']:.3f} s  "
            f"full collection {row['gc_full_collection_s']:.3f} s "
            f"({row['gc_tracked_objects']:,} objects, "
            f"{row['gc_full_collections_during']} during {3 * args.runs} publishes)  "
            f"({row['full_republish_s'] / row['republish_after_update_s']:.0f}x faster than full)",
            flush=True,
        )
    smallest, largest = rows[0], rows[-1]
    growth = largest["republish_after_update_s"] / smallest["republish_after_update_s"]
    print(
        f"after an update, {largest['incidents']} vs {smallest['incidents']} incidents: "
        f"{growth:.2f}x (target at most {MAX_GROWTH}x); "
        f"{largest['republish_after_update_s']:.3f} s (target under {TARGET_S} s)"
    )
    load = os.getloadavg()
    print(
        json.dumps(
            {
                "benchmark": "publish",
                "components": COMPONENTS,
                "history_days": DAYS,
                "updates_per_incident": UPDATES,
                "sizes": rows,
                "republish_after_update_s": {
                    str(r["incidents"]): r["republish_after_update_s"] for r in rows
                },
                "full_republish_s": {str(r["incidents"]): r["full_republish_s"] for r in rows},
                "republish_while_open_s": {
                    str(r["incidents"]): r["republish_while_open_s"] for r in rows
                },
                "growth": round(growth, 2),
                "target_s": TARGET_S,
                "max_growth": MAX_GROWTH,
                "meets_target": largest["republish_after_update_s"] < TARGET_S
                and growth <= MAX_GROWTH,
                "load_average": [round(x, 2) for x in load],
            }
        )
    )


if __name__ == "__main__":
    main()
