"""Enqueue-to-start latency of the embedded broker, beside the filesystem transport it replaced.

For each transport a real prefork ``celery worker`` (2 processes, as ``statuspage up``
runs it) consumes a task that records how long after its enqueue it started; 150 tasks
are sent at random intervals (50-250 ms), so the polling phase is sampled evenly. Each
transport polls as ``statuspage up`` configured it: the filesystem every 0.1 s, SQLite
every ``EMBEDDED_POLL_SECONDS``. Last line: one JSON object.

    python bench/broker_latency.py
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery

from statuspage.broker import EMBEDDED_POLL_SECONDS

TASKS = 150
POLLS = {"filesystem": 0.1, "sqlite": EMBEDDED_POLL_SECONDS}
HERE = Path(__file__).resolve().parent


def make_app(kind: str, folder: Path) -> Celery:
    """The bench's Celery app on ``kind`` ("filesystem" or "sqlite") under ``folder``."""
    app = Celery("broker_latency")
    if kind == "filesystem":
        for sub in ("queue", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        app.conf.broker_url = "filesystem://localhost//"
        app.conf.broker_transport_options = {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": POLLS[kind],
        }
    else:
        app.conf.broker_url = f"sqlite:///{folder / 'broker.sqlite'}"
        app.conf.broker_transport = "statuspage.broker:SQLiteTransport"
        app.conf.broker_transport_options = {"polling_interval": POLLS[kind]}
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        worker_enable_remote_control=False,
        worker_hijack_root_logger=False,
    )

    @app.task(name="stamp")
    def stamp(sent: float) -> None:
        started = time.time()
        with open(folder / "latencies", "a") as out:
            out.write(f"{started - sent}\n")

    return app


app = make_app(os.environ.get("BENCH_BROKER", "sqlite"), Path(os.environ.get("BENCH_DIR", "/")))


def measure(kind: str) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix=f"broker-{kind}-"))
    env = dict(os.environ, BENCH_BROKER=kind, BENCH_DIR=str(folder))
    local = make_app(kind, folder)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "broker_latency", "worker", "--concurrency", "2"]
        + ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "ERROR"],
        env=env,
        cwd=HERE,
    )
    try:
        local.send_task("stamp", args=[time.time()])  # the worker is up once this one ran
        deadline = time.monotonic() + 60
        while not (folder / "latencies").exists():
            if time.monotonic() > deadline:
                raise SystemExit(f"{kind}: the worker never started")
            time.sleep(0.1)
        (folder / "latencies").unlink()
        for _ in range(TASKS):
            time.sleep(random.uniform(0.05, 0.25))
            local.send_task("stamp", args=[time.time()])
        while len(_latencies(folder)) < TASKS and time.monotonic() < deadline + 60:
            time.sleep(0.1)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    found = sorted(_latencies(folder))
    return {
        "p50_ms": round(statistics.median(found) * 1000, 1),
        "p99_ms": round(found[int(len(found) * 0.99) - 1] * 1000, 1),
        "max_ms": round(found[-1] * 1000, 1),
        "tasks": len(found),
    }


def _latencies(folder: Path) -> list[float]:
    path = folder / "latencies"
    return [float(line) for line in path.read_text().split()] if path.exists() else []


def main() -> None:
    results = {kind: measure(kind) for kind in ("filesystem", "sqlite")}
    for kind, figures in results.items():
        print(
            f"{kind:10}  p50 {figures['p50_ms']:6.1f} ms  p99 {figures['p99_ms']:6.1f} ms  "
            f"max {figures['max_ms']:6.1f} ms  ({figures['tasks']} tasks)"
        )
    print(json.dumps({"benchmark": "broker_latency", "poll_s": POLLS, "results": results}))


if __name__ == "__main__":
    main()
