"""An assembly with a proposal in every state and the pact's whole story, made through the real service as members and
officials would in the room: what the register's tests read (pages, JSON, CSV, feeds)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import yaml

from bot.config import Config, load_config
from storage.repository import Repository, to_text
from tests.conftest import ROOM, TUESDAY, Assembly, Clock, make_assembly

HOSTILE_TITLE = "<script>alert('title')</script> Paint the <b>door</b>"
HOSTILE_TEXT = "The door in <b>red</b> & <img src=x onerror=alert(1)> \"quoted\""
HOSTILE_ARGUMENT = "<script>alert(\"argument\")</script> we have no budget for paint"
HOSTILE_FACT = "signed the order <b>closing</b> the street <script>alert('fact')</script>"
HOSTILE_SOURCE = "https://lille.fr/arretes/2027-117?a=1&b=\"><script>alert('source')</script>"
HOSTILE_STATEMENT = "<i>Closed</i> every Sunday since 20 June <img src=x onerror=alert('statement')>"
HOSTILE_REASON = "<script>alert('reason')</script> it stayed open one Sunday in three"
HOSTILE_TOPIC = "<b>Commons</b> & @room"
KETTLE_TEXT = "1. A kettle.\n2. Paid from the common fund."
NUMBERS = {"adopted": 1, "postponed": 2, "rejected": 3, "withdrawn": 4, "repealed": 5, "amending": 6,
           "repealing": 7, "referral": 8, "verdict": 9, "open": 10}
"""Which proposal ends in which state (6 amends #1, 7 repeals #5; 8 is the mayor's referral, adopted; 9 the
assembly's verdict on how she applied it, blocked, amended and adopted; 10 is open)."""
TOPICS = [{"id": "transport", "names": {"en": "Transport", "fr": "Mobilités"}},
          {"id": "commons", "names": {"en": HOSTILE_TOPIC, "fr": "Communs"}},
          {"id": "budget", "names": {"en": "Budget"}}]
"""The assembly's topics: #1 (and #6, its challenge) on the commons, whose name is full of HTML; #3 on transport, and
#8 put on it later (#9, its verdict, with it); no proposal on the budget."""
ON_TOPIC = {"transport": [3, 8, 9], "commons": [1, 6]}
MAYOR = {"id": "martine", "name": "Martine Dupont", "role": "maire", "mandate_start": "2026-03-22",
         "mandate_end": "2032-03-21", "accounts": ["mayor"],
         "pact": {"refer": "2026-04-02", "respect": "2026-04-02", "record": "2026-04-02",
                  "no_self_assessment": "2026-04-02"}}
DEPUTY = {"id": "paul", "name": "Paul Martin", "role": "adjoint à la voirie", "mandate_start": "2026-03-22",
          "pact": {"refer": "2026-05-11"}}
FOLLOWUP_BEFORE_THE_PACT = "applied: The kettle is in the kitchen."
MEMBERS = ("alice", "bob", "carol", "dan", "fay", "mayor")


def config_for(folder: Path, language: str = "en", **register: object) -> Config:
    """The assembly's configuration, with ``register`` as its register section."""
    path = folder / "config.yaml"
    document = {"storage": {"path": "consent.db"}, "register": register,
                "assembly": {"language": language, "facilitators": ["fay"], "name": "Assemblée des communs",
                             "officials": [MAYOR, DEPUTY], "delegation": True, "topics": TOPICS}}
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return load_config(path, environ={})


async def followed_up_before_the_pact(repository: Repository, at: str) -> None:
    """#1 followed up by fay before the pact, as migration 13 keeps such a follow-up: a statement of no official,
    and its line of history (no command makes one any more)."""
    repository.defer("INSERT INTO statements (room, number, seq, official, member, at, text)"
                     " VALUES (?, 1, 1, NULL, 'fay', ?, ?)", (ROOM, at, FOLLOWUP_BEFORE_THE_PACT))
    repository.defer("INSERT INTO history (room, number, round, action, member, position, argument, detail, at)"
                     " VALUES (?, 1, 1, 'followed_up', 'fay', NULL, 'The kettle is in the kitchen.', 'applied 100', ?)",
                     (ROOM, at))
    await repository.flush()


async def build(assembly: Assembly) -> None:
    """Four weeks of an assembly's life, through the service (each number in NUMBERS ends as it says). The pact: the
    mayor refers #8 and is bound to apply #1 and #8, the deputy #8 too; members record two facts on #8, the mayor
    makes a statement on #1 and on #8; #9, the verdict "not respected" on her application of #8, is blocked with an
    argument, amended to "partly respected" and adopted. Delegations on each scope count at a close: dan's on
    transport (#3's third round, and #9's second), bob's on the whole room and fay's on #9 (#9's second round)."""
    room = assembly
    room.room.names.update(MEMBERS)
    await room.say("alice", f"!propose topic commons Buy a kettle\n{KETTLE_TEXT}")
    await room.say("carol", "!agree #1 only if it costs less than 30 €")
    await room.say("bob", "!abstain #1")
    await room.say("carol", f"!propose {HOSTILE_TITLE}\n{HOSTILE_TEXT}")
    await room.say("bob", f"!block #2 {HOSTILE_ARGUMENT}")
    await room.say("alice", "!propose topic transport Rent a van\nA van for the market, 80 € a day.")
    await room.say("bob", "!block #3 Vans are too expensive for us now")
    await room.say("dan", "!propose Adopt a cat")
    await room.say("dan", "!withdraw #4")
    await room.say("fay", "!propose Repaint the hall\nIn white.")
    await room.say("dan", "!block #5")  # a block without argument: not valid
    # Friday: #1 adopted, #2 and #3 postponed, #5 adopted.
    await room.advance_to(TUESDAY + timedelta(days=3, hours=1))
    await followed_up_before_the_pact(room.repository, to_text(room.clock.now))
    await room.say("bob", "!challenge #1 part 2: the fund is for repairs\n2. Paid by donations.")
    await room.say("carol", "!challenge #5 We do not need it any more")
    await room.say("alice", "!agree #6")
    await room.say("fay", "!bind #1 martine")
    await room.say("mayor", "!followup #1 The kettle is <b>ordered</b>, delivered next week")  # now a statement
    await room.say("mayor", "!refer by 2027-06-18 Close the street on Sundays\nFrom May to September, 8 am to 8 pm.")
    await room.say("fay", "!bind #8 paul")
    await room.say("fay", "!topics #8 transport")
    # A week after #3's first round opened: its second round, with an amended text.
    await room.advance_to(TUESDAY + timedelta(days=7))
    await room.say("alice", "!round #3 A van for the market, 60 € a day.")
    await room.say("bob", "!block #3 Still too expensive for us now")
    await room.advance_to(TUESDAY + timedelta(days=14))
    # Two blocked rounds a week apart: the third round of #3 is by majority, and rejected (dan, who takes no
    # position, counts with bob's by his delegation on transport).
    await room.say("dan", "!delegate bob topic transport")
    await room.say("alice", "!round #3")
    await room.say("alice", "!agree #3")
    await room.say("bob", "!disagree #3 too expensive")
    await room.say("carol", "!block #3")
    # #8 was adopted on Wednesday 16 June: members record what the mayor did, she states her own word, and carol
    # proposes the assembly's verdict, which dan blocks with an argument.
    await room.say("alice", f"!fact #8 martine on 2027-06-20 {HOSTILE_FACT} source: {HOSTILE_SOURCE}")
    room.clock.advance(minutes=10)
    await room.say("bob", "!fait #8 martine les barrières manquaient le dimanche 27 juin source : photos du forum")
    room.clock.advance(minutes=10)
    await room.say("mayor", f"!statement #8 {HOSTILE_STATEMENT}")
    room.clock.advance(minutes=10)
    await room.say("carol", f"!verdict #8 martine not respected: {HOSTILE_REASON}")
    await room.say("dan", "!block #9 The barriers were moved by passers-by, not left open by the town hall.")
    # #9 postponed on Friday: carol amends its assessment, and opens its second round a week after the first.
    await room.advance_to(TUESDAY + timedelta(days=18))
    await room.say("carol", "!amend #9 partly respected: closed on most Sundays, open on one")
    await room.advance_to(TUESDAY + timedelta(days=21, hours=1))
    await room.say("carol", "!round #9")
    await room.say("alice", "!agree #9")
    # Who takes no position counts with alice's at the close: bob by his delegation on the room, fay by hers on #9,
    # dan by his on transport (to bob, who entrusts his vote to alice).
    await room.say("bob", "!delegate alice")
    await room.say("fay", "!delegate alice #9")
    await room.advance_to(TUESDAY + timedelta(days=23))
    await room.say("alice", "!propose Plant trees\nThree apple trees in the yard.")
    await room.say("bob", "!agree #10 <i>yes</i>")
    # Friday 2 July: #9 adopted, #10 still open.
    await room.advance_to(TUESDAY + timedelta(days=24, hours=2))


async def built(folder: Path, location: Path | str | None = None, **register: object
                ) -> tuple[Config, Repository, Assembly]:
    """The scenario's register in ``location`` (a PostgreSQL URL, or a SQLite file: by default the configuration's),
    with its configuration in ``folder``."""
    config = config_for(folder, **register)
    repository = await Repository.open(location or folder / "consent.db")
    assembly = await make_assembly(config, Clock(TUESDAY), repository)
    await build(assembly)
    return config, repository, assembly


__all__ = ["ROOM", "NUMBERS", "build", "built", "config_for"]
