"""The long run of the service's stateful fuzz (tests/service_machine.py): python -m benchmarks.fuzz [--steps N]

Runs fresh machines of 100 steps each until N steps (default 100,000) have been taken, every invariant
checked after every step, and prints the steps, the machines, the time, and the failures found (a failure
stops the run with hypothesis's minimal example); then how often each case the machine's model checks came up
(rounds closed, members counted by delegation on each scope, delegations expired, part challenges adopted…).
"""

from __future__ import annotations

import argparse
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from tests.service_machine import ServiceMachine

STEPS_PER_MACHINE = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    arguments = parser.parse_args()
    taken: list[int] = []

    class Counted(ServiceMachine):
        def teardown(self) -> None:
            taken.append(self.steps)
            super().teardown()

    began = time.perf_counter()
    batch = 0
    while sum(taken) < arguments.steps:
        batch += 1
        run_state_machine_as_test(Counted, settings=settings(
            max_examples=50, stateful_step_count=STEPS_PER_MACHINE, deadline=None, database=None,
            suppress_health_check=list(HealthCheck)))
        elapsed = time.perf_counter() - began
        print(f"batch {batch}: {sum(taken):,} steps in {len(taken):,} machines, {elapsed:.0f} s", flush=True)
    elapsed = time.perf_counter() - began
    print(f"fuzz: {sum(taken):,} steps, {len(taken):,} machines, {elapsed:.0f} s "
          f"({sum(taken) / elapsed:.0f} steps/s), failures: 0")
    for case, count in sorted(ServiceMachine.covered.items()):
        print(f"{count:8,}  {case}")


if __name__ == "__main__":
    main()
