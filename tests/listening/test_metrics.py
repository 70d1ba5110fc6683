"""Response times in the admin (per day and channel, with a chart) and the Prometheus
endpoint: off unless a token is set, then only for that bearer token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from statuspage.extensions import db
from statuspage.listening import inbox, response_times
from statuspage.listening.inbox import Found
from statuspage.models import InboxItem
from tests.channels.helpers import open_incident
from tests.listening.conftest import listen_on_x
from tests.signin import sign_in

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def answered_after(item_id: int, posted: datetime, minutes: float | None) -> None:
    sent = posted + timedelta(minutes=minutes) if minutes is not None else None
    db.session.execute(
        update(InboxItem)
        .where(InboxItem.id == item_id)
        .values(posted_at=posted, first_response_at=sent)
    )
    db.session.commit()


def seed(channel) -> None:
    """Yesterday: answers after 2, 10 and 90 minutes on X; today: a report answered after
    30 minutes, and an unanswered post."""
    inbox.store(channel, "mentions", [Found(str(n), f"post {n}", NOW) for n in range(4)])
    ids = [i.id for i in db.session.scalars(db.select(InboxItem).order_by(InboxItem.id))]
    yesterday = NOW - timedelta(days=1)
    for item_id, minutes in zip(ids[:3], (2, 10, 90), strict=True):
        answered_after(item_id, yesterday, minutes)
    answered_after(ids[3], NOW - timedelta(hours=2), None)
    report = inbox.add_report(text="slow", component_id=None, email=None)
    answered_after(report.id, NOW - timedelta(hours=1), 30)


def test_response_times_per_day_and_channel(app, wired):
    channel = listen_on_x()
    seed(channel)
    report = response_times.report(days=7, at=NOW)
    assert [d.isoformat() for d, _ in report.days][-2:] == ["2026-11-23", "2026-11-24"]
    yesterday, today = report.days[-2][1], report.days[-1][1]
    assert (yesterday.received, yesterday.answered) == (3, 3)
    assert (yesterday.median, yesterday.p90) == (600.0, 5400.0)
    assert (today.received, today.answered, today.median) == (2, 1, 1800.0)
    channels = {d.label: d for d in report.channels}
    assert set(channels) == {"x test (X)", "Problem reports"}
    assert channels["x test (X)"].within_hour == 2 / 4
    assert report.overall.answered == 4 and report.overall.received == 5

    chart = response_times.chart(report.days)
    assert len(chart.bars) == 7 and chart.ticks[-1][1] == "2.0 h"  # the axis rounds up
    tallest = chart.bars[-2]
    assert tallest.p90_y < tallest.median_y < chart.baseline
    assert chart.bars[0].median_y == chart.baseline  # an empty day draws nothing


def test_an_unanswered_post_counts_as_a_miss_only_once_older_than_an_hour(app, wired):
    channel = listen_on_x()
    inbox.store(channel, "mentions", [Found(str(n), f"post {n}", NOW) for n in range(2)])
    answered, waiting = [i.id for i in db.session.scalars(db.select(InboxItem))]
    answered_after(answered, NOW - timedelta(hours=3), 20)
    answered_after(waiting, NOW - timedelta(minutes=8), None)
    assert response_times.report(days=1, at=NOW).overall.within_hour == 1.0
    answered_after(waiting, NOW - timedelta(minutes=61), None)
    assert response_times.report(days=1, at=NOW).overall.within_hour == 0.5


def test_the_admin_shows_the_distribution_as_a_chart(app, client, cast, wired):
    seed(listen_on_x())
    sign_in(client, "vera@example.com")
    page = client.get("/admin/inbox/response-times").get_data(as_text=True)
    assert "<svg" in page and page.count("<rect") == 14
    assert re.search(r"4 of 5 answered; median <strong>\d+ min</strong>", page)
    assert "1 item still waits for a first answer" in page


def scrape(client, token: str | None = "s3cret-metrics"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers)


def test_metrics_are_off_without_a_token_and_need_it_when_on(app, client):
    app.config["METRICS_TOKEN"] = None
    assert scrape(client).status_code == 404
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    assert scrape(client, None).status_code == 401
    refused = scrape(client, "wrong")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert scrape(client).status_code == 200


def test_metrics_export_response_times_latency_and_queue_depth(app, client, wired, components):
    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    seed(listen_on_x())
    open_incident({components["API"]: "major_outage"})  # one page delivery, pending
    response = scrape(client)
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    assert response.headers["Cache-Control"] == "no-store"
    openmetrics = client.get(
        "/metrics",
        headers={
            "Authorization": "Bearer s3cret-metrics",
            "Accept": "application/openmetrics-text",
        },
    )
    assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
    assert openmetrics.get_data(as_text=True).rstrip().endswith("# EOF")
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}

    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for s in families["statuspage_inbox_first_response_seconds"].samples
    }
    x = (("channel", "x"),)
    assert samples[("statuspage_inbox_first_response_seconds_count", x)] == 3
    assert samples[("statuspage_inbox_first_response_seconds_sum", x)] == 102 * 60
    assert samples[("statuspage_inbox_first_response_seconds_bucket", (*x, ("le", "900.0")))] == 2
    assert samples[("statuspage_inbox_first_response_seconds_bucket", (*x, ("le", "+Inf")))] == 3
    report = (("channel", "report"),)
    assert samples[("statuspage_inbox_first_response_seconds_count", report)] == 1

    depth = {
        tuple(sorted(s.labels.items())): s.value
        for s in families["statuspage_outbox_deliveries"].samples
    }
    assert depth[(("state", "pending"), ("transport", "page"))] == 1
    items = {
        tuple(sorted(s.labels.items())): s.value for s in families["statuspage_inbox_items"].samples
    }
    assert items[(("channel", "x"), ("state", "new"))] == 4
    assert "statuspage_outbox_delivery_latency_seconds" in families
    assert "statuspage_outbox_oldest_due_seconds" in families


def latency_count(client) -> float:
    text = scrape(client).get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        if family.name == "statuspage_outbox_delivery_latency_seconds":
            return sum(s.value for s in family.samples if s.name.endswith("_count"))
    return 0


def test_delivery_latency_is_a_running_total_counting_each_row_once(
    app, client, components, monkeypatch
):
    from statuspage import metrics
    from statuspage.lib.clock import now
    from statuspage.models import Delivery, DeliveryState

    app.config["METRICS_TOKEN"] = "s3cret-metrics"
    open_incident()
    sent = now() - timedelta(minutes=10)
    db.session.execute(
        update(Delivery).values(
            state=DeliveryState.SENT, created_at=sent - timedelta(seconds=3), sent_at=sent
        )
    )
    db.session.commit()
    assert latency_count(client) == 1
    assert latency_count(client) == 1  # scraped again: not counted twice

    open_incident(name="Second")
    db.session.execute(
        update(Delivery)
        .where(Delivery.sent_at.is_(None))
        .values(state=DeliveryState.SENT, sent_at=now())
    )
    db.session.commit()
    assert latency_count(client) == 1  # sent under a minute ago: it may still be committing
    later = now() + timedelta(minutes=2)
    monkeypatch.setattr(metrics, "now", lambda: later)
    assert latency_count(client) == 2
