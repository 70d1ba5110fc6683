"""``statuspage up`` from a bare data directory, driven through real Chromium."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[Running]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSPAGE_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "statuspage",
            "up",
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    while not any(line.startswith("press Ctrl-C") for line in lines):
        line = proc.stdout.readline()
        assert line, f"statuspage up exited early: {lines}"
        lines.append(line.strip())
    output = "\n".join(lines)
    email, password = re.search(r"admin login: (\S+) / (\S+)", output).groups()
    page_id = re.search(r"page id: (\w+)", output).group(1)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _status(f"{base}/") == 200, timeout=30)
    running = Running(base, email, password, page_id, proc)
    yield running
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    proc.stdout.close()


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
        assert page.get_by_text("Payments are failing").is_visible()
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
