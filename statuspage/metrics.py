"""Prometheus metrics at ``/metrics``, read from the database at scrape time.

Web processes, workers and beat run apart (and many of each), so no process holds the
figures in memory: every scrape reads them from the database, and every web process gives
the same answer. Histograms are cumulative over all recorded rows, as Prometheus expects.
The delivery latency histogram covers every delivery ever sent, far too many rows to
aggregate per scrape, so it is kept as a running total (``MetricRollup``): a scrape adds
only the rows sent since the last one, up to a minute ago so that no row still being
committed is skipped.

The endpoint is off unless ``STATUSPAGE_METRICS_TOKEN`` is set (404), and then answers
only ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from statuspage.extensions import db
from statuspage.incidents import first_post
from statuspage.lib.clock import now
from statuspage.listening import sources
from statuspage.models import Delivery, DeliveryState, InboxItem, Incident, MetricRollup

bp = Blueprint("metrics", __name__)

RESPONSE_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400)
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
WAITING = (DeliveryState.PENDING, DeliveryState.FAILED)
UNFINISHED = tuple(s for s in DeliveryState if s != DeliveryState.SENT)
LATENCY_ROLLUP = "outbox_delivery_latency"
ROLLUP_LAG = timedelta(minutes=1)  # a delivery commits within moments of its sent_at
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Totals = dict[str, dict[str, Any]]  # label value -> {"buckets": [...], "count", "sum"}


def seconds_between(start: Any, end: Any) -> ColumnElement[float]:
    """``end - start`` in seconds, in SQL: both databases store UTC without a zone."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    # julianday's doubles drift by microseconds; round to whole milliseconds.
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def _aggregate(
    key: Any, seconds: ColumnElement[float], buckets: Sequence[float], *where: Any
) -> Totals:
    """One SQL pass: per ``key``, the count at or below each bucket, the total and sum."""
    seconds = case((seconds < 0, 0.0), else_=seconds)
    columns = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in buckets]
    rows = db.session.execute(
        select(key, func.count(), func.sum(seconds), *columns).where(*where).group_by(key)
    ).all()
    return {
        str(value or "none"): {
            "buckets": [int(c or 0) for c in cumulative],
            "count": int(count),
            "sum": float(total or 0),
        }
        for value, count, total, *cumulative in rows
    }


def _family(
    name: str, documentation: str, label: str, totals: Totals, buckets: Sequence[float]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=[label])
    for value, t in sorted(totals.items()):
        pairs = [(str(float(b)), c) for b, c in zip(buckets, t["buckets"], strict=True)]
        family.add_metric([value], [*pairs, ("+Inf", t["count"])], t["sum"])
    return family


def _merge(old: Totals, new: Totals) -> Totals:
    merged = {k: {**v, "buckets": list(v["buckets"])} for k, v in old.items()}
    for key, t in new.items():
        into = merged.setdefault(key, {"buckets": [0] * len(t["buckets"]), "count": 0, "sum": 0})
        into["buckets"] = [a + b for a, b in zip(into["buckets"], t["buckets"], strict=True)]
        into["count"] += t["count"]
        into["sum"] += t["sum"]
    return merged


def latency_totals() -> Totals:
    """The running delivery latency totals, brought up to a minute ago. Concurrent scrapes
    move the watermark with a conditional UPDATE: one wins, the others read its result,
    and no row is ever counted twice."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(MetricRollup.__table__)
        .values(name=LATENCY_ROLLUP, data={}, watermark=EPOCH)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    row = db.session.get(MetricRollup, LATENCY_ROLLUP, populate_existing=True)
    assert row is not None
    upto = now() - ROLLUP_LAG
    if row.watermark >= upto:
        db.session.commit()
        return row.data
    fresh = _aggregate(
        Delivery.transport,
        seconds_between(Delivery.created_at, Delivery.sent_at),
        LATENCY_BUCKETS,
        Delivery.state == DeliveryState.SENT,
        Delivery.sent_at > row.watermark,
        Delivery.sent_at <= upto,
    )
    merged = _merge(row.data, fresh)
    moved = db.session.execute(
        update(MetricRollup)
        .where(MetricRollup.name == LATENCY_ROLLUP, MetricRollup.watermark == row.watermark)
        .values(data=merged, watermark=upto)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if moved.rowcount == 1:
        return merged
    return db.session.get(MetricRollup, LATENCY_ROLLUP, populate_existing=True).data


class StatuspageCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield _family(
            "statuspage_inbox_first_response_seconds",
            "Time from a customer's post or report to our first reply sent.",
            "channel",
            _aggregate(
                InboxItem.kind,
                seconds_between(InboxItem.posted_at, InboxItem.first_response_at),
                RESPONSE_BUCKETS,
                InboxItem.first_response_at.is_not(None),
            ),
            RESPONSE_BUCKETS,
        )
        items = GaugeMetricFamily(
            "statuspage_inbox_items",
            "Inbox items by channel and state.",
            labels=["channel", "state"],
        )
        for kind, state, count in db.session.execute(
            select(InboxItem.kind, InboxItem.state, func.count()).group_by(
                InboxItem.kind, InboxItem.state
            )
        ):
            items.add_metric([kind, state], count)
        yield items
        yield _family(
            "statuspage_time_to_first_post_seconds",
            "Time from when an incident's problem began to its first public update.",
            "impact",
            _aggregate(
                Incident.impact,
                seconds_between(Incident.problem_started_at, Incident.first_posted_at),
                first_post.BUCKETS,
                *first_post.counted(),
            ),
            first_post.BUCKETS,
        )
        yield _family(
            "statuspage_outbox_delivery_latency_seconds",
            "Time from the operator's commit to the delivery being sent (up to a minute ago).",
            "transport",
            latency_totals(),
            LATENCY_BUCKETS,
        )
        depth = GaugeMetricFamily(
            "statuspage_outbox_deliveries",
            "Unfinished outbox rows by state and transport (pending and failed are the queue).",
            labels=["state", "transport"],
        )
        for state, transport, count in db.session.execute(
            select(Delivery.state, Delivery.transport, func.count())
            .where(Delivery.state.in_(UNFINISHED))
            .group_by(Delivery.state, Delivery.transport)
        ):
            depth.add_metric([state, transport or "page"], count)
        yield depth
        oldest = db.session.scalar(
            select(func.min(Delivery.next_attempt_at)).where(
                Delivery.state.in_(WAITING), Delivery.next_attempt_at <= now()
            )
        )
        yield GaugeMetricFamily(
            "statuspage_outbox_oldest_due_seconds",
            "How long the oldest due delivery has been waiting (0 when none is).",
            value=(now() - oldest).total_seconds() if oldest else 0.0,
        )
        health = GaugeMetricFamily(
            "statuspage_listening_source_up",
            "1 when a listening source's last poll succeeded, 0 when it failed or is rate limited.",
            labels=["channel", "source"],
        )
        for channel, name, row in sources.overview():
            if row is not None and row.last_polled_at is not None:
                health.add_metric([channel.name, name], 0.0 if row.last_error else 1.0)
        yield health
        db.session.commit()


@bp.get("/metrics")
def metrics() -> Response:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response(
            "a bearer token is required\n",
            401,
            {"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
            mimetype="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StatuspageCollector())
    # The text format the scraper asks for (Prometheus text or OpenMetrics).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return Response(
        encode(registry), content_type=content_type, headers={"Cache-Control": "no-store"}
    )
