"""The parts every chat adapter shares (the adapters' own tests run them against Synapse and the fake Mattermost)."""

import asyncio
from datetime import timedelta

import pytest

from bot.chat.core import Backoff, ChatBot, ChatSender, Recent, cancelled, listing, part_payload
from bot.config import default_config
from bot.console import ConsoleRoom
from bot.messages.outgoing import Kind, Outgoing
from storage.repository import Repository
from tests.conftest import TUESDAY, Clock


def test_a_recent_memory_forgets_the_oldest_entry_first():
    memory = Recent(2)
    memory["a"], memory["b"] = "1", "2"
    memory["a"] = "1 again"  # seen again: now the newest
    memory["c"] = "3"
    assert dict(memory) == {"a": "1 again", "c": "3"}


def test_backoff_doubles_up_to_its_maximum_and_starts_over_after_a_success():
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5


def test_each_part_of_a_split_message_says_which_part_it_is():
    message = Outgoing("k", "room", Kind.STATUS, payload={"kind": "status", "proposal": 3})
    assert part_payload(message, 0, 1) == {"kind": "status", "proposal": 3}
    assert part_payload(message, 1, 3) == {"kind": "status", "proposal": 3, "part": 2, "parts": 3}
    bare = Outgoing("k", "room", Kind.ERROR)
    assert part_payload(bare, 0, 2) == {"kind": "error", "part": 1, "parts": 2}


class _Sender(ChatSender):
    async def react(self, room: str, target: str, key: str, idempotency_key: str) -> str | None:
        raise AssertionError("nothing is sent here")

    async def post(self, message: Outgoing, ballot_id: str | None) -> str | None:
        raise AssertionError("nothing is sent here")


class _Bot(ChatBot):
    async def serve(self) -> None: ...

    async def catch_up(self, room: str) -> bool:
        return True

    async def close(self) -> None: ...

    def identity(self) -> list[str]:
        return []


async def test_a_platform_clock_ahead_of_the_bots_never_pushes_a_vote_past_its_deadline():
    """A vote's instant is when the platform says the member acted, but never later than it reached the bot:
    a homeserver whose clock runs an hour ahead cannot make a vote cast before the deadline count as late."""
    clock = Clock(TUESDAY)
    repository = await Repository.open(":memory:")
    bot = _Bot(default_config(), repository, ConsoleRoom({"bob"}), _Sender({}, "✅"), clock)
    assert bot.instant(TUESDAY + timedelta(hours=1)) == TUESDAY  # stamped ahead: the instant it reached the bot
    assert bot.instant(TUESDAY - timedelta(minutes=5)) == TUESDAY - timedelta(minutes=5)  # earlier: as stamped
    await repository.close()


def test_a_listing_in_a_log_line_is_bounded():
    assert listing(["@a:x", ":y"]) == "@a:x, :y"
    assert listing([f":s{i}" for i in range(1000)]) == ":s0, :s1, :s2, :s3, :s4 and 995 more"


async def test_a_task_that_swallowed_its_cancellation_is_cancelled_again_until_it_ends():
    # A database call cut off mid-way (asyncpg) may turn the cancellation into an error of its own: the serving
    # loop, which retries errors, must still end (else it serves on without its lease).
    rounds = 0

    async def serving_loop() -> None:
        nonlocal rounds
        while True:
            rounds += 1
            try:
                await asyncio.sleep(3600)  # a call to the database
            except asyncio.CancelledError:
                if rounds > 1:
                    raise
                # the first time swallowed, as a library cut off mid-call did; the loop tries again

    task = asyncio.create_task(serving_loop())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancelled(task), timeout=5)
    assert task.cancelled() and rounds == 2
