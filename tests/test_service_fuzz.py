"""The service under a stateful fuzz (tests/service_machine.py), on SQLite in memory and on PostgreSQL: a fast
profile here; the long run is `python -m benchmarks.fuzz`."""

import pytest
from hypothesis import HealthCheck, settings

from tests.service_machine import ServiceMachine

FAST = settings(max_examples=30, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""30 runs: as long as the 40 were before the machine had topics, scoped delegations and parts (its rules now say
several things a step, and the model's checks read the register): the same time in CI, as many events."""


class PostgresServiceMachine(ServiceMachine):
    """The same machine on a fresh PostgreSQL database each run (the server: set by the fixture below)."""

    def __init__(self) -> None:
        assert self.postgres is not None, "run by pytest, which gives it the server"
        super().__init__()


TestServiceUnderFuzz = ServiceMachine.TestCase
TestServiceUnderFuzz.settings = FAST
TestServiceUnderFuzzOnPostgres = PostgresServiceMachine.TestCase
TestServiceUnderFuzzOnPostgres.settings = settings(FAST, max_examples=15)  # what differs is the SQL: fewer runs


@pytest.fixture(autouse=True)
def _postgres_for_the_machine(request: pytest.FixtureRequest):
    if request.cls is TestServiceUnderFuzzOnPostgres:
        PostgresServiceMachine.postgres = request.getfixturevalue("postgres")
        PostgresServiceMachine.template = request.getfixturevalue("postgres_template")
    yield
    PostgresServiceMachine.postgres = None
