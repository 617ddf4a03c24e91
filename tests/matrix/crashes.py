"""The bot killed with SIGKILL while members vote: the pieces of the fault suite (tests/matrix/test_crashes.py)
and of its long run (benchmarks/crashes.py).

A burst of commands, reactions and redactions from many members, each acting in turn as a person would,
while a separate task kills the bot at given points of the burst and starts it again at once. Every
member's expected position is modelled from what they did, in their order, with the social code's rule:
the latest word counts, among what the member said and did not take back (a reaction or command they
removed no longer says anything).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from tests.polling import query

from .bot_harness import answer_to, bot_config, from_bot, propose, room_with_bot
from .member import Member, content
from .synapse import Account

REACTIONS = {"👍": "agree", "🤷": "abstain", "👎": "disagree", "✋": "block"}
REASON = "Not now, the budget is spent."
ARGUMENT = "We have no room for it in the kitchen."
COMMANDS = {
    "!agree": ("agree", ""),
    "!abstain": ("abstain", ""),
    f"!disagree {REASON}": ("disagree", REASON),
    f"!block {ARGUMENT}": ("block", ARGUMENT),
}


class BotProcess:
    """``consent-bot run`` as an operator runs it: a process of its own, killed with SIGKILL, restarted."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config = config
        self.log = log
        self.process: subprocess.Popen | None = None
        self.kills = 0

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                                            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                            env={**os.environ, "PYTHONUNBUFFERED": "1"})

    async def kill_and_restart(self) -> None:
        await asyncio.to_thread(self.kill)
        self.start()

    def kill(self) -> None:
        """SIGKILL, as a crash would, and wait for the process to be gone."""
        assert self.process is not None and self.process.poll() is None, self.log.read_text()[-3000:]
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def log_tail(self, lines: int = 60) -> str:
        """The end of the bot's log, without the lines that only say an event was handled already."""
        kept = [line for line in self.log.read_text().splitlines() if "already handled" not in line]
        return "\n".join(kept[-lines:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Expected:
    """One member's position as the bot must record it, modelled from what they said that still stands."""

    said: list[tuple[str, str | None, str]] = field(default_factory=list)
    """(event, position or None for a withdrawal, argument), in the order said."""
    taken_back: dict[str, str] = field(default_factory=dict)
    """event said → the redaction that took it back."""
    live_reactions: dict[str, str] = field(default_factory=dict)
    """emoji → event id of the member's reactions still on the ballot (the same emoji twice is refused)."""
    done: list[str] = field(default_factory=list)
    """What the member did, in order (for a failure's message)."""

    def position_at(self, in_time: Callable[[str], bool] = lambda event: True) -> str | None:
        """The latest word said in time counts, unless taken back in time (what comes after the deadline is
        refused: a word, or the removal of one); a bare block keeps the argument of a block before it."""
        stance: tuple[str, str] | None = None
        for event, position, argument in self.said:
            if not in_time(event) or (event in self.taken_back and in_time(self.taken_back[event])):
                continue
            if position is None:
                stance = None
            else:
                if position == "block" and not argument and stance and stance[0] == "block":
                    argument = stance[1]
                stance = (position, argument)
        return stance[0] if stance else None

    @property
    def standing(self) -> list[str]:
        """The member's words not taken back."""
        return [event for event, _, _ in self.said if event not in self.taken_back]

    def say(self, event: str, position: str | None, argument: str = "") -> None:
        if position is None and self.position_at() is None:
            return  # "!unvote" with no position: refused, it says nothing
        self.said.append((event, position, argument))

    def take_back(self, event: str, redaction: str) -> None:
        self.taken_back[event] = redaction


async def act(member: Member, room: str, ballot: str, expected: Expected, rng: random.Random) -> None:
    """One thing a member does, chosen at random, and what it means for their expected position."""
    choice = rng.random()
    free = [key for key in REACTIONS if key not in expected.live_reactions]
    own = expected.standing
    if choice < 0.4 and free:
        key = rng.choice(free)
        event = await member.react(room, ballot, key)
        expected.done.append(f"react {key} {event}")
        expected.live_reactions[key] = event
        expected.say(event, REACTIONS[key])
    elif choice < 0.6 and own:
        event = rng.choice(own)
        for key, reaction in list(expected.live_reactions.items()):
            if reaction == event:
                del expected.live_reactions[key]
        redaction = await member.redact(room, event)
        expected.done.append(f"redact {event} {redaction}")
        expected.take_back(event, redaction)
    elif choice < 0.67:
        event = await member.send_text(room, "!unvote #1")
        expected.done.append(f"!unvote {event}")
        expected.say(event, None)
    else:
        command = rng.choice(list(COMMANDS))
        position, argument = COMMANDS[command]
        verb, _, rest = command.partition(" ")
        event = await member.send_text(room, f"{verb} #1 {rest}".strip())
        expected.done.append(f"{verb} {event}")
        expected.say(event, position, argument)


async def burst(voters: list[Member], room: str, ballot: str, actions_each: int,
                interruptions: list[tuple[int, Callable[[], Awaitable[None]]]], seed: int) -> dict[str, Expected]:
    """Every voter acts ``actions_each`` times, all at once; after the given numbers of actions done in all, the
    interruption beside each (the bot killed and restarted, a backup…) is awaited while the others go on. Returns
    each voter's expected position."""
    rng = random.Random(seed)
    expected = {voter.user_id: Expected() for voter in voters}
    done = 0
    progress = asyncio.Condition()

    async def one(voter: Member, own: random.Random) -> None:
        nonlocal done
        for _ in range(actions_each):
            await act(voter, room, ballot, expected[voter.user_id], own)
            async with progress:
                done += 1
                progress.notify_all()

    async def interrupt() -> None:
        for point, interruption in interruptions:
            async with progress:
                await progress.wait_for(lambda: done >= point)
            await interruption()

    await asyncio.gather(interrupt(), *(one(voter, random.Random(rng.random())) for voter in voters))
    return expected


async def sent_at(member: Member, room: str, events: list[str]) -> dict[str, datetime]:
    """When the homeserver received each event: from the member's timeline, or asked for one it did not see (a
    limited sync)."""
    at = {}
    for event_id in events:
        event = member.by_id.get(event_id)
        if event is None:
            event = (await member.client.room_get_event(room, event_id)).event
        at[event_id] = datetime.fromtimestamp(event.server_timestamp / 1000, timezone.utc)
    return at


@dataclass
class CrashRun:
    """What one run of the fault suite found."""

    expected: dict[str, Expected]
    positions: dict[str, str | None]
    """member → the position they stood at when the round closed (what they said before the deadline)."""
    late: int
    """Actions that reached the homeserver after the deadline (refused: a loaded machine slows the burst)."""
    recorded: dict[str, str]
    """member → the position the bot's register holds for them."""
    tally: dict[str, int]
    """The outcome's tally."""
    outcomes: int
    ballots: int
    kills: int
    actions: int

    @property
    def wrong(self) -> dict[str, tuple[str | None, str | None]]:
        """member → (recorded, expected) where they differ."""
        return {member: (self.recorded.get(member), position) for member, position in self.positions.items()
                if self.recorded.get(member) != position}


async def crash_run(alice: Member, crowd: list[Member], bot_account: Account, folder: Path, actions_each: int,
                    kill_after: list[int], seed: int, minimum_duration: str = "30s") -> CrashRun:
    """The bot runs as a process; alice proposes; the crowd votes while the bot is killed and restarted; once
    the bot has read everything, its register is compared with what each member last said; then the round
    closes and its outcome is read."""
    config = bot_config(folder, bot_account, [alice.user_id], minimum_duration=minimum_duration)
    bot = BotProcess(folder / "config.yaml", folder / "bot.log")
    bot.start()
    try:
        room = await room_with_bot(alice, bot_account.user_id, *crowd)
        ballot = await propose(alice, room, bot_account.user_id)
        expected = await burst(crowd, room, ballot.event_id, actions_each,
                               [(point, bot.kill_and_restart) for point in kill_after], seed)
        # Once the bot answers a question asked after the burst, it has read everything before it.
        # (Generous: on two cores shared by three test suites, a load of 10, everything runs five times slower.)
        asked = await alice.send_text(room, "!status #1")
        try:
            await answer_to(alice, room, bot_account.user_id, "status", asked, timeout=180)
        except AssertionError as silence:
            alive = "running" if bot.process.poll() is None else f"ended ({bot.process.returncode})"
            raise AssertionError(f"{silence}\nthe bot ({alive}), its log's end:\n{bot.log_tail()}") from None
        recorded = {row["member"]: row["position"] for row in query(
            config.storage.path, "SELECT member, position FROM positions WHERE number = 1 AND round = 1")}
        # What reached the homeserver after the deadline is refused: on a loaded machine the burst may outlast it.
        deadline = datetime.fromisoformat(content(ballot)["consent_bot"]["deadline"])
        at = await sent_at(alice, room, [event for e in expected.values() for event, _, _ in e.said]
                           + [redaction for e in expected.values() for redaction in e.taken_back.values()])
        positions = {member: e.position_at(lambda event: at[event] < deadline) for member, e in expected.items()}
        late = sum(at[event] >= deadline for e in expected.values() for event, _, _ in e.said)
        outcome = await alice.wait_for(from_bot(bot_account.user_id, "outcome"), room=room, timeout=120)
        await answer_to(alice, room, bot_account.user_id, "status", await alice.send_text(room, "!list"))
        return CrashRun(expected, positions, late, recorded, content(outcome)["consent_bot"]["tally"],
                        len(alice.matching(from_bot(bot_account.user_id, "outcome"), room=room)),
                        len(alice.matching(from_bot(bot_account.user_id, "ballot"), room=room)),
                        bot.kills, actions_each * len(crowd))
    finally:
        bot.stop()
