"""Publishing never fails as a whole because of one record: rows written around the input
rules (planted here straight into the database) are cleaned where they can be, left out
where they cannot, and the operators are told."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import feedparser
from sqlalchemy import update

from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import AlertKind, Component, Incident, OperatorAlert
from statuspage.publishing import quarantine
from statuspage.publishing.snapshot import current_dir, publish
from tests.fakes.fixtures import connect, fakes, wired  # noqa: F401  (fixtures)
from tests.signin import sign_in


def plant(model, row_id: str, **values) -> None:
    """Write around every entry point, as an old row or a hand-edited database would."""
    db.session.execute(update(model).where(model.id == row_id).values(**values))
    db.session.commit()
    db.session.expire_all()


def opened(name: str) -> Incident:
    return service.open_incident(actor=None, name=name, impact="minor", body="Looking into it.")


def feed_titles(client, path: str = "/history") -> list[str]:
    titles = []
    for suffix in (".rss", ".atom"):
        parsed = feedparser.parse(client.get(path + suffix).data)
        assert not parsed.bozo, parsed.get("bozo_exception")
        titles += [e.title for e in parsed.entries]
    return titles


def problems(app) -> list[dict]:
    path = Path(app.config["PUBLISH_DIR"]) / quarantine.PROBLEMS
    return json.loads(path.read_text())


def test_control_characters_and_markup_in_stored_names_reach_feeds_as_plain_text(
    app, client, components
):
    first, second = opened("First"), opened("Second")
    plant(Incident, first.id, name="a\u000bb\r\nc")
    plant(Incident, second.id, name="<b>Down</b> & out")
    plant(Component, components["API"], name="API\u0007")
    publish()
    titles = feed_titles(client)
    assert sorted(set(titles)) == ["Down & out — Investigating", "a b c — Investigating"]
    assert feed_titles(client, f"/components/{components['API']}/history") == []
    badge = client.get(f"/components/{components['API']}/badge.svg")
    assert badge.status_code == 200 and b"\x07" not in badge.data
    assert client.get(f"/incidents/{first.id}").status_code == 200
    assert problems(app) == []


def test_a_record_that_cannot_render_is_left_out_and_the_rest_publishes(
    app,
    client,
    cast,
    components,
    wired,  # noqa: F811
    caplog,
):
    connect(wired, "webhook")["webhook"].operator_alerts = True
    db.session.commit()
    good, poison = opened("Checkout errors"), opened("Poison")
    plant(Incident, poison.id, impact="no-such-impact")
    with caplog.at_level(logging.ERROR, logger="statuspage.publishing.quarantine"):
        served = publish()
    assert current_dir(Path(app.config["PUBLISH_DIR"])) == served
    assert client.get(f"/incidents/{good.id}").status_code == 200
    assert client.get(f"/incidents/{poison.id}").status_code == 404
    assert feed_titles(client) == ["Checkout errors — Investigating"] * 2
    summary = client.get("/api/v2/incidents.json").get_json()
    assert [i["id"] for i in summary["incidents"]] == [good.id]
    assert f"publishing leaves out incident {poison.id}" in caplog.text

    (problem,) = problems(app)
    assert (problem["kind"], problem["id"], problem["name"]) == ("incident", poison.id, "Poison")
    assert "no-such-impact" in problem["error"]
    (alert,) = db.session.scalars(db.select(OperatorAlert)).all()
    assert alert.kind == AlertKind.UNPUBLISHED and "Poison" in alert.text
    sign_in(client, "rob@example.com")
    banner = client.get("/admin/").get_data(as_text=True)
    assert "Not on the public page:" in banner and f"/admin/incidents/{poison.id}" in banner

    publish()  # still broken: left out again, told once
    assert [p["id"] for p in problems(app)] == [poison.id]
    assert len(db.session.scalars(db.select(OperatorAlert)).all()) == 1
    plant(Incident, poison.id, impact="major")
    publish()
    assert client.get(f"/incidents/{poison.id}").status_code == 200
    assert problems(app) == []
    assert "Not on the public page:" not in client.get("/admin/").get_data(as_text=True)


def test_a_component_that_cannot_render_is_left_out(app, client, components):
    incident = opened("Slow pages")
    plant(Component, components["Website"], status="no-such-status")
    publish()
    listed = [c["id"] for c in client.get("/api/v2/components.json").get_json()["components"]]
    assert components["Website"] not in listed and components["API"] in listed
    assert client.get(f"/incidents/{incident.id}").status_code == 200
    (problem,) = problems(app)
    assert (problem["kind"], problem["id"]) == ("component", components["Website"])
