"""Who acts during a chaos run: visitors polling the public site, operators posting
incidents and updates, and a supervisor that restarts the processes the run kills."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from statuspage.supervisor import Child, Supervisor

ROOT = Path(__file__).resolve().parent.parent
RESTART_SECONDS = 2.0  # RestartSec= of the systemd units in deploy/systemd
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
STARTED = time.monotonic()


def say(line: str) -> None:
    """A progress line, stamped with the seconds since the run began."""
    print(f"[{time.monotonic() - STARTED:7.1f}s] {line}", flush=True)


class Poller(threading.Thread):
    """A visitor reading ``/`` and ``/api/v2/summary.json`` in turn, each on a new
    connection, the whole run long; any answer but a 200 is kept with its time."""

    PATHS = ("/", "/api/v2/summary.json")

    def __init__(self, base: str, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.interval = interval
        self.requests = 0
        self.failures: list[tuple[float, str, str]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            path = self.PATHS[self.requests % len(self.PATHS)]
            try:
                answer = str(requests.get(self.base + path, timeout=10).status_code)
            except requests.RequestException as exc:
                answer = type(exc).__name__
            self.requests += 1
            if answer != "200":
                self.failures.append((round(time.monotonic() - STARTED, 1), path, answer))
                say(f"public {path} answered {answer}")
            self.stopping.wait(self.interval)


@dataclass
class Writes:
    """What the operators did: writes that succeeded, and failed attempts by answer."""

    ok: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    incidents: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Operator(threading.Thread):
    """A responder working incidents: opens one, posts a few updates, resolves it, opens
    the next. Writes go through the v1 API, one update in ``admin_share`` through the
    admin's form; a write that fails is tried again a second later, as a person would."""

    def __init__(
        self,
        name: str,
        base: str,
        page_id: str,
        token: str,
        components: list[str],
        pause: float,
        rng: random.Random,
        writes: Writes,
        login: tuple[str, str] | None = None,
        admin_share: float = 0.25,
    ) -> None:
        super().__init__(daemon=True, name=name)
        self.base = base
        self.api = f"{base}/api/v1/pages/{page_id}/incidents"
        self.headers = {"Authorization": f"OAuth {token}"}
        self.components = components
        self.pause = pause
        self.rng = rng
        self.writes = writes
        self.login = login
        self.admin_share = admin_share if login else 0.0
        self.admin: requests.Session | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            affected = self.rng.sample(self.components, k=min(2, len(self.components)))
            doc = self._write(
                "api open",
                "POST",
                self.api,
                {
                    "name": f"{self.name} incident {number}",
                    "status": "investigating",
                    "body": f"{self.name} is looking into incident {number}.",
                    "components": {c: "partial_outage" for c in affected},
                },
            )
            if doc is None:
                return
            incident = doc["id"]
            with self.writes.lock:
                self.writes.incidents.append(incident)
            for step in range(self.rng.randint(2, 5)):
                if not self._update(incident, "identified", f"Step {step} of {number}."):
                    return
            closing = {"components": {c: "operational" for c in affected}}
            if not self._update(incident, "resolved", f"Incident {number} is over.", closing):
                return

    def _update(self, incident: str, status: str, body: str, extra: dict | None = None) -> bool:
        self.stopping.wait(self.rng.uniform(0.5, 1.5) * self.pause)
        if self.rng.random() < self.admin_share and not extra:
            return self._admin_update(incident, status, body)
        doc = {"status": status, "body": body, **(extra or {})}
        return self._write("api update", "PATCH", f"{self.api}/{incident}", doc) is not None

    def _write(self, what: str, method: str, url: str, incident: dict) -> dict | None:
        """One write, tried until it succeeds; None once the operator is told to stop."""
        while not self.stopping.is_set():
            try:
                answer = requests.request(
                    method, url, json={"incident": incident}, headers=self.headers, timeout=30
                )
            except requests.RequestException as exc:
                self._failed(what, type(exc).__name__)
                continue
            if answer.status_code in (200, 201):
                with self.writes.lock:
                    self.writes.ok[what] += 1
                return answer.json()
            self._failed(what, str(answer.status_code))
        return None

    def _failed(self, what: str, answer: str) -> None:
        with self.writes.lock:
            self.writes.failed[f"{what} {answer}"] += 1
        self.stopping.wait(1.0)

    def _admin_update(self, incident: str, status: str, body: str) -> bool:
        """The update form of the admin's incident page, signed in with a password."""
        while not self.stopping.is_set():
            try:
                if self.admin is None:
                    self.admin = self._sign_in()
                page = self.admin.get(f"{self.base}/admin/incidents/{incident}", timeout=30)
                token = CSRF.search(page.text) if page.status_code == 200 else None
                if token is None:
                    self.admin = None
                    self._failed("admin update", f"form {page.status_code}")
                    continue
                answer = self.admin.post(
                    page.url,
                    data={
                        "csrf_token": token.group(1),
                        "status": status,
                        "body": body,
                        "notify": "y",
                    },
                    timeout=30,
                    allow_redirects=False,
                )
            except requests.RequestException as exc:
                self.admin = None
                self._failed("admin update", type(exc).__name__)
                continue
            if answer.status_code == 302:
                with self.writes.lock:
                    self.writes.ok["admin update"] += 1
                return True
            self._failed("admin update", str(answer.status_code))
        return False

    def _sign_in(self) -> requests.Session:
        assert self.login is not None
        session = requests.Session()
        form = session.get(f"{self.base}/admin/login", timeout=30)
        token = CSRF.search(form.text)
        if token is None:
            raise requests.ConnectionError(f"no sign-in form ({form.status_code})")
        email, password = self.login
        answer = session.post(
            f"{self.base}/admin/login",
            data={"csrf_token": token.group(1), "email": email, "password": password},
            timeout=30,
            allow_redirects=False,
        )
        if answer.status_code != 302:
            raise requests.ConnectionError(f"sign-in answered {answer.status_code}")
        return session


