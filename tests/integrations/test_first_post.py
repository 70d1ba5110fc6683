"""Time to first post: recorded per incident, shown in the admin with the 30-day median,
and exported to Prometheus."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from statuspage.extensions import db
from statuspage.incidents import first_post, service
from statuspage.lib.clock import now
from statuspage.models import Incident
from tests.signin import csrf_token, sign_in


def opened(minutes_late: float | None, impact: str = "major", **kwargs) -> Incident:
    started = now() - timedelta(minutes=minutes_late) if minutes_late is not None else None
    return service.open_incident(
        actor=None,
        name=kwargs.pop("name", "Checkout errors"),
        impact=impact,
        body="We are investigating.",
        problem_started_at=started,
        **kwargs,
    )


def test_an_incident_records_its_start_and_first_post(app):
    incident = opened(12)
    assert incident.first_posted_at == incident.updates[0].created_at
    assert 12 * 60 - 1 <= first_post.seconds(incident) <= 12 * 60 + 5
    later = service.post_update(
        actor=None, incident_id=incident.id, status="identified", body="Found it."
    )
    assert incident.first_posted_at < later.created_at  # the first post stays the first


def test_the_admin_shows_it_per_incident_and_the_30_day_median(app, client, cast):
    for minutes in (4, 10, 30):
        opened(minutes)
    unknown = opened(None, name="Started by hand")
    old = opened(50, name="Long ago")
    old.first_posted_at = now() - timedelta(days=31)
    db.session.commit()
    assert first_post.recent().count == 3
    assert 9.9 * 60 <= first_post.recent().median <= 10.2 * 60

    sign_in(client, "vera@example.com")
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert "Median <strong>10 min</strong> over 3 incidents" in dashboard
    page = client.get(f"/admin/incidents/{unknown.id}").get_data(as_text=True)
    assert "Unknown: no alert said when the problem started." in page


def test_an_operator_gives_the_start_time_and_bad_times_are_refused(app, client, cast):
    incident = opened(None)
    sign_in(client, "rob@example.com")
    token = csrf_token(client, f"/admin/incidents/{incident.id}")
    path = f"/admin/incidents/{incident.id}/problem-start"
    future = (now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    client.post(path, data={"csrf_token": token, "problem_started_at": future})
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).problem_started_at is None
    earlier = (now() - timedelta(minutes=25)).replace(second=0, microsecond=0)
    response = client.post(
        path, data={"csrf_token": token, "problem_started_at": earlier.strftime("%Y-%m-%dT%H:%M")}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Incident, incident.id).problem_started_at == earlier
    page = client.get(f"/admin/incidents/{incident.id}").get_data(as_text=True)
    assert "25 min</strong> from the problem" in page or "26 min</strong> from the problem" in page


def test_metrics_export_the_histogram_by_impact(app, client):
    app.config["METRICS_TOKEN"] = "scrape-me"
    opened(3, impact="major")
    opened(40, impact="minor")
    opened(None, impact="critical")
    text = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).get_data(
        as_text=True
    )
    (family,) = [
        f
        for f in text_string_to_metric_families(text)
        if f.name == "statuspage_time_to_first_post_seconds"
    ]
    buckets = {
        (s.labels["impact"], s.labels["le"]): s.value
        for s in family.samples
        if s.name.endswith("_bucket")
    }
    assert buckets[("major", "300.0")] == 1 and buckets[("major", "60.0")] == 0
    assert buckets[("minor", "1800.0")] == 0 and buckets[("minor", "3600.0")] == 1
    assert not any(impact == "critical" for impact, _ in buckets)
