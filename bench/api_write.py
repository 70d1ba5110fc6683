"""Write API latency on the production stack: gunicorn (2 workers x 4 threads) on a fresh
PostgreSQL database, Redis as the broker (no worker: the outbox rows wait, as they would
for a moment in production). Each operation runs sequentially from one client:

- baseline: ``GET components`` (token auth, one query, JSON), side by side in the same run;
- ``POST incidents`` with two affected components (incident, update, component changes,
  audit event and outbox rows in one transaction, doorbell after commit);
- ``PATCH incidents/<id>`` posting an update;
- ``PATCH .../incident_updates/<id>`` correcting text (revision + publish request).

Prints p50/p95/p99 in milliseconds and each write's p50 as a ratio of the baseline's.
Last line: one JSON object.

    python bench/api_write.py [--requests 300]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402

from tests.conftest import free_port  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def percentiles(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100)
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 2),
        "p95_ms": round(cuts[94] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
    }


def timed(session: requests.Session, method: str, url: str, expect: int, **kwargs) -> float:
    start = time.perf_counter()
    response = session.request(method, url, timeout=30, **kwargs)
    elapsed = time.perf_counter() - start
    if response.status_code != expect:
        raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:300]}")
    return elapsed


def prepare(env: dict[str, str]) -> tuple[str, str, list[str]]:
    """Migrate, seed components and an admin token in the benchmark's database."""
    script = (
        "from flask_migrate import upgrade\n"
        "from statuspage import accounts, create_app\n"
        "from statuspage.demo import seed_demo_components\n"
        "from statuspage.extensions import db\n"
        "from statuspage.models import Component, Page\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade(revision='heads')\n"
        "    seed_demo_components()\n"
        "    user = accounts.create_user('bench@example.com', 'benchmark password', 'admin')\n"
        "    print(accounts.create_token(user, 'bench'))\n"
        "    print(Page.get().id)\n"
        "    print(' '.join(c.id for c in db.session.scalars(db.select(Component))))\n"
        "    db.session.commit()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    return out[0], out[1], out[2].split()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    name = f"statuspage_bench_{uuid.uuid4().hex[:8]}"
    queue = f"statuspage-bench-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="statuspage-bench-"))
    env = dict(
        os.environ,
        STATUSPAGE_DATABASE_URL=f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
        STATUSPAGE_BROKER_URL=REDIS_URL,
        STATUSPAGE_CELERY_QUEUE=queue,
        STATUSPAGE_SECRET_KEY="bench-secret",
        STATUSPAGE_DATA_DIR=str(data_dir),
        STATUSPAGE_BASE_URL=f"http://127.0.0.1:{port}",
    )
    server = None
    try:
        token, page_id, component_ids = prepare(env)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--log-level",
                "warning",
                "statuspage.wsgi:app",
            ],
            env=env,
            cwd=ROOT,
        )
        base = f"http://127.0.0.1:{port}/api/v1/pages/{page_id}"
        session = requests.Session()
        session.headers["Authorization"] = f"OAuth {token}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if session.get(f"{base}/components", timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        for _ in range(20):  # warm connections and caches in both workers
            session.get(f"{base}/components", timeout=5)

        samples: dict[str, list[float]] = {
            "read_components": [],
            "open_incident": [],
            "post_update": [],
            "edit_update": [],
        }
        a, b = component_ids[0], component_ids[1]
        for i in range(args.requests):
            samples["read_components"].append(timed(session, "GET", f"{base}/components", 200))
            start = time.perf_counter()
            created = session.post(
                f"{base}/incidents",
                timeout=30,
                json={
                    "incident": {
                        "name": f"Incident {i}",
                        "status": "investigating",
                        "body": "Investigating.",
                        "components": {a: "major_outage", b: "partial_outage"},
                        "component_ids": [a, b],
                    }
                },
            )
            samples["open_incident"].append(time.perf_counter() - start)
            if created.status_code != 201:
                raise SystemExit(f"POST incidents: {created.status_code} {created.text[:300]}")
            incident = created.json()
            samples["post_update"].append(
                timed(
                    session,
                    "PATCH",
                    f"{base}/incidents/{incident['id']}",
                    200,
                    json={"incident": {"status": "identified", "body": "Found it."}},
                )
            )
            update_id = incident["incident_updates"][0]["id"]
            samples["edit_update"].append(
                timed(
                    session,
                    "PATCH",
                    f"{base}/incidents/{incident['id']}/incident_updates/{update_id}",
                    200,
                    json={"incident_update": {"body": "Investigating (corrected)."}},
                )
            )
        figures = {op: percentiles(values) for op, values in samples.items()}
        baseline = figures["read_components"]["p50_ms"]
        for op, fig in figures.items():
            fig["p50_vs_baseline"] = round(fig["p50_ms"] / baseline, 2)
            print(
                f"{op:16} p50 {fig['p50_ms']:7.2f} ms  p95 {fig['p95_ms']:7.2f} ms  "
                f"p99 {fig['p99_ms']:7.2f} ms  x{fig['p50_vs_baseline']} of baseline"
            )
        print(json.dumps({"requests": args.requests, "baseline": "read_components", **figures}))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        redis.Redis.from_url(REDIS_URL).delete(queue)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
