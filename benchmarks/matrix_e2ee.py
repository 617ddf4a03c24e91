"""What encryption costs a round trip, on a real Synapse: python -m benchmarks.matrix_e2ee [--runs 5] [--each 10]

One bot serves an encrypted room and an unencrypted one; members are encrypting nio clients (as Element is).
Each run times, in each room in turn, ``--each`` commands of one member:
- `!agree` until the bot's ✅ reaches the member (the member encrypts, the bot decrypts; the ✅ is in the clear);
- `!status` until the bot's answer reaches the member decrypted (the bot encrypts too).
Printed: each run's median per room, then the range of those medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.matrix.bot_harness import RunningBot, answer_to, bot_config, propose, reaction_by, room_with_bot
from tests.matrix.member import EncryptedMember
from tests.matrix.synapse import Synapse


async def median_ms(times: int, once: Callable[[], Awaitable[None]]) -> float:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        await once()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


async def main(runs: int, each: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        synapse = Synapse(Path(folder) / "synapse")
        synapse.start()
        try:
            bot_account = await synapse.register(Synapse.unique_localpart("bot"))
            alice, bob = [await EncryptedMember(await synapse.register(Synapse.unique_localpart(name)),
                                                Path(folder) / name).start() for name in ("alice", "bob")]
            bot = await RunningBot(bot_config(Path(folder), bot_account, [alice.user_id])).start()
            rooms = {"encrypted": await room_with_bot(alice, bot.user_id, bob),
                     "unencrypted": await room_with_bot(alice, bot.user_id, bob, encrypted=False)}
            for room in rooms.values():
                await propose(alice, room, bot.user_id)

            def agree(room: str) -> Callable[[], Awaitable[None]]:
                async def once() -> None:
                    command = await bob.send_text(room, "!agree #1")
                    await bob.wait_for(reaction_by(bot.user_id, command, "✅"), room=room, timeout=30)
                return once

            def status(room: str) -> Callable[[], Awaitable[None]]:
                async def once() -> None:
                    asked = await bob.send_text(room, "!status #1")
                    await answer_to(bob, room, bot.user_id, "status", asked, timeout=30)
                return once

            results: dict[tuple[str, str], list[float]] = {}
            for run in range(1, runs + 1):
                line = []
                for name, room in rooms.items():
                    for what, make in (("!agree → ✅", agree), ("!status → answer", status)):
                        value = await median_ms(each, make(room))
                        results.setdefault((what, name), []).append(value)
                        line.append(f"{what} {name} {value:.0f} ms")
                print(f"run {run}: " + "; ".join(line))
            print(f"\nmedians over {runs} runs of {each} commands each (min–max of the runs' medians):")
            for (what, name), values in results.items():
                print(f"  {what:<18} {name:<12} {min(values):5.0f}–{max(values):.0f} ms")
            await bot.stop()
            for member in (alice, bob):
                await member.close()
        finally:
            synapse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--each", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.runs, arguments.each))
