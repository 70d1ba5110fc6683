from collections.abc import Iterator

import pytest

from tests.fakes.fixtures import fakes, wired  # noqa: F401  (fixtures)
from tests.fakes.vendor import FakeVendorPage


@pytest.fixture(scope="session")
def vendor_server() -> Iterator[FakeVendorPage]:
    server = FakeVendorPage().start()
    yield server
    server.stop()


@pytest.fixture
def vendor(app, vendor_server, monkeypatch) -> FakeVendorPage:
    """The vendor page, reset; the app and the command line may reach loopback."""
    monkeypatch.setenv("STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS", "1")
    app.config["ALLOW_PRIVATE_WEBHOOKS"] = True
    app.config["TEST_ENV"]["STATUSPAGE_ALLOW_PRIVATE_WEBHOOKS"] = "1"
    vendor_server.reset()
    return vendor_server
