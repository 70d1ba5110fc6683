"""With the database really stopped (a private PostgreSQL cluster shut down hard, or the
SQLite file's directory gone), every surface that needs it answers a clear 503 with
Retry-After, the public page stays 200, nothing is half-written, and service resumes
once the database is back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from statuspage import accounts, create_app
from statuspage.demo import seed_demo_components
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import ChannelKind, InboxItem, Incident, Page, Role
from statuspage.publishing.snapshot import publish
from statuspage.unavailable import MESSAGE, RETRY_AFTER
from tests.conftest import BufferedClient, environment, make_user
from tests.fakes.fixtures import add_channel
from tests.private_postgres import PrivatePostgres
from tests.signin import csrf_token, sign_in


@dataclass
class Outage:
    url: str
    stop: Callable[[], None]
    start: Callable[[], None]


@pytest.fixture(params=["postgresql", "sqlite"])
def outage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Outage]:
    if request.param == "postgresql":
        cluster = PrivatePostgres()
        cluster.start()
        yield Outage(cluster.url, cluster.stop, cluster.start)
        cluster.remove()
        return
    here, away = tmp_path / "database", tmp_path / "database-away"
    here.mkdir()

    def stop() -> None:  # the disk is gone: open connections break, new ones cannot open
        here.rename(away)
        db.engine.dispose()

    yield Outage(f"sqlite:///{here / 'statuspage.db'}", stop, lambda: away.rename(here))


@pytest.fixture
def site(outage: Outage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for key, value in environment(outage.url, tmp_path / "data", "statuspage-down").items():
        monkeypatch.setenv(key, value)
    limits = {"REPORT_RATE_LIMIT": "100 per minute", "SUBSCRIBE_RATE_LIMIT": "100 per minute"}
    app = create_app({"TESTING": True, **limits})
    app.test_client_class = BufferedClient
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(revision="heads")
        seed_demo_components()
        add_channel(ChannelKind.EMAIL_SMTP, {"host": "127.0.0.1", "port": 1}, {})
        Page.get().name = "Acme"
        db.session.commit()
        publish()
        yield app
        db.session.remove()
        db.engine.dispose()


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def assert_unavailable(response, kind: str) -> None:  # noqa: ANN001
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER)
    if kind == "json":
        body = response.get_json()
        assert (body["code"], body["error"]) == ("unavailable", MESSAGE)
        return
    page = response.get_data(as_text=True)
    assert MESSAGE in page
    stylesheet = "admin.css" if kind == "admin" else "/static/public.css"
    assert stylesheet in page
    if kind == "public":
        assert "Acme" in page  # the page's name as last published


def test_every_surface_answers_503_while_the_database_is_down_and_recovers(
    outage: Outage, site: Flask
) -> None:
    admin = make_user("alice@example.com", Role.ADMIN)
    token = {"Authorization": f"OAuth {accounts.create_token(admin, 'automation')}"}
    service.open_incident(actor=admin, name="Before", impact="minor", body="x")
    page_id = Page.get().id
    db.session.commit()
    client: FlaskClient = site.test_client()
    sign_in(client, "alice@example.com")
    form_token = csrf_token(client, "/report")
    incidents = f"/api/v1/pages/{page_id}/incidents"
    opening = {"incident": {"name": "During"}}
    report = {"csrf_token": form_token, "text": "Checkout fails"}

    outage.stop()
    assert_unavailable(client.get("/admin/"), "admin")
    assert_unavailable(client.post(incidents, json=opening, headers=token), "json")
    assert_unavailable(client.get("/report"), "public")
    assert_unavailable(client.post("/report", data=report), "public")
    assert_unavailable(client.get("/subscribe"), "public")
    subscribing = client.post("/api/subscriptions", json={"email": "a@example.net"})
    assert_unavailable(subscribing, "json")
    for path in ("/", "/api/v2/summary.json", "/history.rss"):
        assert client.get(path).status_code == 200, path

    outage.start()
    assert client.get("/admin/").status_code == 200
    assert client.post(incidents, json=opening, headers=token).status_code == 201
    assert client.post("/report", data=report).status_code == 303
    assert client.get("/subscribe").status_code == 200
    names = db.session.scalars(select(Incident.name).order_by(Incident.created_at)).all()
    assert names == ["Before", "During"] and count(InboxItem) == 1
