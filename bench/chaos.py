"""Chaos on the running system: does every update still reach every target, once and in
order, while processes die and far ends misbehave, and does the public site stay up?

Production (the default) runs the processes of ``docker-compose.yml`` (gunicorn web, two
``celery worker`` and ``celery beat``) on a PostgreSQL cluster and a Redis server of its
own, on free ports, with the loopback far ends of ``bench/chaos_fakes.py`` (X, Mastodon,
Slack, a webhook receiver with two webhook subscribers, SMTP with three email subscribers)
answering a share of requests with 429s (every reset header), 5xx, hangs, cut answers and
dropped connections. While operators post incidents and updates through the v1 write API
(a quarter of the updates through the admin's form) and a visitor polls ``/`` and
``/api/v2/summary.json``, it SIGKILLs worker processes (``--kills`` times, the main process
or a pool process), kills and restarts Redis twice and stops PostgreSQL with ``pg_ctl stop
-m immediate`` and starts it again twice; a supervisor restarts killed processes two
seconds later, as systemd's units do. Then the far ends answer normally again, it waits (at
most ``--drain`` seconds) for the outbox to finish and checks the ledger against what the
far ends recorded.

``--embedded`` runs ``statuspage up`` on a fresh data directory instead, SIGKILLs its
worker ``--kills`` times (found in the process tree of ``up``, which restarts it) and
plants an empty and a garbled message in its SQLite broker, while operators post and a
visitor polls; every committed update must then be on its published incident page.

Progress goes to stdout; the last line is one JSON object of the counts, durations and
parameters. Not part of CI.

    python bench/chaos.py [--duration 120] [--seed 1] [--workers 2] [--kills 20]
    python bench/chaos.py --embedded [--kills 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import requests  # noqa: E402

from bench import chaos_checks as checks  # noqa: E402
from bench.chaos_actors import Fleet, Operator, Poller, Unit, Writes, celery, say  # noqa: E402
from bench.chaos_fakes import (  # noqa: E402
    Storm,
    StormyMastodon,
    StormyReceiver,
    StormySlack,
    StormySMTP,
    StormyX,
    update_in,
)
from bench.fanout import wait  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.e2e.test_up import Running, launch  # noqa: E402
from tests.fakes.fixtures import RECEIVER_PATH, RECEIVER_SECRET, add_subscriber, connect  # noqa: E402
from tests.private_services import PrivatePostgres, PrivateRedis  # noqa: E402

HTTP_TIMEOUT = 2  # STATUSPAGE_HTTP_TIMEOUT; a hang lasts longer
SWEEP_SECONDS = 2
EMAIL_SUBSCRIBERS = 3
WEBHOOK_SUBSCRIBERS = 2
OPERATORS = 2
UPDATE_ANCHOR = re.compile(r'id="update-([0-9a-z]{12})"')
UNFINISHED = ("pending", "sending", "failed", "uncertain")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of chaos")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="celery worker processes")
    parser.add_argument("--kills", type=int, default=20, help="worker SIGKILLs")
    parser.add_argument("--rate", type=float, default=1.0, help="operator writes per second")
    parser.add_argument("--fault-rate", type=float, default=0.3, help="share of faulty answers")
    parser.add_argument("--drain", type=float, default=300.0, help="longest wait at the end")
    parser.add_argument("--embedded", action="store_true", help="run statuspage up instead")
    args = parser.parse_args()

    def interrupted(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    with ExitStack() as cleanup:
        result = embedded_run(args, cleanup) if args.embedded else production_run(args, cleanup)
    print(json.dumps(result))


# -- production ---------------------------------------------------------------------------


def production_run(args: argparse.Namespace, cleanup: ExitStack) -> dict[str, Any]:
    began = time.monotonic()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="statuspage-chaos-"))
    cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
    storm = Storm(args.seed, args.fault_rate, HTTP_TIMEOUT + 1.5, reset_seconds=4)
    fakes: dict[str, Any] = {
        "x": StormyX(storm),
        "mastodon": StormyMastodon(storm),
        "slack": StormySlack(storm),
        "receiver": StormyReceiver(storm),
        "smtp": StormySMTP(storm),
    }
    for fake in fakes.values():
        fake.start()
        cleanup.callback(fake.stop)

    (tmp / "redis").mkdir()
    (tmp / "logs").mkdir()
    cluster = Path(tempfile.mkdtemp(prefix="statuspage-chaos-pg-"))  # user postgres' own
    cleanup.callback(shutil.rmtree, cluster, ignore_errors=True)
    postgres = PrivatePostgres(cluster)
    postgres.init()
    postgres.start()
    cleanup.callback(postgres.stop, "immediate")
    broker = PrivateRedis(tmp / "redis")
    broker.start()
    cleanup.callback(broker.kill)
    say(f"PostgreSQL on port {postgres.port}, Redis on port {broker.port} (both private)")

    web_port = free_port()
    base = f"http://127.0.0.1:{web_port}"
    env = {
        "STATUSPAGE_DATABASE_URL": postgres.create_database("statuspage"),
        "STATUSPAGE_BROKER_URL": broker.url,
        "STATUSPAGE_SECRET_KEY": secrets.token_urlsafe(32),
        "STATUSPAGE_BASE_URL": base,
        "STATUSPAGE_DATA_DIR": str(tmp / "data"),
        "STATUSPAGE_PUBLISH_DIR": str(tmp / "data" / "public"),
        "STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS": "1",
        "STATUSPAGE_X_API_URL": fakes["x"].url,
        "STATUSPAGE_HTTP_TIMEOUT": str(HTTP_TIMEOUT),
        "STATUSPAGE_SWEEP_SECONDS": str(SWEEP_SECONDS),
    }
    setup = prepare(env, fakes)

    logs = tmp / "logs"
    web = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{web_port}"]
    web += ["--workers", "4", "--threads", "4", "--access-logfile", "-", "statuspage.wsgi:app"]
    units = [Unit("web", web, log=logs / "web.log")]
    units += [
        Unit(
            f"worker{n}",
            celery("worker", "--concurrency", "4", "--loglevel", "INFO", "-n", f"w{n}@%h"),
            log=logs / f"worker{n}.log",
        )
        for n in range(args.workers)
    ]
    beat = celery("beat", "--loglevel", "INFO", "--schedule", str(tmp / "celerybeat-schedule"))
    units.append(Unit("beat", beat, log=logs / "beat.log"))
    fleet = Fleet(units, dict(os.environ, **env))
    fleet.start_all()
    cleanup.callback(fleet.stop)
    if not wait(lambda: public_status(base) == 200, timeout=60, interval=0.5):
        raise SystemExit("the web server did not come up")
    say(f"web on {base}; {args.workers} workers and beat started")

    poller, writes, operators = start_crowd(
        cleanup,
        args,
        rng,
        base,
        setup["page_id"],
        setup["token"],
        setup["components"],
        login=setup["login"],
    )

    chaos = Chaos(args, rng, fleet, postgres, broker)
    chaos_began = time.monotonic()
    chaos.start()
    cleanup.callback(chaos.stopping.set)
    while chaos.is_alive():
        chaos.join(timeout=10)
        report(postgres, poller, writes, chaos)
    chaos_s = time.monotonic() - chaos_began
    stop_operators(operators)
    storm.calm_down()
    say(f"chaos over after {chaos_s:.0f}s; far ends answer normally; waiting for the outbox")

    drain_began = time.monotonic()
    drained = wait(lambda: drained_now(postgres, poller, writes, chaos), args.drain, interval=5)
    drain_s = time.monotonic() - drain_began
    say(f"outbox {'drained' if drained else 'NOT drained'} after {drain_s:.0f}s")

    ledger = read_ledger(postgres.url("statuspage"))
    published = published_updates(base, ledger.incidents)
    poller.stopping.set()
    poller.join(timeout=15)
    fleet.stop()
    unexpected = fleet.unexpected + chaos.unexpected_exits()
    for exit_ in unexpected:
        say(f"unexpected exit: {exit_}")
    return {
        "benchmark": "chaos",
        "mode": "production",
        **judge(ledger, published, fakes, storm),
        "unexpected_exits": len(unexpected),
        "public_non_200": len(poller.failures),
        "public_requests": poller.requests,
        "operator_writes": dict(writes.ok),
        "operator_write_failures": dict(writes.failed),
        "worker_kills": chaos.done["worker kill"],
        "redis_restarts": chaos.done["redis restart"],
        "postgres_restarts": chaos.done["postgres restart"],
        "drained": drained,
        "chaos_s": round(chaos_s, 1),
        "drain_s": round(drain_s, 1),
        "total_s": round(time.monotonic() - began, 1),
        "seed": args.seed,
        "workers": args.workers,
        "worker_concurrency": 4,
        "fault_rate": args.fault_rate,
        "http_timeout_s": HTTP_TIMEOUT,
        "sweep_s": SWEEP_SECONDS,
        "write_rate_per_s": args.rate,
    }


def judge(
    ledger: checks.Ledger, published: set[str], fakes: dict[str, Any], storm: Storm
) -> dict[str, Any]:
    """The run's counts: the ledger against what the far ends recorded."""
    exchanges = [e for fake in fakes.values() for e in list(fake.exchanges)]
    stormy = [e for e in exchanges if storm.calm_since is None or e.at < storm.calm_since]
    posts = {
        "x": [
            checks.Post(t["id"], t["in_reply_to"], update)
            for t in list(fakes["x"].tweets)
            if (update := update_in(t["text"].encode()))
        ],
        "mastodon": [
            checks.Post(s["id"], s["in_reply_to_id"], update)
            for s in list(fakes["mastodon"].statuses)
            if (update := update_in(s["content"].encode()))
        ],
    }
    found = checks.arrivals(exchanges, posts)
    delivered = checks.delivery_counts(ledger, found, published, RECEIVER_PATH)
    threads: Counter[str] = Counter()
    for thread in posts.values():
        threads.update(checks.thread_faults(thread, ledger))
    early = checks.early_retries(exchanges)
    for example in early[:5]:
        say(f"early retry: {example}")
    return {
        "lost": delivered.get("lost", 0) + delivered.get("updates_missing_rows", 0),
        **checks.duplicates(found, exchanges),
        "order_violations": threads["order_violations"],
        "forks": threads["forks"],
        "early_retries": len(early),
        "uncertain": delivered.get("uncertain", 0),
        "uncertain_read_back_failed": delivered.get("uncertain_read_back_failed", 0),
        "uncertain_posted": delivered.get("uncertain_posted", 0),
        "dead": delivered.get("state_dead", 0),
        "unfinished": ledger.unfinished - delivered.get("uncertain", 0),
        "operator_alerts": ledger.alerts,
        "incidents": len(ledger.incidents),
        "updates": len(ledger.updates),
        "deliveries": len(ledger.rows),
        "far_end_requests": len(exchanges),
        "far_end_requests_in_chaos": len(stormy),
        "faulty_answers_in_chaos": sum(1 for e in stormy if e.fault != "ok"),
        "x_read_backs": sum(
            1 for e in exchanges if e.far_end == "x" and e.method == "GET" and "/users/" in e.path
        ),
        "faults": checks.faults_seen(exchanges),
    }


