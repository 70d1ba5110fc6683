"""Shared steps of the channel tests: open incidents and run deliveries in-process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import select, update
from werkzeug.serving import make_server

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.lib.clock import now
from statuspage.models import Delivery, Incident
from tests.conftest import free_port
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


def form_token(client, path: str) -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def sign_in(client, email: str) -> None:
    from tests.conftest import PASSWORD

    token = form_token(client, "/admin/login")
    response = client.post(
        "/admin/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


@contextmanager
def live_server(app) -> Iterator[str]:  # noqa: ANN001
    """Serve ``app`` over real HTTP on 127.0.0.1 for Chromium; yields its base URL."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def serve_at(app, base: str) -> None:  # noqa: ANN001
    """Links the app and its workers write point at ``base`` (a live test server)."""
    app.config["BASE_URL"] = base
    app.config["TEST_ENV"]["STATUSPAGE_BASE_URL"] = base
