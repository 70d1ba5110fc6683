"""The compose preview in real Chromium: while an update is typed the incident page shows
what each channel will send, and after posting, the fake X, Mastodon, Slack and SMTP
servers receive exactly that text."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page

from statuspage.extensions import db
from statuspage.messages import mastodon_length, x_length
from statuspage.models import Channel, SubscriberKind
from tests.browser import artifact, chromium
from tests.channels.helpers import deliver, open_incident, rows
from tests.conftest import PASSWORD
from tests.fakes.fixtures import add_subscriber, connect
from tests.live import live_server

pytestmark = pytest.mark.browser
READER = "reader@example.net"
# Long enough that X (280, links 23) and a 200-character Mastodon instance cut it; markup
# characters that Slack must escape; a link that X counts as 23.
BODY = (
    "Fixed: a bad cache rule sent <5% of API calls & logins to an old pool. "
    "Details for engineers: https://example.com/postmortems/2026/11/cache-rule-rollback-notes "
    + "Every region now answers from the new pool and error rates are back to normal. "
    * 3
).strip()


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("Email").fill("rob@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/(\?.*)?$"))


def _settled(page: Page) -> None:
    page.locator("#compose-preview[data-state=waiting]").wait_for(state="detached")
    page.locator("#compose-preview[data-state=ready]").wait_for()


def _card(page: Page, kind: str, part: str = "[data-text]") -> str:
    return page.locator(f"#compose-preview [data-kind={kind}] {part}").text_content() or ""


def _deliver_all() -> None:
    for row in rows():
        if row.state == "pending":
            deliver(row)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_the_preview_is_what_the_channels_receive(app, cast, components, wired):
    wired["mastodon"].max_characters = 200
    connect(wired, "x", "mastodon", "slack", "smtp")
    add_subscriber(SubscriberKind.EMAIL, READER)
    incident = open_incident({components["API"]: "partial_outage"}, name="Slow API")
    _deliver_all()  # the Mastodon worker reads the instance's limit and keeps it
    assert db.session.scalar(db.select(Channel.post_limit).where(Channel.kind == "mastodon")) == 200

    with live_server(app) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 390, "height": 800})
        _sign_in(page, base)
        page.goto(f"{base}/admin/incidents/{incident.id}")
        page.get_by_label("Status", exact=True).select_option("resolved")
        page.get_by_label("Message (Markdown)").fill(BODY)
        _settled(page)

        preview = {kind: _card(page, kind) for kind in ("x", "mastodon", "slack", "email")}
        counted = _card(page, "x", "[data-count]")
        x_cut = _card(page, "x", "[data-cut]")
        subject = _card(page, "email", "[data-subject]")
        payload = json.loads(_card(page, "slack", "[data-payload]"))
        entry = _card(page, "page", ".preview-page")
        status = page.locator("[data-preview-status]")
        assert status.get_attribute("aria-live") == "polite"
        assert "X (Twitter) 279 of 280, shortened" in (status.text_content() or "")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=artifact("compose-preview-390.png"), full_page=True)

        page.get_by_role("button", name="Post update").click()
        page.wait_for_url(f"**/admin/incidents/{incident.id}")
        assert page.locator("#incident-status").inner_text() == "Resolved"

    _deliver_all()
    tweet = wired["x"].tweets[-1]["text"]
    toot = wired["mastodon"].statuses[-1]["content"]
    mail = wired["smtp"].to(READER)[-1]
    assert tweet == preview["x"]
    assert counted.startswith(f"{x_length(tweet)} / 280 ") and x_length(tweet) <= 280
    assert x_cut and x_cut not in tweet and BODY.endswith(x_cut)  # where X cuts the text
    assert toot == preview["mastodon"] and mastodon_length(toot) <= 200
    assert wired["slack"].messages()[-1] == payload
    assert "&lt;5% of API calls &amp; logins" in payload["blocks"][1]["text"]["text"]
    assert preview["slack"].startswith("*Resolved:* Slow API\nFixed: a bad cache rule sent <5%")
    assert mail.message["Subject"] == subject == "[Status] Resolved: Slow API"
    assert mail.part("plain").replace("\r\n", "\n").startswith(preview["email"] + "\n\n--\n")
    assert "API: Operational" in preview["email"]
    assert "Resolved" in entry and "API" in entry and "<5% of API calls" in entry