def start_crowd(
    cleanup: ExitStack,
    args: argparse.Namespace,
    rng: random.Random,
    base: str,
    page_id: str,
    token: str,
    components: list[str],
    login: tuple[str, str] | None = None,
) -> tuple[Poller, Writes, list[Operator]]:
    """A visitor polling the public site and the operators, all started."""
    poller = Poller(base)
    poller.start()
    cleanup.callback(poller.stopping.set)
    writes = Writes()
    operators = [
        Operator(
            f"Operator {n + 1}",
            base,
            page_id,
            token,
            components,
            pause=OPERATORS / args.rate,
            rng=random.Random(rng.random()),
            writes=writes,
            login=login,
        )
        for n in range(OPERATORS)
    ]
    for operator in operators:
        operator.start()
        cleanup.callback(operator.stopping.set)
    return poller, writes, operators


def stop_operators(operators: list[Operator]) -> None:
    """Tell them to stop, and let a write under way finish."""
    for operator in operators:
        operator.stopping.set()
    for operator in operators:
        operator.join(timeout=60)


def prepare(env: dict[str, str], fakes: dict[str, Any]) -> dict[str, Any]:
    """Migrate the database and add demo components, a responder with a token, every
    channel (pointed at the fakes), the subscribers and a first published snapshot."""
    os.environ.update(env)
    from flask_migrate import upgrade

    from statuspage import accounts, create_app
    from statuspage.demo import seed_demo_components
    from statuspage.extensions import db
    from statuspage.models import Component, Page, SubscriberKind
    from statuspage.publishing.snapshot import publish

    app = create_app()
    email, password = "responder@example.com", secrets.token_urlsafe(18)
    with app.app_context():
        upgrade(revision="heads")
        seed_demo_components()
        user = accounts.create_user(email, password, "responder")
        token = accounts.create_token(user, "chaos")
        db.session.commit()
        connect(fakes)
        fakes["receiver"].secrets[RECEIVER_PATH] = RECEIVER_SECRET
        for n in range(EMAIL_SUBSCRIBERS):
            add_subscriber(SubscriberKind.EMAIL, f"reader{n}@example.net")
        for n in range(WEBHOOK_SUBSCRIBERS):
            path, secret = f"/subscriber/{n}", f"whsec_subscriber_{n}"
            add_subscriber(SubscriberKind.WEBHOOK, fakes["receiver"].url + path, secret=secret)
            fakes["receiver"].secrets[path] = secret
        publish()
        setup = {
            "token": token,
            "login": (email, password),
            "page_id": Page.get().id,
            "components": list(db.session.scalars(db.select(Component.id))),
        }
        db.session.remove()
        db.engine.dispose()
    return setup


