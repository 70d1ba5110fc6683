"""The public site as customers reach it: a live web server started the way
``statuspage up`` starts it, with its database URL pointing nowhere and no worker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import requests

from statuspage.incidents import service
from statuspage.publishing.snapshot import publish
from tests.browser import artifact, chromium
from tests.conftest import ROOT, free_port, wait_for

STATUSCHECK = "statuscheck==3.11.0"
# statuscheck only knows hosted pages; pointing its Statuspage client at ours is a subclass.
STATUSCHECK_SCRIPT = """
import json, sys
from statuscheck.services.bases._statuspageio import BaseStatusPageAPI

class Ours(BaseStatusPageAPI):
    name = "Ours"
    status_url = sys.argv[1]

    def _get_base_url(self):
        return sys.argv[1] + "/api/v2/"

api = Ours()
summary = api.get_summary()
print(json.dumps({
    "status": summary.status.name, "indicator": summary.status.code,
    "is_ok": summary.status.is_ok,
    "components": {c.name: c.status for c in summary.components},
    "incidents": [[i.name, i.status, [c.name for c in i.components]] for i in summary.incidents],
}))
api._print_summary(verbose=True)
"""


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Published from PostgreSQL, then served with the database out of reach."""
    return request.param


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    data = tmp_path_factory.mktemp("live")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSPAGE_")}
    env.update(
        STATUSPAGE_DATA_DIR=str(data),
        STATUSPAGE_PUBLISH_DIR=str(data / "public"),
        STATUSPAGE_DATABASE_URL="postgresql://nobody@127.0.0.1:1/nowhere",
        STATUSPAGE_BROKER_URL="redis://127.0.0.1:1/0",
        STATUSPAGE_SECRET_KEY="live-test",
    )
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--blocking-threads",
        "4",
        "--log-level",
        "warning",
        "statuspage.wsgi:app",
    ]
    proc = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(base), timeout=30)
    yield base, data / "public"
    proc.terminate()
    proc.wait(timeout=15)


def _answers(base: str) -> bool:
    try:
        requests.get(base + "/", timeout=1).close()
        return True
    except requests.ConnectionError:
        return False


def test_page_api_and_feeds_answer_with_the_database_unreachable(app, components, site):
    base, public = site
    assert requests.get(base + "/", timeout=5).status_code == 503  # nothing published yet
    incident = service.open_incident(
        actor=None,
        name="Outage while the database is down",
        impact="critical",
        body="x",
        components={components["API"]: "major_outage"},
    )
    publish(public)
    paths = [
        "/",
        f"/incidents/{incident.id}",
        "/history",
        "/history.rss",
        "/history.atom",
        "/badge.svg",
        "/widget.json",
        f"/components/{components['API']}/history.atom",
        *(
            f"/api/v2/{name}"
            for name in [
                "summary.json",
                "status.json",
                "components.json",
                "incidents.json",
                "incidents/unresolved.json",
                "scheduled-maintenances.json",
                "scheduled-maintenances/upcoming.json",
                "scheduled-maintenances/active.json",
            ]
        ),
    ]
    with requests.Session() as http:
        for path in paths:
            response = http.get(base + path, timeout=5)
            assert response.status_code == 200, path
        summary = http.get(base + "/api/v2/summary.json", timeout=5).json()
        assert summary["incidents"][0]["id"] == incident.id
        assert summary["status"]["indicator"] == "critical"
        feed = feedparser.parse(http.get(base + "/history.atom", timeout=5).content)
        assert not feed.bozo and feed.entries[0].title.startswith("Outage while")
        assert "Outage while the database is down" in http.get(base + "/", timeout=5).text


@pytest.fixture(scope="session")
def statuscheck_python(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """statuscheck pins old click/httpx, so it lives in its own environment, kept between
    runs in pytest's cache directory (when the cache is on)."""
    cache = getattr(request.config, "cache", None)
    home = (
        Path(cache.mkdir("statuscheck-3.11.0"))
        if cache is not None
        else tmp_path_factory.mktemp("statuscheck")
    )
    python = home / "bin" / "python"
    probe = [str(python), "-c", "import statuscheck"]
    if not python.exists() or subprocess.run(probe, capture_output=True).returncode != 0:
        venv.create(home, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", STATUSCHECK],
            check=True,
        )
    return python


def test_the_statuscheck_client_reads_the_live_api(app, components, site, statuscheck_python):
    base, public = site
    service.open_incident(
        actor=None,
        name="Slow uploads",
        impact="minor",
        body="Looking.",
        components={components["Dashboard"]: "degraded_performance"},
    )
    publish(public)
    run = subprocess.run(
        [str(statuscheck_python), "-c", STATUSCHECK_SCRIPT, base],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[0])
    assert result["indicator"] == "minor" and result["is_ok"] is False
    assert result["status"] == "Minor incident"
    assert result["components"]["Dashboard"] == "Degraded performance"
    assert result["components"]["API"] == "Operational"
    assert result["incidents"] == [["Slow uploads", "investigating", ["Dashboard"]]]
    assert "Current Ours status" in run.stdout and "- [investigating] Slow uploads" in run.stdout


@pytest.mark.browser
def test_chromium_renders_the_page_on_desktop_and_phone(app, components, site):
    base, public = site
    incident = service.open_incident(
        actor=None,
        name="Payments are failing",
        impact="critical",
        body="We are **investigating** failed card payments.",
        components={components["API"]: "major_outage"},
    )
    service.post_update(
        actor=None, incident_id=incident.id, status="identified", body="A faulty deploy."
    )
    publish(public)
    with chromium() as browser:
        desktop = browser.new_context(
            viewport={"width": 1280, "height": 900}, timezone_id="America/New_York"
        )
        page = desktop.new_page()
        page.goto(base + "/")
        assert page.get_by_role("heading", level=1).inner_text() == "Major System Outage"
        api_row = page.locator("li.component", has_text="API")
        assert api_row.locator(".status").inner_text().strip() == "Major outage"
        timeline = page.locator(".incident", has_text="Payments are failing").locator(".update")
        assert timeline.count() == 1  # the latest update; the earlier one a click away
        assert timeline.nth(0).locator(".update-status").inner_text() == "Identified"
        card = page.locator(".incident", has_text="Payments are failing")
        assert card.locator(".earlier a").inner_text() == "1 earlier update"
        # The script shows times in the reader's zone; the UTC text stays as the tooltip.
        first_time = page.locator(".incident time").first
        assert "UTC" in first_time.get_attribute("title")
        assert "UTC" not in first_time.inner_text()
        assert "America/New_York" in page.locator("#tz-note").inner_text()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.screenshot(path=artifact("public-page-desktop.png"), full_page=True)
        desktop.close()

        phone = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            java_script_enabled=False,
        )
        page = phone.new_page()
        page.goto(base + "/")
        assert page.get_by_role("heading", level=1).inner_text() == "Major System Outage"
        assert "UTC" in page.locator(".incident time").first.inner_text()  # no script: UTC
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=artifact("public-page-phone.png"), full_page=True)
        phone.close()
