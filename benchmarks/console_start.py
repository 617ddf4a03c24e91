"""Time from `consent-bot console` launched to its first prompt, beside the same of another version of the bot.

    python -m benchmarks.console_start [--reference REVISION] [--runs 20]

The reference is a git revision of this repository (default: the commit before the configuration moved to
pydantic, issue 17), checked out in a temporary worktree and run by the same Python with its folder first on
the path. The two take turns launch by launch, so that the machine's moods fall on both; each launch reads
the console's standard error until the prompt shows, then quits. Reported: the median and the quartiles of each,
and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE_PYDANTIC = "902418f"
PROMPT = b"alice> "


def time_to_prompt(tree: Path) -> float:
    """Seconds from the launch of ``python -m bot console`` in ``tree`` to its first prompt."""
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "bot", "console"], cwd=tree, env=environment,
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = b""
    while PROMPT not in seen:
        chunk = os.read(process.stderr.fileno(), 4096)
        if not chunk:
            raise RuntimeError(f"the console in {tree} ended before its prompt: {seen[-500:]!r}")
        seen += chunk
    elapsed = time.perf_counter() - started
    process.communicate(b"/quit\n", timeout=30)
    return elapsed


def summary(times: list[float]) -> str:
    quartiles = statistics.quantiles(times, n=4)
    return f"median {statistics.median(times) * 1000:.0f} ms (quartiles {quartiles[0] * 1000:.0f}–" \
           f"{quartiles[2] * 1000:.0f} ms)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=BEFORE_PYDANTIC, help="a git revision to compare with")
    parser.add_argument("--runs", type=int, default=20)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        reference = Path(folder) / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(reference), arguments.reference], cwd=ROOT,
                       check=True)
        try:
            for tree in (ROOT, reference):
                time_to_prompt(tree)  # once each, unmeasured: bytecode compiled, files in the page cache
            ours, theirs = [], []
            for _ in range(arguments.runs):
                ours.append(time_to_prompt(ROOT))
                theirs.append(time_to_prompt(reference))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(reference)], cwd=ROOT, check=True)
    print(f"this tree:  {summary(ours)}")
    print(f"{arguments.reference}: {summary(theirs)}")
    print(f"ratio of the medians: {statistics.median(ours) / statistics.median(theirs):.3f}")


if __name__ == "__main__":
    main()