@dataclass
class Unit(Child):
    """A supervised process restarted as systemd's ``Restart=always`` does, a fixed two
    seconds after it exits, its output appended to ``log``."""

    log: Path = Path("/dev/null")
    log_from: int = 0  # where this run's output begins in the log

    def start(self, env: dict[str, str]) -> None:
        self.log_from = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.args,
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        self.restart_at = None

    def delay(self) -> float:
        return RESTART_SECONDS

    def ready(self) -> bool:
        """Whether this run of a Celery worker said it is ready: a pool process killed
        before that stops the worker ("Could not start worker processes")."""
        with self.log.open("rb") as log:
            log.seek(self.log_from)
            return b" ready." in log.read()


class Fleet(threading.Thread):
    """The supervisor of the production processes: restarts any that exits, and keeps
    every exit the run did not cause (with the end of its log) as unexpected."""

    def __init__(self, units: list[Unit], env: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.units = units
        self.supervisor = Supervisor(list(units), env, say)
        self.caused: set[int] = set()
        self.unexpected: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.2):
            with self.lock:
                if self.stopping.is_set():
                    return  # stop() has ended the processes: those exits are ours
                self._notice_exits()
                self.supervisor.check()

    def _notice_exits(self) -> None:
        for child in self.units:
            proc = child.proc
            if child.restart_at is None and proc is not None and proc.poll() is not None:
                if proc.pid not in self.caused:
                    tail = child.log.read_text(errors="replace").splitlines()[-15:]
                    self.unexpected.append(
                        {"process": child.name, "returncode": proc.returncode, "log": tail}
                    )
                    say(f"UNEXPECTED: {child.name} exited with {proc.returncode}")

    def start_all(self) -> None:
        self.supervisor.start()
        self.start()

    def running(self, prefix: str) -> list[Unit]:
        """Units whose name starts with ``prefix`` that are up (and were for a second)."""
        now = time.monotonic()
        return [
            u
            for u in self.units
            if u.name.startswith(prefix)
            and u.proc is not None
            and u.proc.poll() is None
            and u.proc.pid not in self.caused  # killed, not yet reaped
            and now - u.started_at > 1.0
        ]

    def kill(self, target: Unit, pool: bool) -> str:
        """SIGKILL the unit's main process, or one of its pool processes (Celery's parent
        then replaces it); returns what was killed."""
        assert target.proc is not None
        pid = target.proc.pid
        if pool:
            children = pool_processes(pid) if target.ready() else []
            children = [c for c in children if c not in self.caused]
            if children:
                pid = random.choice(children)
            else:
                pool = False
        with self.lock:
            self.caused.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return f"{target.name} pid {pid} (already gone)"
        return f"{target.name} {'pool process' if pool else 'main process'} {pid}"

    def stop(self) -> None:
        self.stopping.set()
        with self.lock:
            self.supervisor.stop()


def pool_processes(pid: int) -> list[int]:
    """The live children of ``pid`` (not those dead and not yet reaped)."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in found.split() if _alive(int(p))]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "workers.celery_app", *args]
