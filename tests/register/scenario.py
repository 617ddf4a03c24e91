"""An assembly with a proposal in every state, made through the real service as members would in the room:
what the register's tests read (pages, JSON, CSV, feeds)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml

from bot.config import Config, load_config
from storage.repository import Repository
from tests.conftest import ROOM, TUESDAY, Assembly, Clock, make_assembly

HOSTILE_TITLE = "<script>alert('title')</script> Paint the <b>door</b>"
HOSTILE_TEXT = "The door in <b>red</b> & <img src=x onerror=alert(1)> \"quoted\""
HOSTILE_ARGUMENT = "<script>alert(\"argument\")</script> we have no budget for paint"
KETTLE_TEXT = "1. A kettle.\n2. Paid from the common fund."
NUMBERS = {"adopted": 1, "postponed": 2, "rejected": 3, "withdrawn": 4, "repealed": 5, "amending": 6,
           "repealing": 7, "open": 8}
"""Which proposal ends in which state (6 amends #1, 7 repeals #5)."""


def config_for(folder: Path, language: str = "en", **register: object) -> Config:
    """The assembly's configuration, with ``register`` as its register section."""
    path = folder / "config.yaml"
    document = {"storage": {"path": "consent.db"}, "register": register,
                "assembly": {"language": language, "facilitators": ["fay"], "name": "Assemblée des communs",
                             "followup": ["mayor"], "delegation": True}}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return load_config(path, environ={})


async def build(assembly: Assembly) -> None:
    """Four weeks of an assembly's life, through the service (each number in NUMBERS ends as it says; #1 is
    followed up by the mayor then a facilitator)."""
    room = assembly
    room.room.names.update({"alice", "bob", "carol", "dan", "fay"})
    await room.say("alice", f"!propose Buy a kettle\n{KETTLE_TEXT}")
    await room.say("carol", "!agree #1 only if it costs less than 30 €")
    await room.say("bob", "!abstain #1")
    await room.say("carol", f"!propose {HOSTILE_TITLE}\n{HOSTILE_TEXT}")
    await room.say("bob", f"!block #2 {HOSTILE_ARGUMENT}")
    await room.say("alice", "!propose Rent a van\nA van for the market, 80 € a day.")
    await room.say("bob", "!block #3 Vans are too expensive for us now")
    await room.say("dan", "!propose Adopt a cat")
    await room.say("dan", "!withdraw #4")
    await room.say("fay", "!propose Repaint the hall\nIn white.")
    await room.say("dan", "!block #5")  # a block without argument: not valid
    # Friday: #1 adopted, #2 and #3 postponed, #5 adopted.
    await room.advance_to(TUESDAY + timedelta(days=3, hours=1))
    await room.say("bob", "!challenge #1 part 2: the fund is for repairs\n2. Paid by donations.")
    await room.say("carol", "!challenge #5 We do not need it any more")
    await room.say("alice", "!agree #6")
    room.room.names.add("mayor")  # elected after #1 was adopted, bound to apply it
    await room.say("mayor", "!followup #1 in progress 40% <b>ordered</b>, delivered next week")
    # A week after #3's first round opened: its second round, with an amended text.
    await room.advance_to(TUESDAY + timedelta(days=7))
    await room.say("alice", "!round #3 A van for the market, 60 € a day.")
    await room.say("bob", "!block #3 Still too expensive for us now")
    await room.advance_to(TUESDAY + timedelta(days=14))
    # Two blocked rounds a week apart: the third round of #3 is by majority, and rejected (dan, who takes no
    # position, counts with bob's by delegation).
    await room.say("dan", "!delegate bob")
    await room.say("alice", "!round #3")
    await room.say("alice", "!agree #3")
    await room.say("bob", "!disagree #3 too expensive")
    await room.say("carol", "!block #3")
    await room.advance_to(TUESDAY + timedelta(days=18))
    await room.say("fay", "!followup #1 applied The kettle is in the kitchen.")
    await room.say("alice", "!propose Plant trees\nThree apple trees in the yard.")
    await room.say("bob", "!agree #8 <i>yes</i>")


async def built(folder: Path, **register: object) -> tuple[Config, Repository, Assembly]:
    config = config_for(folder, **register)
    repository = await Repository.open(folder / "consent.db")
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    await build(assembly)
    return config, repository, assembly


__all__ = ["ROOM", "NUMBERS", "build", "built", "config_for"]
