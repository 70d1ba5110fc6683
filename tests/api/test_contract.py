"""schemathesis against the OpenAPI document on a live server: generated requests (valid
and invalid, bounded in number and the same on every run) never get a 5xx or a response
the document does not allow."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import positive_data_acceptance

from statuspage import accounts, create_app
from statuspage.demo import seed_demo_components
from statuspage.extensions import db
from statuspage.incidents import service
from statuspage.models import Role
from tests.conftest import _empty_tables, _migrated, environment, make_user
from tests.live import live_server


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
                yield {"base": base, "headers": {"Authorization": f"OAuth {token}"}}
            db.session.remove()
            _empty_tables()
            db.engine.dispose()


EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "12"))
# A schema-valid body can still name a component that does not exist or a window that
# ends before it starts; those are 422s by design, which this heuristic check disallows.
SEMANTIC_422 = [positive_data_acceptance]


def test_the_api_keeps_its_contract(contract_server: dict) -> None:
    """Every operation, with valid and with invalid requests (schemathesis' full checks:
    no server error, documented status, content type and body schema, invalid input refused,
    missing auth refused, undocumented methods answered 405)."""
    schema = schemathesis.openapi.from_url(f"{contract_server['base']}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        # A request with nothing in it (GET /pages) has no invalid variant to draw.
        takes_input = len(operation.path_parameters) + len(operation.query) + len(operation.body)
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input else [])
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Case) -> None:
                case.call_and_validate(
                    headers=contract_server["headers"], excluded_checks=SEMANTIC_422
                )

            try:
                check()
            except Exception as exc:
                raise AssertionError(f"{operation.label} ({mode.value}): {exc}") from exc
