from tests.fakes.fixtures import fakes, wired  # noqa: F401  (fixtures)
