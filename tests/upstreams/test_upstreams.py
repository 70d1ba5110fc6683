"""Following a vendor's page: a loopback fake serving a real Statuspage capture, read with
conditional GETs, through a status change and through failures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from statuspage.cli import main
from statuspage.extensions import db
from statuspage.lib.clock import now
from statuspage.models import (
    Component,
    ComponentStatusChange,
    DraftSource,
    IncidentDraft,
    OperatorAlert,
    Upstream,
    UpstreamComponent,
)
from statuspage.publishing.snapshot import publish
from statuspage.upstreams import follow, poll
from tests.channels.helpers import deliver, rows
from tests.fakes.fixtures import connect
from tests.fakes.server import Reply
from tests.fakes.vendor import SUMMARY_PATH
from tests.signin import sign_in

CANVAS = "9dlvqx1drp3d"  # "Canvas" in the "Canvas" group of the capture
CATALOG = "jw0fn0dnpcgn"


def later(upstream_id: int, seconds: float = 1) -> None:
    """Make the upstream due now (a test does not wait out its cadence)."""
    upstream = db.session.get(Upstream, upstream_id)
    upstream.next_poll_at = now() - timedelta(seconds=seconds)
    db.session.commit()


def index_html(app) -> str:
    publish()
    return (Path(app.config["PUBLISH_DIR"]) / "current" / "index.html").read_text()


def test_a_followed_vendor_page_is_mirrored_through_a_status_change(app, components, vendor):
    result = CliRunner().invoke(
        main, ["add-upstream", vendor.summary_url, "--follow", CANVAS, "--follow", CATALOG]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("following Instructure")
    upstream = db.session.scalars(select(Upstream)).one()
    assert [c.display_name for c in upstream.followed] == ["Canvas - Canvas", "Canvas - — Catalog"]
    assert upstream.etag and upstream.last_modified

    html = index_html(app)
    assert "Third-party components" in html
    assert 'href="https://status.instructure.com"' in html
    assert "Canvas - — Catalog" in html

    # Nothing changed at the vendor: a conditional GET answered 304.
    later(upstream.id)
    assert poll.poll_one(upstream.id) == "unchanged"
    assert vendor.received("GET", SUMMARY_PATH)[-1].header("If-None-Match") == upstream.etag

    vendor.set_status(CATALOG, "major_outage")
    later(upstream.id)
    assert poll.poll_one(upstream.id) == "changed"
    db.session.expire_all()
    catalog = db.session.scalars(
        select(UpstreamComponent).where(UpstreamComponent.vendor_id == CATALOG)
    ).one()
    assert catalog.status == "major_outage"
    assert db.session.scalars(select(OperatorAlert)).all() == []  # no channel takes them
    html = index_html(app)
    assert "status-major_outage" in html.split("Third-party components")[1]
    # Our own components and our page's verdict are untouched by the vendor's outage.
    assert "All Systems Operational" in html
    assert {c.status for c in db.session.scalars(select(Component))} == {"operational"}
    assert db.session.scalar(select(func.count()).select_from(ComponentStatusChange)) == 0


def test_a_change_alerts_the_operators_and_can_open_a_draft(app, components, vendor, wired):
    connect(wired, "slack")["slack"].operator_alerts = True
    db.session.commit()
    upstream = follow.add(actor=None, url=vendor.summary_url, follow=[CATALOG])
    upstream.open_drafts = True
    db.session.commit()
    vendor.set_status(CATALOG, "partial_outage")
    later(upstream.id)
    poll.poll_one(upstream.id)
    for row in rows():
        deliver(row)
    change, drafted = sorted(wired["slack"].messages(), key=lambda m: "draft" in m["text"])
    assert (
        "Instructure reports: Canvas - — Catalog is partial outage (was operational)"
        in (change["text"])
    )
    assert f"/admin/upstreams/{upstream.id}" in change["blocks"][0]["text"]["text"]
    draft = db.session.scalars(select(IncidentDraft)).one()
    assert f"/admin/drafts/{draft.id}" in drafted["blocks"][0]["text"]["text"]
    assert draft.source == DraftSource.UPSTREAM and draft.notify is False
    assert "Canvas - — Catalog" in draft.body
    # Subscribers are not notified by default: the draft is not public, and no update exists.
    assert {r.target_kind for r in rows()} == {"alert"}


def test_polling_failures_back_off_show_in_the_admin_and_touch_nothing_of_ours(
    app, client, cast, components, vendor
):
    upstream = follow.add(actor=None, url=vendor.summary_url)
    followed_before = {c.vendor_id: c.status for c in upstream.followed}
    vendor.script("GET", SUMMARY_PATH, Reply(503, body=b"down", headers={"Retry-After": "600"}))
    later(upstream.id)
    at = now()
    assert poll.poll_one(upstream.id, at) == "failed"
    db.session.expire_all()
    upstream = db.session.get(Upstream, upstream.id)
    assert upstream.failures == 1 and "HTTP 503" in upstream.last_error
    assert upstream.next_poll_at >= at + timedelta(seconds=599)
    assert {c.vendor_id: c.status for c in upstream.followed} == followed_before
    assert {c.status for c in db.session.scalars(select(Component))} == {"operational"}

    vendor.script("GET", SUMMARY_PATH, Reply(200, body=b"<html>maintenance</html>"))
    later(upstream.id)
    assert poll.poll_one(upstream.id) == "failed"
    db.session.expire_all()
    upstream = db.session.get(Upstream, upstream.id)
    assert upstream.failures == 2 and upstream.last_error == "the answer is not JSON"
    backoff = upstream.next_poll_at - upstream.last_polled_at
    assert backoff == timedelta(seconds=upstream.poll_seconds * 4)

    sign_in(client, "alice@example.com")
    assert "the answer is not JSON" in client.get(f"/admin/upstreams/{upstream.id}").get_data(
        as_text=True
    )
    assert "Reading Instructure fails" in client.get("/admin/").get_data(as_text=True)

    later(upstream.id)
    assert poll.poll_one(upstream.id) == "unchanged"
    db.session.expire_all()
    assert db.session.get(Upstream, upstream.id).failures == 0


def test_only_a_due_upstream_is_polled_and_by_one_poller(app, components, vendor):
    upstream = follow.add(actor=None, url=vendor.summary_url)
    later(upstream.id, seconds=-3600)  # not due for an hour
    assert poll.poll_due() == {"polled": 0, "changed": 0, "failed": 0}
    later(upstream.id)
    at = now()
    assert poll.poll_one(upstream.id, at) == "unchanged"
    assert poll.poll_one(upstream.id, at) is None  # taken: not due again


def test_a_url_that_is_not_a_summary_is_refused_with_the_reason(app, vendor):
    from statuspage.errors import ValidationError

    for url, reason in (
        (vendor.url + "/nothing-here", "HTTP 404"),
        ("ftp://example.com/summary.json", "must be an http(s) URL"),
    ):
        try:
            follow.add(actor=None, url=url)
        except ValidationError as exc:
            assert reason in exc.errors["summary_url"]
        else:
            raise AssertionError(f"{url} was accepted")
    assert db.session.scalar(select(func.count()).select_from(Upstream)) == 0


def test_an_admin_picks_the_components_shown(app, client, cast, components, vendor):
    upstream = follow.add(actor=None, url=vendor.summary_url, follow=[CANVAS])
    catalog = next(c for c in upstream.components if c.vendor_id == CATALOG)
    sign_in(client, "alice@example.com")
    page = client.get(f"/admin/upstreams/{upstream.id}").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post(
        f"/admin/upstreams/{upstream.id}",
        data={"csrf_token": token, "followed": [str(catalog.id)], "poll_seconds": "60"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    shown = [c.vendor_id for c in db.session.get(Upstream, upstream.id).followed]
    assert shown == [CATALOG]


def test_the_beat_task_reads_the_pages_that_are_due(app, components, vendor):
    from workers import tasks
    from workers.celery_app import celery_app

    assert celery_app.conf.beat_schedule["poll-upstreams"]["task"] == "workers.tasks.poll_upstreams"
    upstream = follow.add(actor=None, url=vendor.summary_url)
    vendor.set_status(CATALOG, "degraded_performance")
    later(upstream.id)
    assert tasks.poll_upstreams() == {"polled": 1, "changed": 1, "failed": 0}
