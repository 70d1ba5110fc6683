"""Fan-out speed on the real stack: commit-to-arrival latency per channel, and the time
and memory to notify 100,000 email and 10,000 webhook subscribers.

Runs PostgreSQL (a fresh database), Redis as the broker, two ``celery worker`` processes
and the loopback fakes of X, Mastodon, Slack, a webhook receiver and an SMTP server
(``smtp_sink.py``), all on 127.0.0.1. Phase one posts updates at a steady rate and
measures, for each update and channel, the time from the operator's commit to the request
arriving at the fake. Phase two bulk-loads the subscribers and posts one update. Side by
side, a baseline in the same run: a bare smtplib loop and a bare requests loop against the
same fakes, the ceiling the fan-out is compared to; the smtplib loop sends as many messages
as the fan-out, half just before it and half just after, so a change in the shared
machine's load falls on both sides; the volume phase runs ``--rounds`` times, one update
each, and the figures are the medians, with the load average at each round's start and
end. Targets: p99 < 2 s per channel;
100,000 emails < 60 s with flat worker memory. Last line: one JSON object.

    python bench/fanout.py [--updates 200] [--rate 2] [--emails 100000] [--webhooks 10000]
                           [--rounds 3] [--no-pipelining]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import redis  # noqa: E402
import requests  # noqa: E402

from bench.smtp_sink import SMTPSink  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.fakes.mastodon import TOKEN, FakeMastodon  # noqa: E402
from tests.fakes.server import FakeServer, Recorded, Reply  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.fakes.x import KEYS, FakeX  # noqa: E402

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
UPDATE_ID = re.compile(rb"#update-([0-9a-z]{12})")
WORKERS, THREADS = 2, 4
SAMPLE_MAIL = (
    b"From: status@example.com\r\nTo: base@example.net\r\nSubject: baseline\r\n\r\n"
    + b"An incident update of typical length.\r\n" * 30
)
SMTP_PROCESSES = 2


class Receiver(FakeServer):
    """Counts webhook arrivals (and their update ids) without keeping bodies."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[str, float] = {}
        self.subscriber_count = 0
        self.subscriber_last = 0.0

    def route(self, request: Recorded) -> Reply:
        if request.path.startswith("/s/"):
            with self.lock:
                self.subscriber_count += 1
                self.subscriber_last = request.at
        else:
            match = UPDATE_ID.search(request.body)
            if match:
                self.arrivals.setdefault(match.group(1).decode(), request.at)
        return Reply(204)

    def _dispatch(self, request: Recorded) -> Reply:  # keep no request log: 10,000 bodies
        return self.route(request)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def round_line(figures: dict[str, Any]) -> str:
    return (
        f"{figures['emails_s']:.1f} s ({figures['emails_per_s']:.0f}/s; bare smtplib "
        f"{figures['base_per_s']:.0f}/s, {figures['base_before_s']:.1f} s before and "
        f"{figures['base_after_s']:.1f} s after; ratio {figures['ratio']:.2f}; worker CPU "
        f"{figures['worker_cpu_ms']:.2f} ms per notice; load average "
        f"{figures['load_before']:.1f} to {figures['load_after']:.1f})"
    )


def backend_cpu(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving ``database``."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        pids = [
            row[0]
            for row in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
            )
        ]
    found = {}
    for pid in pids:
        try:
            found[pid] = cpu_s(pid)
        except OSError:  # the backend ended meanwhile
            pass
    return found


def used_since(before: dict[int, float], after: Iterable[tuple[int, float]]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after)


