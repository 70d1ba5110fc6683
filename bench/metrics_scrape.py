"""Cost of a Prometheus scrape of ``/metrics`` as the outbox grows.

The metrics are aggregated in SQL at scrape time (no process holds them in memory), so a
scrape reads the delivery and inbox tables. This seeds a fresh PostgreSQL database with
growing numbers of delivery rows (95% sent, the rest pending or dead) and one inbox item
per hundred deliveries, then times scrapes through the app, side by side with a baseline
request in the same run: ``GET /report`` (a form page that queries the database). The
seeded rows are sent in the past, so the running latency totals are cleared at each size:
the first scrape then adds up every sent row, as the first scrape after an upgrade does,
and is reported apart ("catch-up").

Prints p50/p95 per size and each scrape's p50 as a ratio of the baseline's. Last line:
one JSON object.

    python bench/metrics_scrape.py [--sizes 10000,100000,1000000] [--requests 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import text  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TOKEN = "bench-metrics-token"

SEED_DELIVERIES = """
INSERT INTO delivery (update_id, target_kind, target_id, mailbox, transport, state, attempts,
                      next_attempt_at, idempotency_key, created_at, sent_at)
SELECT :update_id, 'subscriber', g, 'bench:' || (g / 500), 'email',
       CASE WHEN g % 100 < 95 THEN 'sent' WHEN g % 100 < 98 THEN 'pending' ELSE 'dead' END,
       1, now() - make_interval(secs => g % 86400), md5(g::text),
       now() - make_interval(secs => g % 86400),
       CASE WHEN g % 100 < 95
            THEN now() - make_interval(secs => g % 86400) + make_interval(secs => g % 90)
       END
FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS g
"""
SEED_ITEMS = """
INSERT INTO inbox_item (kind, channel_id, source, external_id, text, posted_at, received_at,
                        state, first_response_at, updated_at)
SELECT CASE WHEN g % 3 = 0 THEN 'report' ELSE 'x' END, CASE WHEN g % 3 = 0 THEN NULL ELSE 1 END,
       'mentions', 'bench-' || g, 'login fails', now() - make_interval(secs => g),
       now() - make_interval(secs => g), 'answered',
       now() - make_interval(secs => g) + make_interval(secs => 60 + g % 7200), now()
FROM generate_series(CAST(:start AS integer), CAST(:stop AS integer)) AS g
"""


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=20)
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(cuts[18] * 1000, 2),
    }


def timed(client, path: str, requests: int, **kwargs) -> list[float]:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path, **kwargs)
        samples.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    name = f"statuspage_bench_metrics_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    data_dir = tempfile.mkdtemp(prefix="statuspage-bench-")
    os.environ.update(
        STATUSPAGE_DATABASE_URL=f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
        STATUSPAGE_SECRET_KEY="bench",
        STATUSPAGE_DATA_DIR=data_dir,
        STATUSPAGE_BROKER_URL="memory://",
        STATUSPAGE_METRICS_TOKEN=TOKEN,
    )
    from flask_migrate import upgrade

    from statuspage import create_app
    from statuspage.demo import seed_demo_components
    from statuspage.extensions import db
    from statuspage.incidents import service

    app = create_app()
    results = []
    try:
        with app.app_context():
            upgrade(revision="heads")
            seed_demo_components()
            incident = service.open_incident(
                actor=None, name="Bench", impact="minor", body="Bench.", notify=False
            )
            update_id = incident.updates[0].id
            client = app.test_client()
            auth = {"Authorization": f"Bearer {TOKEN}"}
            seeded = 0
            print(
                f"{'deliveries':>11} {'items':>7}  {'catch-up ms':>11}  {'scrape p50/p95 ms':>18}  "
                f"{'baseline p50 ms':>15}  ratio"
            )
            for size in sizes:
                items = size // 100
                db.session.execute(
                    text(SEED_DELIVERIES),
                    {"update_id": update_id, "start": seeded + 1, "stop": size},
                )
                db.session.execute(text(SEED_ITEMS), {"start": seeded // 100 + 1, "stop": items})
                db.session.commit()
                db.session.execute(text("DELETE FROM metric_rollup"))
                db.session.execute(text("ANALYZE"))
                db.session.commit()
                seeded = size
                catch_up = timed(client, "/metrics", 1, headers=auth)[0]
                timed(client, "/metrics", 2, headers=auth)  # warm the caches
                scrape = timed(client, "/metrics", args.requests, headers=auth)
                baseline = timed(client, "/report", args.requests)
                row = {
                    "deliveries": size,
                    "inbox_items": items,
                    "catch_up_ms": round(catch_up * 1000, 1),
                    "scrape": percentiles(scrape),
                    "baseline": percentiles(baseline),
                }
                row["ratio"] = round(row["scrape"]["p50_ms"] / row["baseline"]["p50_ms"], 1)
                results.append(row)
                print(
                    f"{size:>11,} {items:>7,}  {row['catch_up_ms']:>11}  "
                    f"{row['scrape']['p50_ms']:>8} / {row['scrape']['p95_ms']:<8}  "
                    f"{row['baseline']['p50_ms']:>15}  {row['ratio']}×"
                )
            db.session.remove()
            db.engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(json.dumps({"metrics_scrape": results}))


if __name__ == "__main__":
    main()
