"""``statuspage up`` from a bare data directory, driven through real Chromium."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest
import requests

from tests.browser import artifact, chromium
from tests.conftest import ROOT, free_port, wait_for

pytestmark = pytest.mark.browser


@dataclass
class Running:
    base: str
    email: str
    password: str
    page_id: str
    proc: subprocess.Popen[str]
    data_dir: Path

    def children(self) -> dict[str, str]:
        """The supervised processes by role: {"web": pid, "worker": pid, "beat": pid}."""
        found = {}
        pids = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True
        ).stdout.split()
        for pid in pids:
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"granian" in argv:
                found["web"] = pid
            elif b"workers.celery_app" in argv:  # not a zombie, whose command line is empty
                found[argv[argv.index(b"workers.celery_app") + 1].decode()] = pid
        return found

    def open_incident(self, name: str) -> None:
        """Open an incident through the write API, as automation would."""
        token = subprocess.run(
            [sys.executable, "-m", "statuspage", "create-token", self.email, "--name", name]
            + ["--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        response = requests.post(
            f"{self.base}/api/v1/pages/{self.page_id}/incidents",
            json={"incident": {"name": name, "status": "investigating", "body": "Looking"}},
            headers={"Authorization": f"OAuth {token}"},
            timeout=10,
        )
        assert response.status_code == 201, response.text

    def published(self, name: str) -> bool:
        doc = requests.get(f"{self.base}/api/v2/summary.json", timeout=2).json()
        return any(i["name"] == name for i in doc["incidents"])


def launch(
    data_dir: Path, port: int, stderr: IO[str], settings: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start ``statuspage up``; returns it and what it printed up to "press Ctrl-C"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSPAGE_")}
    env.update(settings or {})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "statuspage",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    while not any(line.startswith("press Ctrl-C") for line in lines):
        line = proc.stdout.readline()
        assert line, f"statuspage up exited early: {lines}"
        lines.append(line.strip())
    return proc, "\n".join(lines)


@pytest.fixture
def embedded(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Running]:
    """``statuspage up`` on a free port; a test's ``up_env`` marker adds settings."""
    port = free_port()
    marker = request.node.get_closest_marker("up_env")
    stderr = (tmp_path / "stderr.log").open("w")
    proc, output = launch(tmp_path / "data", port, stderr, marker.args[0] if marker else None)
    email, password = re.search(r"admin login: (\S+) / (\S+)", output).groups()
    page_id = re.search(r"page id: (\w+)", output).group(1)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _status(f"{base}/") == 200, timeout=30)
    running = Running(base, email, password, page_id, proc, tmp_path / "data")
    yield running
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    proc.stdout.close()
    stderr.close()


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.ConnectionError:
        return None


def test_an_incident_opened_in_the_admin_is_public_within_two_seconds(embedded: Running):
    summary = requests.get(f"{embedded.base}/api/v2/summary.json", timeout=5).json()
    assert summary["page"]["id"] == embedded.page_id
    assert summary["page"]["url"] == embedded.base
    api = next(c for c in summary["components"] if c["name"] == "API")

    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{embedded.base}/admin/login")
        page.get_by_label("Email").fill(embedded.email)
        page.get_by_label("Password").fill(embedded.password)
        page.get_by_role("button", name="Log in").click()
        # The printed password must be replaced before anything else.
        page.wait_for_url(f"{embedded.base}/admin/account")
        page.get_by_label("Current password").fill(embedded.password)
        page.get_by_label("New password").fill("the operator's own passphrase")
        page.get_by_role("button", name="Change password").click()
        page.wait_for_url(f"{embedded.base}/admin/account")
        page.get_by_role("link", name="Open incident").click()
        page.get_by_label("Title").fill("Payments are failing")
        page.get_by_label("Impact").select_option("critical")
        page.get_by_label("Message (Markdown)").fill("We are **investigating** failed payments.")
        page.locator(f"#component-{api['id']}").select_option("major_outage")
        page.get_by_role("button", name="Open incident").click()
        page.wait_for_url(re.compile(r"/admin/incidents/[0-9a-z]{12}$"))
        committed = time.monotonic()

        def published() -> bool:
            doc = requests.get(f"{embedded.base}/api/v2/summary.json", timeout=2).json()
            html = requests.get(f"{embedded.base}/", timeout=2).text
            return bool(doc["incidents"]) and "Payments are failing" in html

        wait_for(published, timeout=10, interval=0.02)
        elapsed = time.monotonic() - committed
        assert elapsed < 2.0, f"published after {elapsed:.2f}s"

        page.goto(f"{embedded.base}/")
        assert page.get_by_role("heading", level=1).inner_text() == "Major System Outage"
        assert page.get_by_role("heading", name="Payments are failing").is_visible()
        assert "Major outage" in page.locator(".components").inner_text()
        page.screenshot(path=artifact("embedded-public-page.png"), full_page=True)

    doc = requests.get(f"{embedded.base}/api/v2/summary.json", timeout=5).json()
    (incident,) = doc["incidents"]
    assert incident["incident_updates"][0]["body"] == "We are **investigating** failed payments."


