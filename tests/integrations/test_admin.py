"""Managing integrations and rules in the admin, and from the command line."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from statuspage.cli import main
from statuspage.extensions import db
from statuspage.models import AlertRule, AuditEvent, Integration
from statuspage.models.accounts import hash_token
from tests.signin import csrf_token, sign_in


def test_an_admin_creates_an_integration_and_sees_its_url_once(app, client, cast):
    sign_in(client, "alice@example.com")
    token = csrf_token(client, "/admin/integrations")
    response = client.post(
        "/admin/integrations",
        data={"csrf_token": token, "kind": "alertmanager", "name": "prod alertmanager"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    integration = db.session.scalars(select(Integration)).one()
    secret = html.split('id="intake-token">')[1].split("<")[0]
    assert f"http://status.test/integrations/{secret}" in html
    assert integration.secret_hash == hash_token(secret)
    assert secret not in client.get(f"/admin/integrations/{integration.id}").get_data(as_text=True)
    rotated = client.post(
        f"/admin/integrations/{integration.id}/rotate", data={"csrf_token": token}
    ).get_data(as_text=True)
    assert secret not in rotated
    db.session.expire_all()
    assert db.session.get(Integration, integration.id).secret_hash != hash_token(secret)
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert {"integration.create", "integration.rotate"} <= set(actions)


def test_rules_are_edited_and_bad_matchers_are_explained(app, client, cast, components):
    sign_in(client, "alice@example.com")
    token = csrf_token(client, "/admin/integrations")
    client.post(
        "/admin/integrations", data={"csrf_token": token, "kind": "grafana", "name": "grafana"}
    )
    integration = db.session.scalars(select(Integration)).one()
    form = {
        "csrf_token": token,
        "name": "API",
        "matchers": 'service="api", severity=~"critical|page"',
        "mode": "draft",
        "component_status": "major_outage",
        "impact": "critical",
        "template_id": "",
        "component_ids": [components["API"]],
    }
    bad = client.post(
        f"/admin/integrations/{integration.id}/rules/new", data={**form, "matchers": "service=api"}
    )
    assert bad.status_code == 422
    assert "write label=&#34;value&#34;" in bad.get_data(as_text=True)
    ok = client.post(f"/admin/integrations/{integration.id}/rules/new", data=form)
    assert ok.status_code == 302
    rule = db.session.scalars(select(AlertRule)).one()
    assert rule.matchers == [["service", "=", "api"], ["severity", "=~", "critical|page"]]
    page = client.get(f"/admin/integrations/rules/{rule.id}").get_data(as_text=True)
    assert "service=&#34;api&#34;" in page


def test_only_admins_manage_integrations(app, client, cast):
    sign_in(client, "rob@example.com")
    assert client.get("/admin/integrations").status_code == 403


def test_create_integration_prints_the_url_last(app):
    result = CliRunner().invoke(main, ["create-integration", "alertmanager", "--name", "prod"])
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[-1]
    assert url.startswith("http://status.test/integrations/spi_")
    db.session.expire_all()
    integration = db.session.scalars(select(Integration)).one()
    assert integration.secret_hash == hash_token(url.rsplit("/", 1)[1])
    bad = CliRunner().invoke(main, ["create-integration", "nagios", "--name", "x"])
    assert bad.exit_code != 0