class Chaos(threading.Thread):
    """The faults the run causes, at times drawn from the seed: ``--kills`` worker
    SIGKILLs spread over the first 85% of ``--duration``, Redis killed and restarted at
    about 20% and 55%, PostgreSQL crashed (``pg_ctl stop -m immediate``) and restarted at
    about 35% and 75%."""

    def __init__(
        self,
        args: argparse.Namespace,
        rng: random.Random,
        fleet: Fleet,
        postgres: PrivatePostgres,
        broker: PrivateRedis,
    ) -> None:
        super().__init__(daemon=True)
        self.rng = rng
        self.fleet = fleet
        self.postgres = postgres
        self.broker = broker
        self.duration = args.duration
        span = args.duration
        plan = [(rng.uniform(0.05, 0.85) * span, "worker kill") for _ in range(args.kills)]
        plan += [(rng.uniform(a, a + 0.05) * span, "redis restart") for a in (0.18, 0.53)]
        plan += [(rng.uniform(a, a + 0.05) * span, "postgres restart") for a in (0.33, 0.73)]
        self.plan = sorted(plan)
        self.done: Counter[str] = Counter()
        self.broker_down = False
        self.stopping = threading.Event()

    def run(self) -> None:
        began = time.monotonic()
        for at, action in self.plan:
            if self.stopping.wait(max(0.0, began + at - time.monotonic())):
                return
            getattr(self, action.replace(" ", "_"))()
            self.done[action] += 1
        self.stopping.wait(max(0.0, began + self.duration - time.monotonic()))

    def worker_kill(self) -> None:
        running = self.fleet.running("worker")
        while not running and not self.stopping.wait(0.5):
            running = self.fleet.running("worker")
        if running:
            target = self.rng.choice(running)
            say(f"SIGKILL {self.fleet.kill(target, pool=self.rng.random() < 0.5)}")

    def redis_restart(self) -> None:
        self.broker_down = True
        self.broker.kill()
        say("Redis killed")
        time.sleep(self.rng.uniform(1.0, 3.0))
        self.broker.start()
        self.broker_down = False
        say("Redis restarted on the same port")

    def postgres_restart(self) -> None:
        self.postgres.stop("immediate")
        say("PostgreSQL stopped (-m immediate)")
        time.sleep(self.rng.uniform(2.0, 4.0))
        self.postgres.start()
        say("PostgreSQL restarted on the same port")

    def unexpected_exits(self) -> list[dict[str, Any]]:
        proc = self.broker.proc
        if self.broker_down or proc is None or proc.poll() is None:
            return []
        return [{"process": "redis-server", "returncode": proc.returncode}]


