"""The service under a stateful fuzz (tests/service_machine.py): a fast profile here; the long run is
`python -m benchmarks.fuzz`."""

from hypothesis import HealthCheck, settings

from tests.service_machine import ServiceMachine

TestServiceUnderFuzz = ServiceMachine.TestCase
TestServiceUnderFuzz.settings = settings(max_examples=40, stateful_step_count=40, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])
