"""Message fitting and counting, the outbound HTTP guard, signatures and redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from statuspage.lib import http
from statuspage.lib.crypto import verify_webhook_signature, webhook_signature
from statuspage.messages import (
    ComponentFact,
    MessageFacts,
    fit,
    mastodon_length,
    plain_text,
    render,
    x_length,
)
from statuspage.models import ComponentStatus, Impact, IncidentStatus

URL = "https://status.example.com/incidents/abcdefghijkl#update-abcdefghijkl"


def facts(**overrides) -> MessageFacts:
    values = {
        "incident_id": "abcdefghijkl",
        "incident_name": "Elevated error rates",
        "impact": Impact.CRITICAL,
        "update_id": "abcdefghijkl",
        "status": IncidentStatus.IDENTIFIED,
        "body": "The cause is a bad deploy. " * 30,
        "components": tuple(
            ComponentFact(
                f"c{n}", f"Component {n}", ComponentStatus.OPERATIONAL, ComponentStatus.MAJOR_OUTAGE
            )
            for n in range(3)
        ),
        "next_update_due": datetime(2026, 11, 24, 14, 30, tzinfo=UTC),
        "created_at": datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
        "url": URL,
        "is_first": False,
    }
    values.update(overrides)
    return MessageFacts(**values)


def test_x_counts_links_as_23_and_wide_characters_twice():
    assert x_length("abc") == 3
    assert x_length(f"see {URL}") == 4 + 23
    assert x_length("障害") == 4
    assert mastodon_length(f"障害 {URL}") == 3 + 23


def test_fit_cuts_the_body_first_and_keeps_status_time_and_link(app):
    text = fit("x", facts(), 280, x_length)
    assert x_length(text) <= 280
    assert text.startswith("Identified: Elevated error rates")
    assert "…" in text and "Next update by Nov 24, 2026 14:30 UTC" in text
    assert "Component 2 (major outage)" in text and text.endswith(URL)


def test_fit_then_cuts_components_then_the_title(app):
    many = tuple(
        ComponentFact(
            f"c{n}",
            f"Very long component name {n}",
            ComponentStatus.OPERATIONAL,
            ComponentStatus.PARTIAL_OUTAGE,
        )
        for n in range(20)
    )
    text = fit("x", facts(components=many, incident_name="Outage " * 40), 280, x_length)
    assert x_length(text) <= 280
    lines = text.splitlines()
    assert lines[0].startswith("Identified: Outage") and lines[0].endswith("…")
    assert "Very long component name 0" in text and text.endswith(URL)
    assert "Critical impact · Next update by Nov 24, 2026 14:30 UTC" in text


def test_markdown_becomes_readable_plain_text():
    assert plain_text("**Fixed** the [API](https://x.test)\n\n- one\n- two") == (
        "Fixed the API\n\n• one\n• two"
    )


@pytest.mark.parametrize(
    "address, public",
    [
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("::1", False),
        ("fd00:ec2::254", False),
        ("::ffff:127.0.0.1", False),
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
    ],
)
def test_only_global_addresses_are_public(address, public):
    assert http.is_public_address(address) is public


def test_the_guard_refuses_at_connect_time():
    import requests

    with (
        http.Session(allow_private=False) as session,
        pytest.raises(requests.ConnectionError) as err,
    ):
        session.get("http://127.0.0.1:9/")
    assert "refused: 127.0.0.1 resolves to a non-public address" in str(err.value)
    assert http.check_url("http://localhost/x", allow_private=False) == "must use https"
    assert "non-public" in http.check_url("https://localhost/x", allow_private=False)
    assert http.check_url("https://u:p@example.com/x", allow_private=True)


def test_urls_and_secrets_are_redacted():
    assert (
        http.redact_url("https://hooks.slack.com/services/T1/B2/SECRET?x=1")
        == "https://hooks.slack.com/services/…"
    )
    text = http.redact("failed for https://h.test/a/b/c with token abcd1234", ["abcd1234"])
    assert text == "failed for https://h.test/a/… with token ***"


@pytest.mark.parametrize(
    "headers, seconds",
    [
        ({"Retry-After": "120"}, 120),
        ({"retry-after": "Sat, 01 Jan 2033 00:02:00 GMT"}, 120),
        ({"RateLimit-Reset": "45"}, 45),
        ({"X-RateLimit-Reset": "1988150520"}, 120),  # 2033-01-01T00:02:00Z, epoch seconds
        ({"x-rate-limit-reset": "1988150520"}, 120),
        ({"X-RateLimit-Reset": "2033-01-01T00:02:00.000Z"}, 120),
        ({"X-RateLimit-Reset": "90"}, 90),  # small numbers count from now
        ({"Retry-After": "30", "X-RateLimit-Reset": "2033-01-01T00:01:00Z"}, 60),  # latest
        ({"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, http.MAX_RETRY_AFTER.total_seconds()),
        ({"X-RateLimit-Reset": "2020-01-01T00:00:00Z"}, 0),  # past: now
    ],
)
def test_every_reset_header_form_names_the_same_moment(headers, seconds):
    at = datetime(2033, 1, 1, tzinfo=UTC)
    assert http.reset_at(headers, at) == at + timedelta(seconds=seconds)


@pytest.mark.parametrize("value", ["", "soon", "-5", "nan", "inf", "1e400", "Wed, 99 Foo"])
def test_unreadable_reset_headers_name_no_moment(value):
    assert http.reset_at({"Retry-After": value, "X-RateLimit-Reset": value}) is None


def test_signatures_bind_the_body_and_the_time():
    header = webhook_signature("whsec_x", 1700000000, b'{"a":1}')
    assert verify_webhook_signature("whsec_x", header, b'{"a":1}')
    assert not verify_webhook_signature("whsec_x", header, b'{"a":2}')
    assert not verify_webhook_signature("whsec_x", header.replace("t=17", "t=18"), b'{"a":1}')
    assert not verify_webhook_signature("whsec_x", "garbage", b"{}")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "de",
            [
                "Ursache gefunden: Elevated error rates",
                "Kritische Auswirkungen",
                "(Schwerer Ausfall)",
                "24. Nov. 2026",
            ],
        ),
        ("ja", ["原因特定: Elevated error rates", "致命的な影響", "2026年11月24日 14:30 UTC"]),
        ("ar", ["تم تحديد السبب: Elevated error rates", "تأثير حرج", "14:30 UTC"]),
    ],
)
def test_posts_speak_the_page_language_and_keep_the_operators_words(app, language, words):
    text = fit("x", facts(language=language), 280, x_length)
    assert x_length(text) <= 280 and text.endswith(URL)
    for word in words:
        assert word in text
    assert "The cause is a bad deploy." in text  # as the operator wrote it
    email = render("email", facts(language="fr"), unsubscribe_url="u", manage_url="m")
    assert "Composants concernés :" in email and "Se désabonner : u" in email
    html = render("email.html", facts(language="ar"), unsubscribe_url="u", manage_url="m")
    assert '<html lang="ar" dir="rtl">' in html
    # Operators' alerts stay English whatever the page speaks.
    alert = render("alert", facts(language="de"), text="Overdue", admin_url="a")
    assert "(Identified)" in alert
