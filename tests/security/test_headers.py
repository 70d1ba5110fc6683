"""Security headers on the admin, the app-served public pages and the published snapshot."""

from __future__ import annotations

import pytest

from statuspage import create_app
from statuspage.incidents import service
from statuspage.publishing.snapshot import publish
from tests.browser import chromium
from tests.conftest import PASSWORD
from tests.live import live_server
from tests.signin import sign_in


def assert_no_framing_or_sniffing(response) -> None:
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy


def test_admin_pages_are_never_cached_framed_or_sniffed(client, cast):
    login = client.get("/admin/login")
    assert_no_framing_or_sniffing(login)
    assert login.headers["Cache-Control"] == "no-store"
    assert login.headers["Referrer-Policy"] == "same-origin"
    sign_in(client, "alice@example.com")
    for path in ("/admin/", "/admin/inbox", "/admin/users", "/admin/no-such-page"):
        response = client.get(path)
        assert_no_framing_or_sniffing(response)
        assert response.headers["Cache-Control"] == "no-store", path


def test_app_served_public_pages_send_a_strict_policy(client, components):
    publish()
    for path in ("/subscribe", "/report"):
        response = client.get(path)
        assert_no_framing_or_sniffing(response)
        assert response.headers["Referrer-Policy"] in (
            "no-referrer",
            "strict-origin-when-cross-origin",
        )


def test_the_published_snapshot_is_not_framed_or_sniffed(client, components):
    publish()
    page = client.get("/")
    assert_no_framing_or_sniffing(page)
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert client.get("/api/v2/summary.json").headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_is_sent_only_when_the_base_url_is_https(app):
    assert "Strict-Transport-Security" not in app.test_client().get("/admin/login").headers
    secure = create_app({"TESTING": True, "BASE_URL": "https://status.example.com"})
    response = secure.test_client().get("/admin/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


# Registered before any page script runs; CSP does not apply to scripts the browser's
# automation injects, so it observes the page without loosening the policy.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
def test_no_admin_or_public_page_breaks_its_content_security_policy(app, cast, components):
    incident = service.open_incident(actor=None, name="Edge errors", impact="minor", body="x")
    publish()
    pages = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
        and "GET" in (rule.methods or ())
        and not rule.arguments
        and rule.endpoint not in ("admin.logout",)
        and "." not in rule.rule.rsplit("/", 1)[-1]  # a file to download, not a page
    )
    pages += [f"/admin/incidents/{incident.id}", "/subscribe", "/report", "/", "/history"]
    with live_server(app) as base, chromium() as browser:
        page = browser.new_page()
        page.add_init_script(WATCH_VIOLATIONS)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/admin/login")
        page.get_by_label("Email").fill("alice@example.com")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{base}/admin/")
        seen = {}
        for path in pages:
            page.goto(base + path)
            seen[path] = page.evaluate("window.__violations")
        assert {p: v for p, v in seen.items() if v} == {}
        assert [e for e in errors if "Content Security Policy" in e] == []
        # The watcher sees what the policy blocks: an inline style is refused and reported.
        page.evaluate(
            "document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')"
        )
        page.wait_for_function("window.__violations.length > 0")
        assert page.evaluate("window.__violations")[0].startswith("style-src")
