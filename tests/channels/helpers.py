"""Shared steps of the channel tests: open incidents and run deliveries in-process."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import Delivery, Incident
from workers import tasks


def open_incident(components: dict[str, str] | None = None, **kwargs) -> Incident:
    values = {
        "actor": None,
        "name": "Login failures",
        "impact": "major",
        "body": "We are investigating failed logins.",
        "components": components or {},
    }
    values.update(kwargs)
    return service.open_incident(**values)


def rows(transport: str | None = None) -> list[Delivery]:
    db.session.expire_all()
    query = select(Delivery).order_by(Delivery.id)
    if transport:
        query = query.where(Delivery.transport == transport)
    found = list(db.session.scalars(query))
    db.session.commit()
    return found


def deliver(row: Delivery | int) -> None:
    """Run the worker's task body here, as a worker process would."""
    tasks.deliver(row if isinstance(row, int) else row.id)
    db.session.expire_all()


def make_due(*delivery_rows: Delivery) -> None:
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_([r.id for r in delivery_rows]))
        .values(next_attempt_at=now() - timedelta(seconds=1))
    )
    db.session.commit()


def serve_at(app, base: str) -> None:  # noqa: ANN001
    """Links the app and its workers write point at ``base`` (a live test server)."""
    app.config["BASE_URL"] = base
    app.config["TEST_ENV"]["STATUSPAGE_BASE_URL"] = base