def _identity(pid: str) -> tuple[str, str] | None:
    """(pid, start time) of a live process, so a recycled pid is not mistaken for it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else (pid, fields[19])


def test_the_first_admin_password_is_shown_once_and_kept_nowhere(embedded: Running):
    stored = [
        path
        for path in embedded.data_dir.rglob("*")
        if path.is_file() and embedded.password.encode() in path.read_bytes()
    ]
    assert stored == []
    embedded.proc.send_signal(signal.SIGINT)
    embedded.proc.wait(timeout=30)
    with (embedded.data_dir.parent / "again.log").open("w") as stderr:
        again, output = launch(embedded.data_dir, free_port(), stderr)
        again.send_signal(signal.SIGINT)
        again.wait(timeout=30)
        assert again.stdout is not None
        again.stdout.close()
    assert embedded.password not in output
    assert "reset with: statuspage set-password" in output


def test_ctrl_c_stops_web_worker_and_beat(embedded: Running):
    children = subprocess.run(
        ["pgrep", "-P", str(embedded.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    assert len(children) == 3  # web, worker, beat
    before = {_identity(pid) for pid in children}
    embedded.proc.send_signal(signal.SIGINT)
    assert embedded.proc.wait(timeout=30) == 0
    assert _status(f"{embedded.base}/") is None
    assert before & {_identity(pid) for pid in children} == set()


class Poller:
    """Fetch ``GET /`` in a loop and keep every answer (None for no answer)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[int | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.answers.append(_status(self.url))
            time.sleep(0.02)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _restarted(embedded: Running, role: str, old: str) -> str | None:
    pid = embedded.children().get(role)
    return pid if pid and pid != old else None


@pytest.mark.parametrize("role", ["worker", "beat"])
def test_a_killed_worker_or_beat_is_restarted_while_the_page_answers(embedded, role):
    old = embedded.children()[role]
    with Poller(f"{embedded.base}/") as poller:
        os.kill(int(old), signal.SIGKILL)
        new = wait_for(lambda: _restarted(embedded, role, old), timeout=15)
        time.sleep(1)
    assert len(poller.answers) > 20
    assert set(poller.answers) == {200}
    assert embedded.children()[role] == new
    log = (embedded.data_dir.parent / "stderr.log").read_text()
    assert f"statuspage up: {role} was killed by SIGKILL; restarting in 1s" in log
    embedded.open_incident("After the restart")
    wait_for(lambda: embedded.published("After the restart"), timeout=20)


def test_a_killed_web_server_is_restarted(embedded):
    old = embedded.children()["web"]
    os.kill(int(old), signal.SIGKILL)
    wait_for(lambda: _restarted(embedded, "web", old), timeout=15)
    wait_for(lambda: _status(f"{embedded.base}/") == 200, timeout=30)
    embedded.open_incident("After the web restart")
    wait_for(lambda: embedded.published("After the web restart"), timeout=20)


def test_a_half_written_broker_message_stops_nothing(embedded):
    before = embedded.children()
    with sqlite3.connect(embedded.data_dir / "broker.sqlite") as conn:
        conn.execute(
            "INSERT INTO kombu_message (visible, payload, version, queue_id)"
            " SELECT 1, '', 1, id FROM kombu_queue"
        )
    # What kombu's filesystem transport left behind; nothing reads that folder now.
    (embedded.data_dir / "broker").mkdir(exist_ok=True)
    (embedded.data_dir / "broker" / "0001.msg").touch()
    embedded.open_incident("After the bad message")
    wait_for(lambda: embedded.published("After the bad message"), timeout=20)
    with sqlite3.connect(embedded.data_dir / "broker.sqlite") as conn:
        assert (
            conn.execute("SELECT count(*) FROM kombu_message WHERE payload = ''").fetchone()[0] == 0
        )
    assert embedded.children() == before
    assert embedded.proc.poll() is None


def test_up_refuses_a_port_that_is_taken_before_starting_anything(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "statuspage", "up", "--port", str(port)]
            + ["--data-dir", str(tmp_path / "data")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert not (tmp_path / "data").exists()


def _half_sent(embedded: Running, head: bytes, body: bytes) -> socket.socket:
    port = int(embedded.base.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head.replace(b"\n", b"\r\n") + body)
    return sock


SLOW_SUBSCRIBE = b"""POST /api/subscriptions HTTP/1.1
Host: status.test
Content-Type: application/json
Content-Length: 1000

"""


@pytest.mark.up_env({"STATUSPAGE_BODY_TIMEOUT_SECONDS": "3"})
def test_idle_half_sent_bodies_do_not_stall_the_public_site(embedded):
    held = [_half_sent(embedded, SLOW_SUBSCRIBE, b"{") for _ in range(50)]
    try:
        for path in ("/", "/api/v2/summary.json", "/admin/login"):
            for _ in range(10):
                assert requests.get(f"{embedded.base}{path}", timeout=2).status_code == 200
        held[0].settimeout(10)
        assert held[0].recv(4096).startswith(b"HTTP/1.1 408")
    finally:
        for sock in held:
            sock.close()


def test_a_50_mib_body_is_refused_before_it_is_sent(embedded):
    head = SLOW_SUBSCRIBE.replace(b"1000", str(50 * 1024 * 1024).encode())
    with _half_sent(embedded, head, b"{" * 1024) as sock:
        sock.settimeout(10)
        reply = _whole_reply(sock)
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"code":"too_large"' in reply


def _whole_reply(sock: socket.socket) -> bytes:
    """Head and body of one answer, however many segments it arrives in."""
    reply = b""
    while chunk := sock.recv(65536):
        reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if length and len(body) >= int(length.group(1)):
            break
    return reply


def test_deeply_nested_json_is_refused_with_400(embedded):
    response = requests.post(
        f"{embedded.base}/api/subscriptions",
        data="[" * 30_000 + "]" * 30_000,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 400


def test_every_web_process_counts_toward_one_rate_limit(embedded):
    """Five subscription attempts a minute per address, however many web processes answer."""
    answers = []
    for _ in range(16):
        with requests.Session() as fresh:  # a new connection each time, to any web process
            answers.append(
                fresh.post(
                    f"{embedded.base}/api/subscriptions",
                    json={"email": "reader@example.com"},
                    timeout=5,
                ).status_code
            )
    assert answers.count(429) == 11, answers


def test_the_data_directory_is_readable_by_its_owner_only(embedded):
    assert stat.S_IMODE(embedded.data_dir.stat().st_mode) == 0o700
    for name in ("statuspage.db", "broker.sqlite", "ratelimits.sqlite", "secret_key"):
        assert stat.S_IMODE((embedded.data_dir / name).stat().st_mode) == 0o600, name
    for wal in embedded.data_dir.glob("*-wal"):
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600, wal.name
