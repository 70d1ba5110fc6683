"""Uptime comes from recorded status history, weighted by the rule the page prints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from statuspage.extensions import db
from statuspage.models import Component, ComponentStatus
from statuspage.publishing.snapshot import publish
from statuspage.publishing.uptime import DAYS, RULE, compute, format_percent, load_uptime
from tests.public.conftest import history

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LONG_AGO = AT - timedelta(days=400)
DAY = 86400.0


def day(uptime, when: datetime):
    return next(d for d in uptime.days if d.day == when.date())


def test_major_outage_counts_fully_and_partial_outage_counts_thirty_percent():
    major = AT - timedelta(days=10)
    partial = AT - timedelta(days=5)
    uptime = compute(
        LONG_AGO,
        [
            (major.replace(hour=1), ComponentStatus.MAJOR_OUTAGE),
            (major.replace(hour=3), ComponentStatus.OPERATIONAL),
            (partial.replace(hour=2), ComponentStatus.PARTIAL_OUTAGE),
            (partial.replace(hour=12), ComponentStatus.OPERATIONAL),
        ],
        ComponentStatus.OPERATIONAL,
        AT,
    )
    assert len(uptime.days) == DAYS
    assert uptime.days[-1].day == AT.date() and uptime.days[0].day == (AT - timedelta(89)).date()
    assert day(uptime, major).percent == pytest.approx(100 * (1 - 7200 / DAY))
    assert day(uptime, major).worst == ComponentStatus.MAJOR_OUTAGE
    assert day(uptime, partial).percent == pytest.approx(100 * (1 - 0.3 * 36000 / DAY))
    covered = 89 * DAY + 12 * 3600  # today counts up to now
    assert uptime.percent == pytest.approx(100 * (1 - (7200 + 0.3 * 36000) / covered))


def test_degraded_performance_and_maintenance_are_not_down_time():
    start = (AT - timedelta(days=3)).replace(hour=0)
    uptime = compute(
        LONG_AGO,
        [
            (start, ComponentStatus.DEGRADED_PERFORMANCE),
            (start + timedelta(hours=6), ComponentStatus.UNDER_MAINTENANCE),
            (start + timedelta(hours=9), ComponentStatus.OPERATIONAL),
        ],
        ComponentStatus.OPERATIONAL,
        AT,
    )
    assert uptime.percent == 100.0
    assert day(uptime, start).worst == ComponentStatus.DEGRADED_PERFORMANCE
    assert [(s, m) for s, m in day(uptime, start).notes] == [
        (ComponentStatus.DEGRADED_PERFORMANCE, 360),
        (ComponentStatus.UNDER_MAINTENANCE, 180),
    ]


def test_an_outage_across_midnight_is_split_between_the_two_days():
    evening = (AT - timedelta(days=2)).replace(hour=22)
    uptime = compute(
        LONG_AGO,
        [
            (evening, ComponentStatus.MAJOR_OUTAGE),
            (evening + timedelta(hours=4), ComponentStatus.OPERATIONAL),
        ],
        ComponentStatus.OPERATIONAL,
        AT,
    )
    assert day(uptime, evening).down == pytest.approx(7200)
    assert day(uptime, evening + timedelta(days=1)).down == pytest.approx(7200)


def test_days_before_a_component_existed_have_no_data():
    created = AT - timedelta(days=2, hours=12)
    uptime = compute(created, [], ComponentStatus.OPERATIONAL, AT)
    assert [d.has_data for d in uptime.days[-4:]] == [False, True, True, True]
    assert uptime.percent == 100.0
    assert format_percent(compute(AT, [], ComponentStatus.OPERATIONAL, AT).percent) == "no data"


def test_any_down_time_never_rounds_up_to_a_perfect_score():
    assert format_percent(99.9999) == "99.99%"
    assert format_percent(100.0) == "100.00%"


def test_uptime_is_read_from_the_status_history_in_the_database(app, components):
    api = db.session.get(Component, components["API"])
    api.created_at = LONG_AGO
    outage = AT - timedelta(days=20)
    history(
        api,
        (AT - timedelta(days=200), ComponentStatus.PARTIAL_OUTAGE),  # still partial at window start
        (AT - timedelta(days=89), ComponentStatus.OPERATIONAL),
        (outage.replace(hour=6), ComponentStatus.MAJOR_OUTAGE),
        (outage.replace(hour=12), ComponentStatus.OPERATIONAL),
    )
    db.session.commit()
    uptime = load_uptime([api], AT)[api.id]
    first = uptime.days[0]
    assert first.durations[ComponentStatus.PARTIAL_OUTAGE] == pytest.approx(12 * 3600)
    assert day(uptime, outage).down == pytest.approx(6 * 3600)
    assert day(uptime, outage + timedelta(days=1)).down == 0


def test_the_page_shows_the_percentage_and_the_rule(app, client, components):
    api = db.session.get(Component, components["API"])
    api.created_at = datetime.now(UTC) - timedelta(days=120)
    yesterday = datetime.now(UTC).replace(hour=0, minute=0, second=0) - timedelta(days=1)
    history(
        api,
        (yesterday, ComponentStatus.MAJOR_OUTAGE),
        (yesterday + timedelta(hours=1), ComponentStatus.OPERATIONAL),
    )
    publish()
    doc = lxml.html.fromstring(client.get("/").data)
    row = next(r for r in doc.cssselect("li.component") if "API" in r.text_content())
    bars = row.cssselect(".bars li")
    assert len(bars) == DAYS
    assert bars[-2].get("class") == "major_outage"
    assert "Major outage 60 min" in bars[-2].get("title")
    assert row.cssselect(".pct")[0].text_content().endswith("% uptime")
    assert row.cssselect(".pct")[0].text_content() != "100.00% uptime"
    assert "1 day with incidents" in row.cssselect(".outage-days summary")[0].text_content()
    assert doc.cssselect(".rule")[0].text_content() == RULE


def test_days_kept_from_an_earlier_publish_give_what_a_fresh_computation_gives(app, components):
    """Closed days are computed once and reused; a change today, or a row that lands in
    a past day, gives the figures a process computing everything afresh gives."""
    from statuspage.publishing import uptime as module

    api = db.session.get(Component, components["API"])
    api.created_at = LONG_AGO
    outage = AT - timedelta(days=3)
    history(
        api,
        (outage.replace(hour=6), ComponentStatus.MAJOR_OUTAGE),
        (outage.replace(hour=7), ComponentStatus.OPERATIONAL),
    )
    db.session.commit()

    def both(at: datetime) -> tuple[list, list]:
        kept = load_uptime([api], at)[api.id]
        module._closed.clear()
        module._before.clear()
        fresh = load_uptime([api], at)[api.id]
        return [vars(d) for d in kept.days], [vars(d) for d in fresh.days]

    load_uptime([api], AT)
    history(api, (AT.replace(hour=9), ComponentStatus.PARTIAL_OUTAGE))
    db.session.commit()
    kept, fresh = both(AT + timedelta(hours=1))
    assert kept == fresh and kept[-1]["durations"][ComponentStatus.PARTIAL_OUTAGE] > 0
    history(api, (outage.replace(hour=20), ComponentStatus.DEGRADED_PERFORMANCE))
    db.session.commit()
    kept, fresh = both(AT + timedelta(hours=2))
    assert kept == fresh
    assert ComponentStatus.DEGRADED_PERFORMANCE in kept[-4]["durations"]
