"""The bot on a real Synapse, measured: python -m benchmarks.matrix_burst [--members 60]

- a burst: every member reacts to the ballot at once (16 in flight); time until the bot's tally has them all;
- command latency: a member's `!agree` until the bot's ✅ acknowledgement reaches the member (p50/p95);
- Synapse's start time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.matrix.bot_harness import RunningBot, bot_config, from_bot, reaction_by, room_with_bot
from tests.matrix.member import Member, content, relates_to
from tests.matrix.synapse import Synapse


async def main(members_count: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        synapse = Synapse(Path(folder) / "synapse")
        synapse.start()
        print(f"synapse started in {synapse.started_in:.2f} s")
        try:
            bot_account = await synapse.register(Synapse.unique_localpart("bot"))
            members = [await Member(await synapse.register(Synapse.unique_localpart(f"m{i}"))).start()
                       for i in range(members_count)]
            alice = members[0]
            bot = await RunningBot(bot_config(Path(folder), bot_account, [alice.user_id])).start()
            room = await room_with_bot(alice, bot.user_id, *members[1:])
            await alice.send_text(room, "!propose Kettle")
            ballot = await alice.wait_for(from_bot(bot.user_id, "ballot"), room=room, timeout=30)

            gate = asyncio.Semaphore(16)

            async def react(member: Member) -> None:
                async with gate:
                    await member.react(room, ballot.event_id, "👍")

            began = time.perf_counter()
            await asyncio.gather(*(react(m) for m in members))
            while True:
                asked = await alice.send_text(room, "!status #1")
                answer = await alice.wait_for(lambda e: from_bot(bot.user_id, "status")(e) and relates_to(e)
                                              .get("m.in_reply_to", {}).get("event_id") == asked, room=room, timeout=30)
                if content(answer)["consent_bot"]["tally"]["agree"] == members_count:
                    break
            burst = time.perf_counter() - began
            print(f"burst: {members_count} reactions counted in {burst:.2f} s ({members_count / burst:.0f}/s)")

            latencies = []
            for member in members[:20]:
                t0 = time.perf_counter()
                command = await member.send_text(room, "!disagree #1")
                await member.wait_for(reaction_by(bot.user_id, command, "✅"), room=room, timeout=30)
                latencies.append(time.perf_counter() - t0)
            latencies.sort()
            print(f"command → acknowledgement: p50 {statistics.median(latencies) * 1000:.0f} ms, "
                  f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms over {len(latencies)} commands")
            await bot.stop()
            for member in members:
                await member.close()
        finally:
            synapse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=60)
    asyncio.run(main(parser.parse_args().members))
