"""The fault suite: the bot killed with SIGKILL three times during a burst of 300 commands, reactions and
redactions from 30 members, restarted each time. Every member's final position is what they last expressed,
and the round has exactly one outcome, whose tally is those positions. (The long run: benchmarks/crashes.py.)"""

from __future__ import annotations

from collections import Counter

from .crashes import crash_run

MEMBERS, ACTIONS_EACH, KILLS_AFTER = 30, 10, [60, 150, 240]


async def test_killed_three_times_during_a_burst_the_bot_counts_every_last_word(members, voters, bot_account,
                                                                                 tmp_path):
    alice, = await members("alice")
    crowd = await voters(MEMBERS)
    run = await crash_run(alice, crowd, bot_account, tmp_path, ACTIONS_EACH, KILLS_AFTER, seed=7)

    assert run.kills == len(KILLS_AFTER)
    assert run.wrong == {}, f"{len(run.wrong)} of {MEMBERS} positions wrong (recorded, expected): {run.wrong}\n" + \
        "\n".join(f"{member}: {run.expected[member].done}" for member in run.wrong) + f"\n({run.late} after the deadline)"
    counts = Counter(position for position in run.positions.values() if position is not None)
    assert (run.tally["agree"], run.tally["abstain"], run.tally["disagree"]) == (
        counts["agree"], counts["abstain"], counts["disagree"])
    assert run.tally["block"] + run.tally["unargued_block"] == counts["block"]
    assert (run.outcomes, run.ballots) == (1, 1)
