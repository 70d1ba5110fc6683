"""An outage run end to end in real Chromium: log in, open an incident on two components,
post two updates, correct one, resolve; the published public page tells it all."""

from __future__ import annotations

import re

import pytest
import requests

from tests.browser import artifact, chromium
from tests.conftest import PASSWORD, wait_for
from tests.live import live_server

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("backend", ["postgresql"])  # embedded SQLite: tests/e2e/test_up.py
def test_an_outage_from_login_to_resolution(app, cast, components, start_worker):
    start_worker()
    app.config["SERVER_NAME"] = None
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/admin/login")
        page.get_by_label("Email").fill("rob@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()

        page.get_by_role("link", name="Open incident").click()
        page.get_by_label("Title").fill("Checkout is failing")
        page.get_by_label("Impact").select_option("major")
        page.get_by_label("Message (Markdown)").fill("We are investigating failed checkouts.")
        page.locator(f"#component-{components['API']}").select_option("major_outage")
        page.locator(f"#component-{components['Website']}").select_option("partial_outage")
        page.get_by_role("button", name="Open incident").click()
        page.wait_for_url(re.compile(r"/admin/incidents/[0-9a-z]{12}$"))
        incident_id = page.url.rsplit("/", 1)[1]

        for status, text in (
            ("identified", "The payment gateway rejects our requests."),
            ("monitoring", "A fix is deployed; we are monitorng."),
        ):
            page.get_by_label("Status", exact=True).select_option(status)
            page.get_by_label("Message (Markdown)").fill(text)
            page.get_by_role("button", name="Post update").click()
            page.wait_for_url(f"**/admin/incidents/{incident_id}")
            assert page.locator(".flash-ok").inner_text().startswith("Update posted")

        page.get_by_role("link", name="Edit text").first.click()  # the newest update
        page.get_by_label("Corrected text").fill("A fix is deployed; we are monitoring.")
        page.get_by_role("button", name="Save correction").click()
        page.wait_for_url(f"**/admin/incidents/{incident_id}")
        assert "(edited)" in page.locator(".timeline").inner_text()

        page.get_by_role("button", name="Resolve incident").click()
        page.wait_for_url(f"**/admin/incidents/{incident_id}")
        assert page.locator("#incident-status").inner_text() == "Resolved"
        page.screenshot(path=artifact("admin-incident-resolved.png"), full_page=True)

        def published() -> bool:
            html = requests.get(f"{base}/incidents/{incident_id}", timeout=5).text
            return "This incident has been resolved." in html and "Edited" in html

        wait_for(published, timeout=30, interval=0.2)
        page.goto(f"{base}/incidents/{incident_id}")
        timeline = page.locator("article").inner_text()
        for text in (
            "We are investigating failed checkouts.",
            "The payment gateway rejects our requests.",
            "A fix is deployed; we are monitoring.",
            "This incident has been resolved.",
            "Edited",
        ):
            assert text in timeline, text
        earlier = page.locator("details.revisions").text_content()
        assert "we are monitorng." in earlier
        page.screenshot(path=artifact("public-incident-resolved.png"), full_page=True)

        page.goto(f"{base}/")
        listing = page.locator("main").inner_text()
        assert "Checkout is failing" in listing
        rows = page.locator(".components li.component")
        for name in ("API", "Website"):
            row = rows.filter(has=page.locator(".name", has_text=re.compile(rf"^{name}$")))
            assert "Operational" in row.locator(".status").inner_text(), name
