"""Every page customers and operators use, checked by axe-core (WCAG 2.1 A and AA rules)
in real Chromium, in the light and in the dark colour scheme.

axe catches what can be checked mechanically (contrast, names, labels, landmarks, ARIA);
keyboard use and the page without JavaScript are covered by the page tests.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from statuspage import branding
from statuspage.incidents import maintenance, service
from statuspage.integrations import intake, payloads, registry
from statuspage.lib.clock import now
from statuspage.models import IntegrationKind
from statuspage.publishing.snapshot import publish
from tests.admin.test_branding import png
from tests.browser import chromium
from tests.conftest import PASSWORD
from tests.fakes.fixtures import connect
from tests.live import live_server

WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def story(app, cast, components, wired) -> dict[str, str]:
    """A page with something on it: every channel connected, an open incident with an
    edited update, a resolved one with a postmortem, and an upcoming maintenance."""
    connect(wired)
    responder = cast["responder"]
    open_one = service.open_incident(
        actor=responder,
        name="Payments are failing",
        impact="critical",
        body="We are **investigating** failed card payments.",
        components={
            components["API"]: "major_outage",
            components["Website"]: "degraded_performance",
        },
    )
    update = service.post_update(
        actor=responder, incident_id=open_one.id, status="identified", body="A faulty deploy."
    )
    service.edit_update(actor=responder, update_id=update.id, body="A faulty deploy of the API.")
    closed = service.open_incident(
        actor=responder, name="Slow dashboard", impact="minor", body="Looking into it."
    )
    service.resolve(actor=responder, incident_id=closed.id, body="Fixed.")
    service.publish_postmortem(
        actor=responder, incident_id=closed.id, body="## What happened\n\nA cache expired."
    )
    start = now() + timedelta(days=1)
    maintenance.schedule(
        actor=responder,
        name="Database upgrade",
        body="Planned work.",
        scheduled_for=start,
        scheduled_until=start + timedelta(hours=2),
        components=[components["API"]],
    )
    integration, _ = registry.create(actor=None, kind="alertmanager", name="Production")
    rule = registry.save_rule(
        actor=None,
        integration_id=integration.id,
        fields={
            "name": "API errors",
            "matchers": 'service="api"',
            "mode": "draft",
            "component_status": "partial_outage",
            "impact": "major",
            "component_ids": [components["API"]],
        },
    )
    firing = Path(__file__).parent.parent / "fixtures" / "alerts" / "alertmanager_firing.json"
    alerts = payloads.parse(IntegrationKind.ALERTMANAGER, firing.read_bytes())
    (draft,) = intake.receive(integration.id, alerts).drafts
    branding.save(  # the page as a customer brands it: axe checks it branded
        actor=None,
        colour="#0a3069",
        links="Documentation | https://docs.example.com/\nSupport | https://help.example.com/",
        css=".banner h1 { letter-spacing: .01em }",
        logo=png(),
    )
    publish()
    return {
        "open": open_one.id,
        "closed": closed.id,
        "integration": str(integration.id),
        "rule": str(rule.id),
        "draft": draft,
    }


def violations(page) -> list[str]:
    result = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result.response["violations"]
    ]


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_public_and_admin_pages_pass_axe(app, story, scheme):
    month = now().strftime("%Y-%m")
    public = [
        "/",
        f"/incidents/{story['open']}",
        f"/incidents/{story['closed']}",
        "/history",
        f"/history/{month}",
        "/subscribe",
        "/report",
        "/admin/login",
    ]
    admin = [
        "/admin/",
        f"/admin/incidents/{story['open']}",
        "/admin/incidents/new",
        "/admin/maintenance",
        "/admin/components",
        "/admin/inbox",
        "/admin/channels",
        "/admin/users",
        "/admin/audit",
        "/admin/settings",
        "/admin/integrations",
        f"/admin/integrations/{story['integration']}",
        f"/admin/integrations/rules/{story['rule']}",
        "/admin/drafts",
        f"/admin/drafts/{story['draft']}",
        "/admin/upstreams",
    ]
    found: dict[str, list[str]] = {}
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        for path in public:
            assert page.goto(base + path).status == 200, path
            found[path] = violations(page)
        page.goto(base + "/admin/login")
        page.get_by_label("Email").fill("alice@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(base + "/admin/")
        for path in admin:
            assert page.goto(base + path).status == 200, path
            found[path] = violations(page)
        context.close()
    failing = {path: problems for path, problems in found.items() if problems}
    assert not failing, "\n".join(f"{p}: {v}" for p, vs in failing.items() for v in vs)


@pytest.mark.browser
def test_the_language_switcher_works_and_every_language_passes_axe(app, story):
    """The visible switcher moves the reader between languages on the same page, and the
    right-to-left page is as accessible as the others."""
    found: dict[str, list[str]] = {}
    with live_server(app) as base, chromium() as browser:
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.goto(base + f"/incidents/{story['open']}")
        page.get_by_role("navigation", name="Language").get_by_role("link", name="Deutsch").click()
        page.wait_for_url(base + f"/de/incidents/{story['open']}")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.get_by_role("heading", name="Updates").is_visible()
        assert page.get_by_text("Payments are failing").first.is_visible()  # as written
        found["de"] = violations(page)
        switcher = page.get_by_role("navigation", name="Sprache")
        assert switcher.get_by_role("link", name="Deutsch").get_attribute("aria-current") == "page"
        switcher.get_by_role("link", name="العربية").click()
        page.wait_for_url(base + f"/ar/incidents/{story['open']}")
        assert page.locator("html").get_attribute("dir") == "rtl"
        # Logical properties: the timeline's rule sits on the reading side, the right.
        side = page.locator(".timeline > li").first.evaluate(
            "el => [getComputedStyle(el).borderRightWidth, getComputedStyle(el).borderLeftWidth]"
        )
        assert side == ["2px", "0px"]
        found["ar"] = violations(page)
        page.get_by_role("navigation", name="اللغة").get_by_role("link", name="日本語").click()
        page.wait_for_url(base + f"/ja/incidents/{story['open']}")
        found["ja"] = violations(page)
        page.goto(base + "/subscribe?lang=ar")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.get_by_role("heading", name="اشترك في التحديثات").is_visible()
        found["subscribe ar"] = violations(page)
        context.close()
        german = browser.new_context(locale="de-DE")
        page = german.new_page()
        page.goto(base + "/")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.get_by_role("heading", name="Aktuelle Störungen").is_visible()
        german.close()
    failing = {path: problems for path, problems in found.items() if problems}
    assert not failing, "\n".join(f"{p}: {v}" for p, vs in failing.items() for v in vs)
