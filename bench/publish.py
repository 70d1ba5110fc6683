"""Full re-publish time of the public snapshot for a large installation.

50 components, 365 days of status history, 500 incidents with 5 updates each, on the
embedded SQLite database. Prints the first render in a fresh process (nothing cached,
no previous snapshot), re-publishes with nothing changed, and re-publishes after a new
update (the case every incident update pays, which the < 1 s target is for). Last line:
one JSON object.

    python bench/publish.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

COMPONENTS, DAYS, INCIDENTS, UPDATES = 50, 365, 500, 5
TARGET_S = 1.0
RUNS = 5


def main() -> None:
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

    app = create_app()
    with app.app_context():
        upgrade(revision="heads")
        populate(COMPONENTS, DAYS, INCIDENTS, UPDATES)
        db.session.remove()

        started = time.perf_counter()
        snapshot = publish()
        cold = time.perf_counter() - started
        files = [p for p in snapshot.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)

        unchanged = []
        for _ in range(RUNS):
            db.session.remove()
            started = time.perf_counter()
            publish()
            unchanged.append(time.perf_counter() - started)

        component_id = db.session.scalars(db.select(Component.id).limit(1)).one()
        after_update = []
        for n in range(RUNS):
            service.open_incident(
                actor=None,
                name=f"Bench incident {n}",
                impact="minor",
                body="Investigating.",
                components={component_id: "degraded_performance"},
            )
            db.session.remove()
            started = time.perf_counter()
            publish()
            after_update.append(time.perf_counter() - started)
        db.engine.dispose()

    result = {
        "benchmark": "publish",
        "components": COMPONENTS,
        "history_days": DAYS,
        "incidents": INCIDENTS,
        "updates": INCIDENTS * UPDATES,
        "files": len(files),
        "snapshot_mib": round(size / 2**20, 1),
        "cold_publish_s": round(cold, 3),
        "republish_unchanged_s": round(statistics.median(unchanged), 3),
        "republish_after_update_s": round(statistics.median(after_update), 3),
        "target_s": TARGET_S,
    }
    # The target is for the publish every incident update pays in a running worker; the
    # first render after a worker starts also compiles templates and warms SQLAlchemy.
    result["meets_target"] = result["republish_after_update_s"] < TARGET_S
    print(f"snapshot: {len(files)} files, {result['snapshot_mib']} MiB")
    print(f"first publish (cold process):      {cold:.3f} s")
    print(f"re-publish, nothing changed:       {result['republish_unchanged_s']:.3f} s (median)")
    print(f"re-publish after a new update:     {result['republish_after_update_s']:.3f} s (median)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
