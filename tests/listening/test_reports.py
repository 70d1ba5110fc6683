"""The public "Report a problem" form: reports land in the inbox; bad input gets a clear
4xx and nothing harmful is stored."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from statuspage.extensions import db
from statuspage.models import InboxItem, ItemKind
from tests.listening.conftest import items


@pytest.fixture(autouse=True)
def generous_limit(app):
    """Tests that post many reports are not about the limit (one test is)."""
    app.config["REPORT_RATE_LIMIT"] = "100 per minute"


def token(client) -> str:
    html = client.get("/report").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def report(client, **fields):
    return client.post("/report", data={"csrf_token": token(client), **fields})


def stored() -> int:
    return db.session.scalar(select(func.count()).select_from(InboxItem))


def test_a_report_lands_in_the_inbox(app, client, components):
    page = client.get("/report")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Report a problem" in html and f'value="{components["API"]}"' in html

    sent = report(
        client,
        text="  Checkout returns a 500 since 14:02.\r\n\r\nTried twice.  ",
        component=components["API"],
        email="Reader@Example.NET",
    )
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/report/thanks")
    assert b"Your report reached the team" in client.get("/report/thanks").data
    (item,) = items()
    assert item.kind == ItemKind.REPORT and item.channel_id is None and item.source == "form"
    assert item.text == "Checkout returns a 500 since 14:02.\n\nTried twice."
    assert item.component_id == components["API"]
    assert item.contact_email == "reader@example.net" and item.state == "new"
    assert item.author == "anonymous"


def test_empty_and_markup_only_reports_are_refused(app, client):
    for text in ("", "   ", "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"):
        response = report(client, text=text)
        assert response.status_code == 422, text
        assert "describe what is wrong" in response.get_data(as_text=True).lower(), text
    assert stored() == 0


def test_markup_is_removed_from_what_is_stored(app, client):
    sent = report(
        client, text='Login <b>fails</b><script>steal()</script><img src=x onerror="x()">'
    )
    assert sent.status_code == 303
    (item,) = items()
    assert item.text == "Login fails"


def test_a_ten_megabyte_body_is_refused_before_it_is_read(app, client):
    huge = "x" * (10 * 1024 * 1024)
    response = client.post("/report", data={"csrf_token": token(client), "text": huge})
    assert response.status_code == 413
    assert "Report too large" in response.get_data(as_text=True)
    assert stored() == 0


def test_missing_csrf_and_bad_fields_are_refused(app, client, components):
    no_token = client.post("/report", data={"text": "it is down"})
    assert no_token.status_code == 400 and b"Form expired" in no_token.data
    bad_email = report(client, text="it is down", email="not-an-address")
    assert bad_email.status_code == 422 and b"enter a valid email address" in bad_email.data
    unknown = report(client, text="it is down", component="nope00000000")
    assert unknown.status_code == 422 and b"no such component" in unknown.data
    too_long = report(client, text="y" * 5001)
    assert too_long.status_code == 422
    assert stored() == 0


def test_reports_are_rate_limited_per_client(app, client):
    app.config["REPORT_RATE_LIMIT"] = "2 per minute"
    codes = [report(client, text=f"problem {n}").status_code for n in range(4)]
    assert codes == [303, 303, 429, 429]
    limited = report(client, text="one more")
    assert b"Too many reports" in limited.data
    assert stored() == 2


def test_the_published_page_links_to_the_form(app, client, components):
    from statuspage.publishing.snapshot import publish

    publish()
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/report" class="report">Report a problem</a>' in page


def test_control_characters_are_refused_on_the_field(app, client, components):
    response = report(client, text="it is down\u001b[2J")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "must not contain control characters (U+001B)" in page
    nul = report(client, text="down", component="\u0000")
    assert nul.status_code == 422 and "no such component" in nul.get_data(as_text=True)
    assert stored() == 0
    kept = report(client, text="line one\r\nline\ttwo")
    assert kept.status_code == 303
    assert items()[0].text == "line one\nline two"
