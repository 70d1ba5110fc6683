"""schemathesis against the OpenAPI document on a live server, with every check and every
phase (the document's examples and boundaries, fuzzing, and stateful sequences): no server
error, documented statuses, content types, headers and bodies, every request the document
allows is taken and every other refused, auth is required, undocumented methods get a 405
and OPTIONS lists exactly the documented ones. The draws are the same on every run and
bounded per operation (CONTRACT_EXAMPLES); the generator's own health checks (how fast
it draws) are off, since a loaded machine would fail a run that found nothing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from statuspage import accounts, create_app
from statuspage.demo import seed_demo_components
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Role
from tests.conftest import ROOT, _empty_tables, _migrated, environment, make_user
from tests.live import live_server

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "5"))
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def contract_server(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """One live server on PostgreSQL for the whole module, with an admin token."""
    env = environment(pg_url, tmp_path_factory.mktemp("contract"), "statuspage-contract")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        app = create_app({"TESTING": True})
        with app.app_context():
            if pg_url not in _migrated:
                from flask_migrate import upgrade

                upgrade(revision="heads")
                _migrated.add(pg_url)
            _empty_tables()
            seed_demo_components()
            admin = make_user("contract@example.com", Role.ADMIN)
            token = accounts.create_token(admin, "contract")
            service.open_incident(actor=admin, name="Seeded", impact="minor", body="x")
            with live_server(app) as base:
                yield {"base": base, "authorization": f"OAuth {token}"}
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


def test_the_api_keeps_its_contract(contract_server: dict) -> None:
    document = f"{contract_server['base']}/api/v1/openapi.json"
    paths = requests.get(document, timeout=10).json()["paths"]
    operations = sum(len(METHODS & item.keys()) for item in paths.values())
    assert operations >= 25
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        document,
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES),
        "--generation-deterministic",
        "--suppress-health-check",
        "all",
        "--continue-on-failure",
        "--no-color",
        "--header",
        f"Authorization: {contract_server['authorization']}",
    ]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="tests.api.contract_hooks", PYTHONPATH=str(ROOT))
    run = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report[-20000:]
    assert re.search(rf"Tested: {operations}\b", report), report[-5000:]
    assert re.search(r"\d+ generated, \d+ passed", report), report[-5000:]
