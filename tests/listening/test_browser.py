"""A customer complains on X; a real beat polls the mention in through a real worker;
the operator, in real Chromium, links it to the incident and answers with a template;
the reply reaches X threaded under the customer's post, and the item shows as answered
with its response time."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from statuspage.listening import templates as reply_templates
from tests.browser import artifact, chromium
from tests.channels.helpers import open_incident, serve_at
from tests.conftest import PASSWORD, ROOT, wait_for
from tests.listening.conftest import items, listen_on_x
from tests.live import live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def beat(app, tmp_path):
    """A real ``celery beat`` polling every second, on the test's broker queue."""
    app.config["TEST_ENV"]["STATUSPAGE_LISTEN_POLL_SECONDS"] = "1"
    command = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat"]
    command += ["--loglevel", "WARNING", "--schedule", str(tmp_path / "beat-schedule")]
    proc = subprocess.Popen(command, env=dict(os.environ, **app.config["TEST_ENV"]), cwd=ROOT)
    yield proc
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_mention_is_linked_answered_in_place_and_timed(app, cast, wired, start_worker, beat):
    x = wired["x"]
    listen_on_x()
    incident = open_incident(name="Login failures")
    reply_templates.save(
        actor=None, name="We are aware", body="We are aware and on it. Follow {incident_url}"
    )
    with live_server(app) as base, chromium() as browser:
        serve_at(app, base)
        start_worker()
        post = x.customer_post("alice", "login keeps failing, is it just me?")
        wait_for(lambda: items(), timeout=30, interval=0.2)  # the beat's poll brought it in

        page = browser.new_page()
        page.goto(f"{base}/admin/login")
        page.get_by_label("Email").fill("rob@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.get_by_role("link", name=re.compile(r"^Inbox")).click()
        page.locator("#inbox-items").get_by_role("link").first.click()
        assert "login keeps failing" in page.locator("#item-text").inner_text()

        page.get_by_label("Open incident").select_option(incident.id)
        page.get_by_role("button", name="Link to incident").click()
        assert page.locator("#linked-incident").inner_text() == "Login failures"
        page.get_by_role("link", name="We are aware").click()
        reply = page.get_by_role("textbox", name="Reply")
        url = f"{base}/incidents/{incident.id}"
        assert reply.input_value() == f"We are aware and on it. Follow {url}"
        page.get_by_role("button", name="Send reply").click()
        assert page.locator(".flash-ok").inner_text().startswith("Reply queued")

        (sent,) = wait_for(lambda: x.replies_to(post["id"]), timeout=30, interval=0.2)
        assert sent["text"] == f"We are aware and on it. Follow {url}"

        def answered() -> bool:
            page.reload()
            return page.locator("#response-time").count() == 1

        wait_for(answered, timeout=30, interval=0.5)
        assert page.locator("#item-state").inner_text() == "Answered"
        assert re.fullmatch(r"\d+ s", page.locator("#response-time").inner_text())
        assert page.locator("#replies .delivery-state").inner_text() == "Sent"
        page.screenshot(path=artifact("inbox-answered.png"), full_page=True)

        page.get_by_role("link", name="← Inbox").click()
        row = page.locator(f"#item-{items()[0].id}")
        assert row.locator(".item-state").inner_text() == "Answered"