def report(postgres: PrivatePostgres, poller: Poller, writes: Writes, chaos: Chaos) -> None:
    states = row_states(postgres)
    shown = " ".join(f"{k}={v}" for k, v in sorted(states.items())) if states else "database down"
    say(
        f"rows: {shown} | writes {sum(writes.ok.values())} ok, "
        f"{sum(writes.failed.values())} failed attempts | public {poller.requests} requests, "
        f"{len(poller.failures)} not 200 | done: {dict(chaos.done)}"
    )


def drained_now(postgres: PrivatePostgres, poller: Poller, writes: Writes, chaos: Chaos) -> bool:
    report(postgres, poller, writes, chaos)
    states = row_states(postgres)
    return bool(states) and not any(states.get(s) for s in UNFINISHED)


def row_states(postgres: PrivatePostgres) -> dict[str, int]:
    try:
        with psycopg.connect(postgres.url("statuspage"), connect_timeout=2) as conn:
            return dict(conn.execute("SELECT state, count(*) FROM delivery GROUP BY state"))
    except psycopg.Error:
        return {}


def read_ledger(url: str) -> checks.Ledger:
    with psycopg.connect(url) as conn:
        conn.row_factory = psycopg.rows.dict_row
        updates = conn.execute(
            "SELECT id, incident_id FROM incident_update ORDER BY created_at, id"
        ).fetchall()
        rows = conn.execute(
            "SELECT d.id, d.update_id, d.target_kind, d.transport, d.state, d.last_error,"
            " s.address FROM delivery d LEFT JOIN subscriber s"
            " ON d.target_kind = 'subscriber' AND s.id = d.target_id"
            " WHERE d.update_id IS NOT NULL AND d.target_kind <> 'alert'"
        ).fetchall()
        incidents = [r["id"] for r in conn.execute("SELECT id FROM incident ORDER BY created_at")]
        alerts = conn.execute(
            "SELECT a.kind || ' ' || d.state AS what, count(*) AS n FROM delivery d"
            " JOIN operator_alert a ON a.id = d.target_id WHERE d.target_kind = 'alert'"
            " GROUP BY 1"
        ).fetchall()
        unfinished = conn.execute(
            "SELECT id, target_kind, transport, state, attempts, next_attempt_at, last_error"
            " FROM delivery WHERE state = ANY(%s) ORDER BY id",
            (list(UNFINISHED),),
        ).fetchall()
    for row in unfinished:
        say(f"left {row['state']}: {row}")
    return checks.Ledger(
        updates, rows, incidents, {a["what"]: a["n"] for a in alerts}, len(unfinished)
    )


