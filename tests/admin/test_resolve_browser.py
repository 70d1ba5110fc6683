"""Resolving means one thing in real Chromium: the "Post update" form with status Resolved
and the "Resolve incident" button both return affected components to operational, and X,
Mastodon and email announce the components as operational, not as still failing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from statuspage.extensions import db
from statuspage.models import Component, SubscriberKind
from tests.browser import artifact, chromium
from tests.channels.helpers import deliver, open_incident, rows
from tests.conftest import PASSWORD
from tests.fakes.fixtures import add_subscriber, connect
from tests.live import live_server

pytestmark = pytest.mark.browser
READER = "reader@example.net"


def _statuses() -> dict[str, str]:
    db.session.expire_all()
    found = {c.name: str(c.status) for c in db.session.scalars(db.select(Component))}
    db.session.commit()
    return found


def _deliver_all() -> None:
    for row in rows():
        if row.state == "pending":
            deliver(row)


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("Email").fill("rob@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/(\?.*)?$"))


def _announced(wired, count: int) -> dict[str, str]:
    """The newest message each fake received, after ``count`` of them."""
    assert len(wired["x"].tweets) == count and len(wired["mastodon"].statuses) == count
    mails = wired["smtp"].to(READER)
    assert len(mails) == count
    return {
        "x": wired["x"].tweets[-1]["text"],
        "mastodon": re.sub(r"<[^>]+>", " ", wired["mastodon"].statuses[-1]["content"]),
        "email": mails[-1].part("plain"),
    }


@pytest.mark.parametrize("backend", ["postgresql"])
def test_both_resolve_paths_return_components_and_say_so(app, cast, components, wired):
    connect(wired, "x", "mastodon", "smtp")
    add_subscriber(SubscriberKind.EMAIL, READER)
    by_form = open_incident(
        {components["API"]: "partial_outage", components["Website"]: "degraded_performance"},
        name="Slow API",
    )
    by_button = open_incident({components["Dashboard"]: "major_outage"}, name="Dashboard down")
    _deliver_all()
    assert _statuses()["API"] == "partial_outage"

    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        _sign_in(page, base)

        page.goto(f"{base}/admin/incidents/{by_form.id}")
        pickers = page.locator("select[id^=component-]")
        assert all(v == "" for v in pickers.evaluate_all("els => els.map(e => e.value)"))
        page.get_by_label("Status", exact=True).select_option("resolved")
        page.get_by_label("Message (Markdown)").fill("Fixed; the API answers normally.")
        page.get_by_role("button", name="Post update").click()
        page.wait_for_url(f"**/admin/incidents/{by_form.id}")
        assert page.locator("#incident-status").inner_text() == "Resolved"
        page.screenshot(path=artifact("resolve-by-form.png"), full_page=True)

        statuses = _statuses()
        assert statuses["API"] == statuses["Website"] == "operational"
        _deliver_all()
        for channel, text in _announced(wired, 3).items():
            assert text.startswith("Resolved"), channel
            assert "outage" not in text and "degraded" not in text.lower(), (channel, text)
            assert re.search(r"API:? \(?operational", text, re.IGNORECASE), (channel, text)

        page.goto(f"{base}/admin/incidents/{by_button.id}")
        page.get_by_label("Resolution message").fill("The dashboard loads again.")
        page.get_by_role("button", name="Resolve incident").click()
        page.wait_for_url(f"**/admin/incidents/{by_button.id}")
        assert page.locator("#incident-status").inner_text() == "Resolved"

        assert _statuses()["Dashboard"] == "operational"
        _deliver_all()
        for channel, text in _announced(wired, 4).items():
            assert text.startswith("Resolved") and "Dashboard down" in text, channel
            assert "outage" not in text, (channel, text)
            assert re.search(r"Dashboard:? \(?operational", text, re.IGNORECASE), (channel, text)
