"""The parts every chat adapter shares (the adapters' own tests run them against Synapse and the fake Mattermost)."""

from bot.chat.core import Backoff, Recent, part_payload
from bot.messages.outgoing import Kind, Outgoing


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