def published_updates(base: str, incidents: list[str]) -> set[str]:
    """The updates shown on the published incident pages."""
    shown: set[str] = set()
    for incident in incidents:
        answer = requests.get(f"{base}/incidents/{incident}", timeout=10)
        if answer.status_code == 200:
            shown.update(UPDATE_ANCHOR.findall(answer.text))
    return shown


def public_status(base: str) -> int | None:
    try:
        return requests.get(base + "/", timeout=5).status_code
    except requests.RequestException:
        return None


# -- embedded -----------------------------------------------------------------------------


def embedded_run(args: argparse.Namespace, cleanup: ExitStack) -> dict[str, Any]:
    began = time.monotonic()
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="statuspage-chaos-up-"))
    cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
    stderr = (tmp / "up.log").open("w")
    cleanup.callback(stderr.close)
    port = free_port()
    proc, output = launch(tmp / "data", port, stderr)
    up = Running(
        f"http://127.0.0.1:{port}",
        re.search(r"admin login: (\S+)", output).group(1),  # type: ignore[union-attr]
        "",
        re.search(r"page id: (\w+)", output).group(1),  # type: ignore[union-attr]
        proc,
        tmp / "data",
    )
    cleanup.callback(stop_up, up)
    if not wait(lambda: public_status(up.base) == 200, timeout=60, interval=0.5):
        raise SystemExit("statuspage up did not answer")
    say(f"statuspage up on {up.base}, children {up.children()}")
    token = cli("create-token", up.email, "--name", "chaos", "--data-dir", str(up.data_dir))
    components = [
        c["id"]
        for c in requests.get(
            f"{up.base}/api/v1/pages/{up.page_id}/components",
            headers={"Authorization": f"OAuth {token}"},
            timeout=10,
        ).json()
    ]

    poller, writes, operators = start_crowd(
        cleanup, args, rng, up.base, up.page_id, token, components
    )

    broker = up.data_dir / "broker.sqlite"
    plants = {args.kills // 3: "", (2 * args.kills) // 3: '{"body": "garbled'}
    planted, kills, last = [], 0, None
    while kills < args.kills:
        pid = up.children().get("worker")
        if pid is None or pid == last:
            time.sleep(0.2)
            continue
        if kills in plants:  # for this worker to read
            planted.append(plant(broker, plants.pop(kills)))
        time.sleep(rng.uniform(2.0, 4.0))  # let it take some work first
        last = pid
        os.kill(int(pid), signal.SIGKILL)
        kills += 1
        say(f"SIGKILL worker {pid} ({kills}/{args.kills})")
        if proc.poll() is not None:
            break
    stop_operators(operators)
    chaos_s = time.monotonic() - began
    say("kills done; waiting for every update to be published")

    database = up.data_dir / "statuspage.db"
    missing: set[str] = set()

    def all_published() -> bool:
        with sqlite3.connect(database) as conn:
            updates = conn.execute("SELECT id, incident_id FROM incident_update").fetchall()
        shown = published_updates(up.base, sorted({i for _, i in updates}))
        missing.clear()
        missing.update(u for u, _ in updates if u not in shown)
        say(f"{len(updates) - len(missing)} of {len(updates)} updates published")
        return not missing

    publish_began = time.monotonic()
    published = wait(all_published, timeout=args.drain, interval=5)
    publish_wait_s = time.monotonic() - publish_began
    with sqlite3.connect(database) as conn:
        updates = conn.execute("SELECT count(*) FROM incident_update").fetchone()[0]
        incidents = conn.execute("SELECT count(*) FROM incident").fetchone()[0]

    def planted_left() -> int:
        with sqlite3.connect(broker, timeout=10) as conn:
            return conn.execute(
                "SELECT count(*) FROM kombu_message WHERE payload IN (?, ?)",
                ("", '{"body": "garbled'),
            ).fetchone()[0]

    wait(lambda: planted_left() == 0, timeout=60, interval=1)  # behind a backlog, maybe
    left = planted_left()
    poller.stopping.set()
    poller.join(timeout=15)
    alive = proc.poll() is None
    stop_up(up)
    exits = Counter(
        re.findall(r"statuspage up: (\w+ (?:was killed by|exited with) \S+)", read(tmp / "up.log"))
    )
    expected = exits.pop("worker was killed by SIGKILL;", 0)
    unexpected = sum(exits.values()) + max(0, expected - kills) + (0 if alive else 1)
    return {
        "benchmark": "chaos",
        "mode": "embedded",
        "unpublished": len(missing),
        "public_non_200": len(poller.failures),
        "public_requests": poller.requests,
        "unexpected_exits": unexpected,
        "worker_kills": kills,
        "worker_restarts_logged": expected,
        "planted_broker_messages": len(planted),
        "planted_messages_left": left,
        "incidents": incidents,
        "updates": updates,
        "operator_writes": dict(writes.ok),
        "operator_write_failures": dict(writes.failed),
        "published_all": published,
        "chaos_s": round(chaos_s, 1),
        "publish_wait_s": round(publish_wait_s, 1),
        "total_s": round(time.monotonic() - began, 1),
        "seed": args.seed,
        "write_rate_per_s": args.rate,
    }


def plant(broker: Path, payload: str) -> str:
    """A message row no worker can read, in the queue the workers take from."""
    with sqlite3.connect(broker, timeout=10) as conn:
        conn.execute(
            "INSERT INTO kombu_message (visible, payload, version, queue_id)"
            " SELECT 1, ?, 1, id FROM kombu_queue",
            (payload,),
        )
    say(f"planted broker message {payload!r}")
    return payload


def cli(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSPAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "statuspage", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def stop_up(up: Running) -> None:
    """Ctrl-C, as an operator stops it; what is still running afterwards is killed."""
    children = up.children() if up.proc.poll() is None else {}
    if up.proc.poll() is None:
        up.proc.send_signal(signal.SIGINT)
        try:
            up.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.proc.kill()
            up.proc.wait()
    for pid in children.values():
        try:
            os.killpg(int(pid), signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


if __name__ == "__main__":
    main()
