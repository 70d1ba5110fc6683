"""An admin connects Slack in real Chromium and a real worker delivers the test message."""

from __future__ import annotations

import pytest

from tests.browser import artifact, chromium
from tests.conftest import PASSWORD, wait_for
from tests.live import live_server

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_an_admin_connects_slack_and_sends_a_test(app, cast, wired, start_worker):
    slack = wired["slack"]
    start_worker()
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        page.goto(f"{base}/admin/login")
        page.fill("input[name=email]", "alice@example.com")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("nav >> text=Channels")
        page.click("text=Slack")
        page.fill("input[name=name]", "Team updates")
        page.fill("input[name=webhook_url]", slack.hook_url)
        page.click("text=Save")
        page.wait_for_selector("text=Not tested yet.")
        assert slack.hook_url not in page.content()  # the secret URL is not shown back

        page.click("#send-test")
        page.wait_for_selector("text=Test queued")
        wait_for(lambda: slack.messages(), timeout=30)

        def shown() -> bool:
            page.reload()
            return "Test succeeded" in page.inner_text("#test-result")

        wait_for(shown, timeout=30, interval=0.5)
        page.screenshot(path=artifact("channel-test.png"), full_page=True)
        (message,) = slack.messages()
        assert message["text"].startswith("Test message from")
