"""Parsing the three payload shapes at the edge; anything unusable is refused with a reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from statuspage.integrations.payloads import PayloadError, labels_fingerprint, parse
from statuspage.models import AlertStatus, IntegrationKind
from tests.integrations.helpers import fixture, fixture_json


def test_it_reads_alertmanager_version_4_as_captured():
    alerts = parse(IntegrationKind.ALERTMANAGER, fixture("alertmanager_firing.json"))
    assert [a.fingerprint for a in alerts] == ["0f3ef813eb86bd39", "1d3f58b2d7994044"]
    first = alerts[0]
    assert first.status == AlertStatus.FIRING
    assert first.labels["service"] == "api" and first.labels["severity"] == "critical"
    assert first.annotations["summary"] == "API 5xx error rate above 5%"
    assert first.starts_at == datetime(2026, 11, 27, 17, 59, 19, tzinfo=UTC)
    assert first.ends_at is None  # Go's zero time while firing


def test_it_reads_the_resolved_alertmanager_payload():
    alerts = parse(IntegrationKind.ALERTMANAGER, fixture("alertmanager_resolved.json"))
    assert {a.status for a in alerts} == {AlertStatus.RESOLVED}
    assert alerts[0].ends_at == datetime(2026, 11, 27, 18, 2, 20, tzinfo=UTC)


def test_it_reads_grafanas_documented_webhook_body():
    alerts = parse(IntegrationKind.GRAFANA, fixture("grafana_firing.json"))
    assert [a.labels["alertname"] for a in alerts] == ["High memory usage", "High CPU usage"]
    assert alerts[0].starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)


def test_generic_alerts_without_a_fingerprint_are_identified_by_their_labels():
    body = json.dumps({"alerts": [{"status": "firing", "labels": {"b": "2", "a": "1"}}]})
    (alert,) = parse(IntegrationKind.GENERIC, body.encode())
    assert alert.fingerprint == labels_fingerprint({"a": "1", "b": "2"})
    assert alert.starts_at is None


def test_nanosecond_times_are_read():
    body = {"alerts": [{"status": "firing", "labels": {"a": "1"}}]}
    body["alerts"][0]["startsAt"] = "2026-01-02T03:04:05.123456789Z"
    (alert,) = parse(IntegrationKind.GENERIC, json.dumps(body).encode())
    assert alert.starts_at == datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def _alertmanager(**changes):
    doc = fixture_json("alertmanager_firing.json")
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("kind", "body", "reason"),
    [
        (IntegrationKind.GENERIC, b"{not json", "not JSON"),
        (IntegrationKind.GENERIC, b"[]", "must be a JSON object"),
        (IntegrationKind.ALERTMANAGER, _alertmanager(version="3"), "version 4 expected"),
        (IntegrationKind.ALERTMANAGER, _alertmanager(alerts={}), "'alerts' must be a list"),
        (IntegrationKind.GENERIC, b'{"alerts": [{"status": "firing"}]}', "labels must be"),
        (
            IntegrationKind.GENERIC,
            b'{"alerts": [{"status": "up", "labels": {"a": "1"}}]}',
            "status",
        ),
        (
            IntegrationKind.GENERIC,
            b'{"alerts": [{"status": "firing", "labels": {"a": 1}}]}',
            "alerts[0].labels.a must be a string",
        ),
        (
            IntegrationKind.GENERIC,
            b'{"alerts": [{"status": "firing", "labels": {"a": "1"}, "startsAt": "yesterday"}]}',
            "startsAt is not an RFC 3339 time",
        ),
        (
            IntegrationKind.ALERTMANAGER,
            json.dumps(
                {"version": "4", "alerts": [{"status": "firing", "labels": {"a": "1"}}]}
            ).encode(),
            "fingerprint is required",
        ),
        (
            IntegrationKind.GENERIC,
            b'{"alerts": [{"status": "firing", "labels": {"a": "\\u0000"}}]}',
            "cannot be stored",
        ),
    ],
)
def test_unusable_payloads_are_refused_with_the_reason(kind, body, reason):
    with pytest.raises(PayloadError) as refused:
        parse(kind, body)
    assert reason in str(refused.value)
