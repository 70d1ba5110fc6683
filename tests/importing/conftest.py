from collections.abc import Iterator

import pytest

from tests.fakes.statuspage_v1 import FakeStatuspageV1


@pytest.fixture(scope="session")
def v1_server() -> Iterator[FakeStatuspageV1]:
    server = FakeStatuspageV1().start()
    yield server
    server.stop()


@pytest.fixture
def statuspage(app, v1_server, monkeypatch) -> FakeStatuspageV1:
    """The loopback Statuspage, reset; the app and the command line may reach it."""
    monkeypatch.setenv("STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS", "1")
    app.config["ALLOW_PRIVATE_WEBHOOKS"] = True
    v1_server.reset()
    return v1_server