def start_workers(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    """Two workers and beat (whose sweep retries what failed), as in production."""
    celery = [sys.executable, "-m", "celery", "-A", "workers.celery_app"]
    beat = subprocess.Popen(
        [
            *celery,
            "beat",
            "--loglevel",
            "ERROR",
            "--schedule",
            env["STATUSPAGE_DATA_DIR"] + "/beat",
        ],
        env=dict(os.environ, **env),
        cwd=ROOT,
    )
    command = [*celery, "worker"]
    command += ["--pool", "threads", "--concurrency", str(THREADS), "--without-gossip"]
    command += ["--without-mingle", "--loglevel", "ERROR"]
    return [
        subprocess.Popen(
            [*command, "--hostname", f"bench{n}-{uuid.uuid4().hex[:6]}@%h"],
            env=dict(os.environ, **env),
            cwd=ROOT,
        )
        for n in range(WORKERS)
    ] + [beat]


def wait(predicate, timeout: float, interval: float = 0.05) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def baseline_smtp(port: int, messages: int, data: bytes) -> float:
    """Seconds two bare smtplib loops on one connection each take for ``messages``."""

    def loop(count: int) -> None:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            for n in range(count):
                smtp.sendmail("status@example.com", [f"base{n}@example.net"], data)

    started = time.perf_counter()
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(loop, [messages // WORKERS] * WORKERS))
    return time.perf_counter() - started


def baseline_http(url: str, count: int) -> float:
    """Webhooks per second of a bare requests loop with the fan-out's parallelism."""
    body = json.dumps({"type": "baseline", "text": "x" * 600}).encode()
    with requests.Session() as session:
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=32)
        session.mount("http://", adapter)
        started = time.perf_counter()
        with ThreadPoolExecutor(WORKERS * 16) as pool:
            list(
                pool.map(
                    lambda n: session.post(f"{url}/s/base{n}", data=body).close(), range(count)
                )
            )
    return count / (time.perf_counter() - started)


def main() -> None:  # noqa: C901  (one linear script)
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--rate", type=float, default=2.0, help="updates per second")
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--webhooks", type=int, default=10_000)
    parser.add_argument(
        "--rounds", type=int, default=3, help="volume rounds, each between two baseline halves"
    )
    parser.add_argument(
        "--no-pipelining",
        action="store_true",
        help="the SMTP sink does not announce PIPELINING (smtplib never uses it)",
    )
    args = parser.parse_args()

    fakes = {
        "x": FakeX().start(),
        "mastodon": FakeMastodon().start(),
        "slack": FakeSlack().start(),
        "webhook": Receiver().start(),
    }
    smtp = SMTPSink(free_port(), SMTP_PROCESSES, pipelining=not args.no_pipelining)

    name = f"statuspage_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    data_dir = Path(tempfile.mkdtemp(prefix="statuspage-fanout-"))
    queue = f"statuspage-bench-{uuid.uuid4().hex[:8]}"
    env = {
        "STATUSPAGE_DATABASE_URL": PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name,
        "STATUSPAGE_BROKER_URL": REDIS_URL,
        "STATUSPAGE_CELERY_QUEUE": queue,
        "STATUSPAGE_SECRET_KEY": "bench-secret-key",
        "STATUSPAGE_BASE_URL": "http://status.bench",
        "STATUSPAGE_DATA_DIR": str(data_dir),
        "STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS": "1",
        "STATUSPAGE_X_API_URL": fakes["x"].url,
        "STATUSPAGE_SWEEP_SECONDS": "1",
    }
    os.environ.update(env)
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from statuspage import create_app
    from statuspage.demo import seed_demo_components
    from statuspage.extensions import db
    from statuspage.incidents import service
    from statuspage.lib.crypto import encrypt_json
    from statuspage.models import Channel, ChannelKind, Component, Delivery

    app = create_app()
    workers: list[subprocess.Popen[bytes]] = []
    try:
        with app.app_context():
            upgrade(revision="heads")
            seed_demo_components()
            component_ids = list(db.session.scalars(select(Component.id)))

            def channel(kind: ChannelKind, config: dict, secrets: dict) -> None:
                row = Channel(kind=kind, name=str(kind), config=config)
                row.secrets = secrets
                db.session.add(row)

            channel(ChannelKind.X, {}, dict(KEYS))
            channel(
                ChannelKind.MASTODON,
                {"base_url": fakes["mastodon"].url, "visibility": "public"},
                {"access_token": TOKEN},
            )
            channel(ChannelKind.SLACK, {}, {"webhook_url": fakes["slack"].hook_url})
            channel(
                ChannelKind.WEBHOOK,
                {"url": fakes["webhook"].url + "/ops"},
                {"signing_secret": "whsec_bench"},
            )
            channel(
                ChannelKind.EMAIL_SMTP,
                {
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "security": "none",
                    "from_address": "status@example.com",
                },
                {},
            )
            db.session.execute(
                text(
                    "INSERT INTO subscriber (kind, address, created_at, confirmed_at, link_nonce) "
                    "VALUES ('email', 'latency@example.net', now(), now(), 'n0')"
                )
            )
            db.session.commit()

            workers = start_workers(env)
            time.sleep(4)  # let both workers connect to the broker

            # Phase one: commit-to-arrival latency.
            commits: dict[str, float] = {}
            incidents: list[str] = []
            interval = 1.0 / args.rate
            next_at = time.monotonic()
            for n in range(args.updates):
                next_at += interval
                component = {component_ids[n % len(component_ids)]: "degraded_performance"}
                if n % 10 == 0:
                    incident = service.open_incident(
                        actor=None,
                        name=f"Bench {n // 10}",
                        impact="minor",
                        body=f"Update {n}",
                        components=component,
                    )
                    incidents.append(incident.id)
                    update_id = incident.updates[0].id
                else:
                    update_id = service.post_update(
                        actor=None,
                        incident_id=incidents[-1],
                        status="identified",
                        body=f"Update {n}",
                        components=component,
                    ).id
                commits[update_id] = time.time()
                db.session.remove()
                time.sleep(max(0.0, next_at - time.monotonic()))

            def arrived() -> dict[str, dict[str, float]]:
                by_text = {}
                for channel_name in ("x", "mastodon", "slack"):
                    seen: dict[str, float] = {}
                    for request in fakes[channel_name].received("POST"):
                        match = UPDATE_ID.search(request.body.replace(b"%23", b"#"))
                        if match:
                            seen.setdefault(match.group(1).decode(), request.at)
                    by_text[channel_name] = seen
                by_text["webhook"] = dict(fakes["webhook"].arrivals)
                by_text["email"] = dict(smtp.drain())
                return by_text

            complete = wait(
                lambda: all(len(v) >= len(commits) for v in arrived().values()),
                timeout=120,
                interval=0.5,
            )
            seen = arrived()
            latency: dict[str, dict[str, float]] = {}
            for channel_name, arrivals in seen.items():
                values = [arrivals[u] - at for u, at in commits.items() if u in arrivals]
                latency[channel_name] = {
                    "n": len(values),
                    "p50_s": round(percentile(values, 0.5), 3) if values else None,
                    "p99_s": round(percentile(values, 0.99), 3) if values else None,
                }
            page = [
                (d.sent_at.timestamp() - commits[d.update_id])
                for d in db.session.scalars(select(Delivery).where(Delivery.transport == "page"))
                if d.sent_at is not None and d.update_id in commits
            ]
            latency["page"] = {
                "n": len(page),
                "p50_s": round(percentile(page, 0.5), 3) if page else None,
                "p99_s": round(percentile(page, 0.99), 3) if page else None,
            }
            db.session.remove()

            # Warm-up: every worker thread has loaded the app and sent mail before the rounds.
            for n in range(WORKERS * THREADS):
                sent_before = smtp.count.value
                service.open_incident(
                    actor=None,
                    name=f"Warm-up {n}",
                    impact="minor",
                    body="Warming up.",
                    components={component_ids[0]: "degraded_performance"},
                )
                db.session.remove()
                wait(lambda: smtp.count.value > sent_before, timeout=60)  # noqa: B023

            # Phase two: 100,000 emails and 10,000 webhooks per update, in rounds.
            loaded = time.perf_counter()
            db.session.execute(
                text(
                    "INSERT INTO subscriber (kind, address, created_at, confirmed_at, link_nonce) "
                    "SELECT 'email', 'reader' || g || '@example.net', now(), now(), md5(g::text) "
                    "FROM generate_series(1, :n) AS g"
                ),
                {"n": args.emails},
            )
            secret = encrypt_json({"secret": "whsec_subscriber"})
            db.session.execute(
                text(
                    "INSERT INTO subscriber "
                    "(kind, address, created_at, confirmed_at, link_nonce, secret_encrypted) "
                    "SELECT 'webhook', :base || '/s/' || g, now(), now(), md5(g::text), :secret "
                    "FROM generate_series(1, :n) AS g"
                ),
                {"n": args.webhooks, "base": fakes["webhook"].url, "secret": secret},
            )
            db.session.commit()
            load_s = time.perf_counter() - loaded
            db.session.remove()

            def volume_round(n: int) -> dict[str, Any]:
                """Baseline half, one update to every subscriber, baseline other half."""
                load_before = os.getloadavg()[0]
                client_cpu = time.process_time()
                sink_cpu = sum(cpu_s(p.pid) for p in smtp.processes)
                base_before_s = baseline_smtp(smtp.port, args.emails // 2, SAMPLE_MAIL)
                base_cpu = time.process_time() - client_cpu
                base_sink_cpu = sum(cpu_s(p.pid) for p in smtp.processes) - sink_cpu
                cpu_before = sum(cpu_s(w.pid) for w in workers[:WORKERS])
                sink_cpu = sum(cpu_s(p.pid) for p in smtp.processes)
                pg_cpu = backend_cpu(name)
                emails_before = smtp.count.value
                webhooks_before = fakes["webhook"].subscriber_count
                started_commit = time.perf_counter()
                service.open_incident(
                    actor=None,
                    name=f"Everyone {n}",
                    impact="major",
                    body="A big one.",
                    components={component_ids[0]: "major_outage"},
                )
                committed = time.time()
                commit_s = time.perf_counter() - started_commit
                db.session.remove()
                done = wait(
                    lambda: (
                        smtp.count.value >= emails_before + args.emails + 1
                        and fakes["webhook"].subscriber_count >= webhooks_before + args.webhooks
                    ),
                    timeout=600,
                    interval=0.2,
                )
                emails_s = smtp.last.value - committed
                webhooks_s = fakes["webhook"].subscriber_last - committed if args.webhooks else 0.0
                worker_cpu = sum(cpu_s(w.pid) for w in workers[:WORKERS]) - cpu_before
                fanout_sink_cpu = sum(cpu_s(p.pid) for p in smtp.processes) - sink_cpu
                pg_used = used_since(pg_cpu, backend_cpu(name).items())
                client_cpu = time.process_time()
                sink_cpu = sum(cpu_s(p.pid) for p in smtp.processes)
                base_after_s = baseline_smtp(smtp.port, args.emails - args.emails // 2, SAMPLE_MAIL)
                base_cpu += time.process_time() - client_cpu
                base_sink_cpu += sum(cpu_s(p.pid) for p in smtp.processes) - sink_cpu
                base_per_s = args.emails / (base_before_s + base_after_s)
                per_s = args.emails / emails_s if emails_s > 0 else 0.0
                notices = args.emails + args.webhooks
                return {
                    "load_before": load_before,
                    "load_after": os.getloadavg()[0],
                    "commit_s": commit_s,
                    "emails_s": emails_s,
                    "emails_per_s": per_s,
                    "base_before_s": base_before_s,
                    "base_after_s": base_after_s,
                    "base_per_s": base_per_s,
                    "ratio": per_s / base_per_s,
                    "webhooks_s": webhooks_s,
                    "webhooks_per_s": args.webhooks / webhooks_s if webhooks_s > 0 else 0.0,
                    "worker_cpu_ms": 1000 * worker_cpu / notices,
                    "postgres_cpu_ms": 1000 * pg_used / notices,
                    "sink_cpu_ms": 1000 * fanout_sink_cpu / args.emails,
                    "base_client_cpu_ms": 1000 * base_cpu / args.emails,
                    "base_sink_cpu_ms": 1000 * base_sink_cpu / args.emails,
                    "done": done,
                }

            smtp.record.value = 0  # the sink only counts from here on
            rss_before = [rss_mb(w.pid) for w in workers[:WORKERS]]
            rounds = []
            for n in range(args.rounds):
                rounds.append(volume_round(n))
                print(f"  round {n + 1}: {round_line(rounds[-1])}", flush=True)
            rss_peak = [rss_mb(w.pid, "VmHWM") for w in workers[:WORKERS]]
            states = dict(
                db.session.execute(
                    select(Delivery.state, text("count(*)")).group_by(Delivery.state)
                ).all()
            )
            db.session.remove()
        base_webhooks_per_s = baseline_http(fakes["webhook"].url, 2_000)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        for fake in fakes.values():
            fake.stop()
        smtp.stop()
        with app.app_context():
            db.engine.dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        redis.Redis.from_url(REDIS_URL).delete(queue)

    mid = {key: median(r[key] for r in rounds) for key in rounds[0] if key != "done"}
    done = all(r["done"] for r in rounds)
    print(f"latency phase: {args.updates} updates at {args.rate}/s, complete={complete}")
    for channel_name, figures in sorted(latency.items()):
        print(
            f"  {channel_name:9} n={figures['n']:4}  "
            f"p50 {figures['p50_s']} s  p99 {figures['p99_s']} s"
        )
    print(
        f"volume phase, median of {len(rounds)} rounds (each: bare smtplib, the fan-out, "
        f"bare smtplib; the sink {'does not announce' if args.no_pipelining else 'announces'} "
        f"PIPELINING): {round_line(mid)}; "
        f"{args.webhooks} webhooks {mid['webhooks_per_s']:.0f}/s (bare requests "
        f"{base_webhooks_per_s:.0f}/s, ratio {mid['webhooks_per_s'] / base_webhooks_per_s:.2f}); "
        f"done={done}"
    )
    print(
        f"  CPU per email, fan-out: workers {mid['worker_cpu_ms']:.3f} ms, PostgreSQL "
        f"{mid['postgres_cpu_ms']:.3f} ms, sink {mid['sink_cpu_ms']:.3f} ms; bare smtplib: "
        f"client {mid['base_client_cpu_ms']:.3f} ms, sink {mid['base_sink_cpu_ms']:.3f} ms"
    )
    print(
        f"  operator commit with {args.emails + args.webhooks} subscriber rows: "
        f"{mid['commit_s']:.2f} s; subscribers loaded in {load_s:.1f} s; worker RSS before "
        f"{rss_before} MB, peak {rss_peak} MB"
    )
    print(f"  delivery states: {states}")
    result = {
        "benchmark": "fanout",
        "workers": WORKERS,
        "threads_per_worker": THREADS,
        "updates": args.updates,
        "rate_per_s": args.rate,
        **{f"{k}_p50_s": v["p50_s"] for k, v in latency.items()},
        **{f"{k}_p99_s": v["p99_s"] for k, v in latency.items()},
        "emails": args.emails,
        "sink_pipelining": not args.no_pipelining,
        "webhooks": args.webhooks,
        "rounds": [{k: round(v, 3) for k, v in r.items()} for r in rounds],
        "emails_s": round(mid["emails_s"], 2),
        "webhooks_s": round(mid["webhooks_s"], 2),
        "commit_s": round(mid["commit_s"], 3),
        "worker_cpu_ms_per_notice": round(mid["worker_cpu_ms"], 3),
        "postgres_cpu_ms_per_notice": round(mid["postgres_cpu_ms"], 3),
        "smtp_server_cpu_ms_per_email": round(mid["sink_cpu_ms"], 3),
        "baseline_client_cpu_ms_per_email": round(mid["base_client_cpu_ms"], 3),
        "peak_rss_mb": round(max(rss_peak), 1),
        "rss_before_mb": round(max(rss_before), 1),
        "load_average_1m": [round(mid["load_before"], 2), round(mid["load_after"], 2)],
        "baseline_smtplib_emails_per_s": round(mid["base_per_s"]),
        "emails_per_s": round(mid["emails_per_s"]),
        "email_ratio_to_baseline": round(mid["ratio"], 3),
        "baseline_requests_webhooks_per_s": round(base_webhooks_per_s),
        "webhooks_per_s": round(mid["webhooks_per_s"]),
        "webhook_ratio_to_baseline": round(mid["webhooks_per_s"] / base_webhooks_per_s, 3),
        "all_delivered": bool(complete and done),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
