"""A reproducible installation's worth of data for the benchmarks.

Rows go in with bulk inserts (the incident service would take minutes for a year of
history); their shapes are the ones the service writes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from statuspage.extensions import db
from statuspage.models import (
    AffectedComponent,
    ChangeCause,
    Component,
    ComponentGroup,
    ComponentStatus,
    ComponentStatusChange,
    Impact,
    Incident,
    IncidentStatus,
    IncidentUpdate,
    Page,
)
from statuspage.models.incidents import incident_component
from statuspage.models.types import new_public_id

BODIES = [
    "We are investigating elevated error rates on **{c}**.",
    "The issue has been identified: a configuration change to {c}. A fix is being deployed.",
    "A fix has been deployed and we are monitoring the results. See the [runbook]"
    "(https://example.com/runbook) for details.",
    "Error rates are back to normal. We continue to watch {c} closely.",
    "This incident has been resolved. We will publish a postmortem within five days.",
]
FLOW = [
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
    IncidentStatus.MONITORING,
    IncidentStatus.RESOLVED,
]
OUTAGES = [
    ComponentStatus.DEGRADED_PERFORMANCE,
    ComponentStatus.PARTIAL_OUTAGE,
    ComponentStatus.MAJOR_OUTAGE,
]


def populate(components: int, days: int, incidents: int, updates_per: int = 5) -> None:
    """Create ``components`` in groups of five, ``days`` of status history and
    ``incidents`` resolved incidents with ``updates_per`` updates each."""
    rng = random.Random(20261124)
    at = datetime.now(UTC)
    start = at - timedelta(days=days)
    Page.get()
    group_rows, component_rows = [], []
    for g in range(max(1, components // 5)):
        group_rows.append(
            {
                "id": new_public_id(),
                "name": f"Region {g + 1}",
                "position": g,
                "created_at": start,
                "updated_at": start,
            }
        )
    for n in range(components):
        component_rows.append(
            {
                "id": new_public_id(),
                "name": f"Service {n + 1}",
                "position": n,
                "group_id": group_rows[n // 5 % len(group_rows)]["id"],
                "status": ComponentStatus.OPERATIONAL,
                "showcase": True,
                "only_show_if_degraded": False,
                "created_at": start,
                "updated_at": start,
            }
        )
    db.session.execute(db.insert(ComponentGroup), group_rows)
    db.session.execute(db.insert(Component), component_rows)

    incident_rows, update_rows, affected_rows, link_rows, change_rows = [], [], [], [], []
    span = (at - start - timedelta(hours=6)).total_seconds()
    for n in range(incidents):
        began = start + timedelta(seconds=span * n / incidents)
        hit = rng.sample(component_rows, k=rng.randint(1, 3))
        outage = rng.choice(OUTAGES)
        incident_id = new_public_id()
        times = [began + timedelta(minutes=25 * i) for i in range(updates_per)]
        incident_rows.append(
            {
                "id": incident_id,
                "name": f"Elevated errors on {hit[0]['name']} ({n + 1})",
                "status": IncidentStatus.RESOLVED,
                "impact": rng.choice([Impact.MINOR, Impact.MAJOR, Impact.CRITICAL]),
                "created_at": began,
                "updated_at": times[-1],
                "started_at": began,
                "resolved_at": times[-1],
                "monitoring_at": times[2 % updates_per],
            }
        )
        for component in hit:
            link_rows.append({"incident_id": incident_id, "component_id": component["id"]})
            change_rows.append(
                {
                    "component_id": component["id"],
                    "old_status": "operational",
                    "new_status": outage,
                    "cause": ChangeCause.INCIDENT,
                    "created_at": began,
                }
            )
            change_rows.append(
                {
                    "component_id": component["id"],
                    "old_status": outage,
                    "new_status": "operational",
                    "cause": ChangeCause.INCIDENT,
                    "created_at": times[-1],
                }
            )
        for i, when in enumerate(times):
            update_id = new_public_id()
            update_rows.append(
                {
                    "id": update_id,
                    "incident_id": incident_id,
                    "status": FLOW[min(i, len(FLOW) - 1)]
                    if i < updates_per - 1
                    else IncidentStatus.RESOLVED,
                    "body": BODIES[i % len(BODIES)].format(c=hit[0]["name"]),
                    "deliver_notifications": True,
                    "created_at": when,
                    "updated_at": when,
                    "display_at": when,
                }
            )
            if i in (0, updates_per - 1):
                for position, component in enumerate(hit):
                    affected_rows.append(
                        {
                            "update_id": update_id,
                            "component_id": component["id"],
                            "position": position,
                            "old_status": "operational" if i == 0 else outage,
                            "new_status": outage if i == 0 else "operational",
                        }
                    )
    db.session.execute(db.insert(Incident), incident_rows)
    db.session.execute(db.insert(incident_component), link_rows)
    db.session.execute(db.insert(IncidentUpdate), update_rows)
    db.session.execute(db.insert(AffectedComponent), affected_rows)
    db.session.execute(db.insert(ComponentStatusChange), change_rows)
    db.session.commit()
