"""Alerts in, drafts out: from an Alertmanager POST to the draft stored (the request's
answer, after its commit) and to the operator alert arriving at a fake Slack.

Runs the production stack on 127.0.0.1: a fresh PostgreSQL database, Redis as the broker,
gunicorn (2 workers x 4 threads) for the intake, one ``celery worker`` (4 threads) and
beat, and the loopback Slack of the tests taking operator alerts. Each alert is its own
Alertmanager version 4 notification for its own service, so each opens a new draft (one
rule per service). Alerts are posted one after another at a steady rate. Side by side in
the same run, a baseline: the same authenticated POST with an empty alert list, which
stores nothing. Target: p99 under 1 s from POST to operator alert delivered.
Last line: one JSON object.

    python bench/alerts.py [--alerts 300] [--rate 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402

from bench.fanout import percentile, wait  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DRAFT_LINK = re.compile(r"/admin/drafts/([0-9a-z]{12})")


def prepare(env: dict[str, str], services: int, slack_url: str) -> str:
    """Migrate, seed components, an operator-alert Slack channel, an Alertmanager
    integration with one draft rule per service; print the integration's secret."""
    script = f"""
from flask_migrate import upgrade
from statuspage import create_app
from statuspage.demo import seed_demo_components
from statuspage.extensions import db
from statuspage.integrations import registry
from statuspage.models import Channel, ChannelKind, Component
app = create_app()
with app.app_context():
    upgrade(revision="heads")
    seed_demo_components()
    slack = Channel(kind=ChannelKind.SLACK, name="ops", config={{}}, announce_updates=False,
                    operator_alerts=True)
    slack.secrets = {{"webhook_url": {slack_url!r}}}
    db.session.add(slack)
    db.session.commit()
    component = db.session.scalars(db.select(Component.id)).first()
    integration, secret = registry.create(actor=None, kind="alertmanager", name="bench")
    for n in range({services}):
        registry.save_rule(actor=None, integration_id=integration.id, fields={{
            "name": f"svc-{{n}}", "matchers": f'service="svc-{{n}}"', "mode": "draft",
            "component_status": "partial_outage", "impact": "minor",
            "component_ids": [component]}})
    print(secret)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr)
    return result.stdout.strip().splitlines()[-1]


def notification(n: int, starts: str) -> bytes:
    """One firing alert in Alertmanager's webhook payload version 4."""
    labels = {"alertname": "HighErrorRate", "service": f"svc-{n}", "severity": "critical"}
    return json.dumps(
        {
            "receiver": "statuspage",
            "status": "firing",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {"summary": f"svc-{n} answers 5xx"},
                    "startsAt": starts,
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                    "fingerprint": f"{n:016x}",
                }
            ],
            "groupLabels": {"alertname": "HighErrorRate", "service": f"svc-{n}"},
            "commonLabels": labels,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "version": "4",
            "groupKey": f'{{}}:{{alertname="HighErrorRate", service="svc-{n}"}}',
            "truncatedAlerts": 0,
        }
    ).encode()


def figures(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values) * 1000, 1),
    }


def main() -> None:  # noqa: C901  (one linear script)
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--rate", type=float, default=5.0, help="alerts per second")
    args = parser.parse_args()

    slack = FakeSlack().start()
    name = f"statuspage_bench_{uuid.uuid4().hex[:8]}"
    queue = f"statuspage-bench-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="statuspage-bench-alerts-"))
    env = dict(
        os.environ,
        STATUSPAGE_DATABASE_URL=f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}",
        STATUSPAGE_BROKER_URL=REDIS_URL,
        STATUSPAGE_CELERY_QUEUE=queue,
        STATUSPAGE_SECRET_KEY="bench-secret",
        STATUSPAGE_DATA_DIR=str(data_dir),
        STATUSPAGE_BASE_URL=f"http://127.0.0.1:{port}",
        STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS="1",
        STATUSPAGE_SWEEP_SECONDS="1",
        STATUSPAGE_INTEGRATION_RATE_LIMIT="100000 per minute",
    )
    processes: list[subprocess.Popen[bytes]] = []
    try:
        secret = prepare(env, args.alerts, slack.hook_url)
        celery = [sys.executable, "-m", "celery", "-A", "workers.celery_app"]
        processes.append(
            subprocess.Popen(
                [
                    *celery,
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    "4",
                    "--without-gossip",
                    "--without-mingle",
                    "--loglevel",
                    "ERROR",
                    "--hostname",
                    f"alerts-{uuid.uuid4().hex[:6]}@%h",
                ],
                env=env,
                cwd=ROOT,
            )
        )
        processes.append(
            subprocess.Popen(
                [*celery, "beat", "--loglevel", "ERROR", "--schedule", str(data_dir / "beat")],
                env=env,
                cwd=ROOT,
            )
        )
        processes.append(
            subprocess.Popen(
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
        )
        url = f"http://127.0.0.1:{port}/integrations"
        session = requests.Session()
        session.headers.update(
            {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        )
        empty = json.dumps({"version": "4", "status": "firing", "alerts": []}).encode()

        def up() -> bool:
            try:
                return session.post(url, data=empty, timeout=5).status_code == 202
            except requests.RequestException:
                return False

        if not wait(up, 30, 0.2):
            raise SystemExit("gunicorn did not start")
        for _ in range(20):  # warm both web workers
            session.post(url, data=empty, timeout=5)
        time.sleep(3)  # let the worker connect to the broker

        baseline: list[float] = []
        stored: list[float] = []
        sent_at: dict[str, float] = {}
        starts = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        interval = 1.0 / args.rate
        next_at = time.monotonic()
        for n in range(args.alerts):
            next_at += interval
            began = time.perf_counter()
            response = session.post(url, data=empty, timeout=10)
            baseline.append(time.perf_counter() - began)
            assert response.status_code == 202, response.text
            posted = time.time()
            began = time.perf_counter()
            response = session.post(url, data=notification(n, starts), timeout=10)
            stored.append(time.perf_counter() - began)
            assert response.status_code == 202, response.text
            (draft_id,) = response.json()["drafts"]
            sent_at[draft_id] = posted
            time.sleep(max(0.0, next_at - time.monotonic()))

        def arrivals() -> dict[str, float]:
            found: dict[str, float] = {}
            for request in slack.received("POST"):
                match = DRAFT_LINK.search(request.body.decode())
                if match:
                    found.setdefault(match.group(1), request.at)
            return found

        wait(lambda: len(arrivals()) >= len(sent_at), 60, 0.2)
        arrived = arrivals()
        delivered = [arrived[d] - t for d, t in sent_at.items() if d in arrived]
        result = {
            "alerts": args.alerts,
            "rate_per_s": args.rate,
            "baseline_empty_post": figures(baseline),
            "draft_stored": figures(stored),
            "operator_alert_delivered": figures(delivered),
            "delivered": len(delivered),
            "target_p99_ms": 1000,
        }
        for key in ("baseline_empty_post", "draft_stored", "operator_alert_delivered"):
            fig = result[key]
            print(f"{key:26} p50 {fig['p50_ms']:7.1f} ms  p99 {fig['p99_ms']:7.1f} ms")
        print(f"operator alerts delivered: {len(delivered)} of {args.alerts}")
        print(json.dumps(result))
    finally:
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        slack.stop()
        redis.Redis.from_url(REDIS_URL).delete(queue)
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
