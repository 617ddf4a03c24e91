"""The fault suite's long run: python -m benchmarks.crashes [--runs 6] [--members 30] [--actions 10] [--kills 3]

Each run starts the bot as a process on a real Synapse (its own, on loopback), lets a crowd of members
vote, change, withdraw and take back their votes all at once while the bot is killed with SIGKILL and
restarted at evenly spread points of the burst, then compares the bot's register with what each member
last expressed, and checks the round's single outcome. Prints each run and the totals.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from tests.matrix.crashes import crash_run
from tests.matrix.member import Member
from tests.matrix.synapse import Synapse


async def main(runs: int, members: int, actions: int, kills: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        synapse = Synapse(Path(folder) / "synapse")
        synapse.start()
        totals = {"kills": 0, "actions": 0, "positions": 0, "wrong": 0, "outcomes": 0}
        try:
            for number in range(1, runs + 1):
                alice = await Member(await synapse.register(Synapse.unique_localpart("alice"))).start()
                crowd = [Member(await synapse.register(Synapse.unique_localpart(f"voter{i}"))) for i in range(members)]
                bot_account = await synapse.register(Synapse.unique_localpart("bot"))
                points = [members * actions * (k + 1) // (kills + 1) for k in range(kills)]
                run_folder = Path(folder) / f"run{number}"
                run_folder.mkdir()
                began = time.perf_counter()
                try:
                    run = await crash_run(alice, crowd, bot_account, run_folder, actions, points, seed=number)
                finally:
                    for member in (alice, *crowd):
                        await member.close()
                print(f"run {number}: {run.kills} kills, {run.actions} actions, {len(run.wrong)} of {members} "
                      f"positions wrong, {run.outcomes} outcome(s), {time.perf_counter() - began:.0f} s", flush=True)
                totals["kills"] += run.kills
                totals["actions"] += run.actions
                totals["positions"] += members
                totals["wrong"] += len(run.wrong)
                totals["outcomes"] += run.outcomes
        finally:
            synapse.stop()
        print(f"fault suite: {runs} runs, {totals['kills']} kills, {totals['actions']} actions, "
              f"{totals['wrong']} of {totals['positions']} final positions wrong, "
              f"{totals['outcomes']} outcomes for {runs} rounds")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--members", type=int, default=30)
    parser.add_argument("--actions", type=int, default=10)
    parser.add_argument("--kills", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.runs, options.members, options.actions, options.kills))
