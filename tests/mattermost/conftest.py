"""The `mattermost` fixture: a fake Mattermost server that holds every REST request to the official contract."""

from __future__ import annotations

import warnings

import pytest

from .fake import STATS, FakeMattermost, load_contract

_warned = False


class ContractSkippedWarning(UserWarning):
    """The OpenAPI description is missing: the fake answers, but requests are not checked against it."""


@pytest.fixture
async def mattermost():
    """A started FakeMattermost; the test fails at teardown if a request broke the contract or hit an
    endpoint the fake does not implement."""
    global _warned
    contract = load_contract()
    if not contract.active and not _warned:
        _warned = True
        warnings.warn(ContractSkippedWarning(
            f"Mattermost contract checks skipped: {contract.skipped_because}"), stacklevel=2)
    fake = FakeMattermost(contract)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    problems = fake.problems()
    if problems:
        STATS["failed_tests"] += 1
        listing = "\n  ".join(problems)
        pytest.fail(f"the fake Mattermost received {len(problems)} request(s) off the contract:\n  {listing}",
                    pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not STATS["servers"]:
        return
    contract = load_contract()
    if contract.active:
        line = (f"Mattermost contract validation ACTIVE: {STATS['validated']} REST request(s) checked against "
                f"{contract.spec_path}; {STATS['violations']} violation(s) detected, "
                f"{STATS['failed_tests']} test(s) failed on them (the rest were provoked and cleared on purpose)")
    else:
        line = (f"Mattermost contract validation SKIPPED: {contract.skipped_because}; the fake answered "
                f"but no request was checked against the OpenAPI description")
    terminalreporter.write_sep("-", "mattermost fake")
    terminalreporter.write_line(line)
