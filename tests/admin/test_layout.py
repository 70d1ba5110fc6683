"""Every admin page fits a phone and a laptop: opened in real Chromium at 390 and 1280 px
with long names and unbroken strings on it, no document is wider than its viewport.

The pages are the admin blueprint's GET routes, so a new page is checked without being
listed here; a route with an argument the showcase has no value for fails the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser import artifact, chromium
from tests.conftest import PASSWORD
from tests.fakes.vendor import FakeVendorPage
from tests.live import live_server
from tests.showcase import seed

pytestmark = pytest.mark.browser

WIDTHS = (390, 1280)
SIGNED_OUT = {"admin.login", "admin.login_code"}
# Where an element sticks out, for the failure message; scroll containers hide theirs.
MEASURE = """() => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.querySelectorAll("main *, header *")) {
    if (el.closest(".table-wrap") && !el.classList.contains("table-wrap")) continue;
    const right = el.getBoundingClientRect().right;
    if (right > width + 0.5 && wide.length < 4) {
      const cls = typeof el.className === "string" && el.className.trim()
        ? "." + el.className.trim().split(/\\s+/).join(".") : "";
      const name = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + cls;
      wide.push(name + " to " + Math.round(right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide};
}"""


@pytest.fixture
def vendor() -> Iterator[FakeVendorPage]:
    server = FakeVendorPage().start()
    yield server
    server.stop()


def admin_pages(app: Flask, samples: dict[Any, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    """(endpoint, path) of every admin GET route, and the arguments nothing fills."""
    pages, missing = [], []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("admin.") or "GET" not in (rule.methods or ()):
                continue
            if "." in rule.rule.rsplit("/", 1)[-1]:
                continue  # a file to download (subscribers.csv), not a page
            choices: list[dict[str, Any]] = [{}]
            for arg in sorted(rule.arguments):
                value = samples.get((rule.endpoint, arg), samples.get(arg))
                if value is None:
                    missing.append(f"{rule.endpoint}: {arg}")
                    break
                values = value if isinstance(value, list) else [value]
                choices = [dict(c, **{arg: v}) for c in choices for v in values]
            else:
                builder = app.url_map.bind("localhost", script_name="")
                pages += [(rule.endpoint, builder.build(rule.endpoint, c)) for c in choices]
    return sorted(pages), missing


def measure(page, base: str, path: str) -> dict[str, Any]:
    response = page.goto(base + path)
    assert response is not None and response.status < 500, path
    return page.evaluate(MEASURE)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_admin_page_is_wider_than_a_phone_or_a_laptop(app, cast, components, wired, vendor):
    samples = seed(cast, components, wired, vendor.summary_url)
    pages, missing = admin_pages(app, samples)
    assert not missing, f"no sample value in tests/showcase.py for {missing}"
    assert len(pages) > 30
    too_wide: list[str] = []
    widths: dict[str, int] = {}
    with live_server(app) as base, chromium() as browser:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            for endpoint, path in pages:
                if endpoint in SIGNED_OUT:
                    found = measure(page, base, path)
                    widths[f"{width} {endpoint}"] = found["scroll"]
                    if found["scroll"] > found["width"]:
                        too_wide.append(f"{width}px {path}: {found}")
            page.goto(base + "/admin/login")
            page.get_by_label("Email").fill("alice@example.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(base + "/admin/")
            for endpoint, path in pages:
                if endpoint in SIGNED_OUT:
                    continue
                found = measure(page, base, path)
                widths[f"{width} {endpoint}"] = found["scroll"]
                if found["scroll"] > found["width"]:
                    too_wide.append(f"{width}px {path}: {found}")
            context.close()
    with open(artifact("admin-widths.json"), "w") as out:
        json.dump(widths, out, indent=1)
    assert not too_wide, "\n".join(too_wide)
