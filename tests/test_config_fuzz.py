"""Fuzzing the configuration: whatever a file holds, loading it is a keyed refusal or a bot that works.

Each example starts from a valid file that uses every assembly key, mutates it (a value replaced by
something nasty or by another valid spelling, a key deleted, an unknown key added), and loads it.
Either load_config raises ConfigError and every line names a key of the mutated file (or the file
itself, for YAML-level errors), or the configuration runs a whole decision cycle: rounds blocked
until the majority rule applies, then a round decided by majority, each round with its outcome.
"""

from __future__ import annotations

import asyncio
import copy
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.config import AssemblySettings, Config, ConfigError, load_config
from bot.messages.outgoing import Kind, Outgoing
from storage.repository import Repository
from tests.conftest import TUESDAY, Clock, make_assembly

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class HugeInt(str):
    """An integer of thousands of digits: Python's own str(int) refuses it, so it is written as its digits."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(HugeInt, lambda dumper, digits: dumper.represent_scalar("tag:yaml.org,2002:int", digits))


def base_document(tmp_path: Path) -> dict[str, Any]:
    """A valid file using every assembly key, a room override, and both chat sections."""
    return {
        "platform": "console",
        "storage": {"path": str(tmp_path / "data" / "consent.db")},
        "log_level": "WARNING",
        # Every assembly key, some away from their defaults.
        "assembly": {**{name: copy.deepcopy(field.default) for name, field in AssemblySettings.model_fields.items()},
                     "holidays": {"country": "FR", "subdivision": None}, "language": "en", "quorum": "1/2",
                     "facilitators": ["fay", "@alice:example.org"]},
        "rooms": {
            "!room:test": {"language": "fr", "quorum": 0, "holidays": {"subdivision": "57"}},
            "!other:test": {"minimum_duration": "24h"},
        },
        "matrix": {"homeserver": "https://matrix.example.org", "user_id": "@consent:example.org",
                   "access_token": "t", "allowed_inviters": [":example.org"], "facilitator_power_level": 50},
        "mattermost": {"url": "https://chat.example.org", "token": "t", "teams": ["assembly"]},
        "register": {"enabled": False, "bind": "127.0.0.1", "port": 8080, "public_url": "https://register.example.org",
                     "licence": "ODbL-1.0", "show_names": True},
    }


NASTY: list[Any] = [
    10**12, -1, 0, -(10**30), 10**300, 1.5, -0.1, float("inf"), float("-inf"), float("nan"),
    "3000000d", "120000mo", "999999999w", "0s", "-1h", "nan", "inf", "1e400", "1e999999999", "2/0", "",
    " ", None, [], [1, 2], ["24h"] * 11, [None], {}, {"a": 1}, {"country": [1]}, "x" * 10_000, ["x" * 300],
    "a\0b", "../../etc/passwd", "é東京🙂", "\n", "line\nbreak", True, False, HugeInt("1" * 5001),
    "1" * 5001 + "d", "2027-02-30", "matrix", "slack", "/proc/consent.db", ":memory:", "https://[::1",
    "postgresql://[::1", "postgres://u:p@h:99999/d", "postgresql://h/a/b#c",
]
# Valid alternatives, by key name: a mutation may also swap a value for another that the bot accepts.
VALID: dict[str, list[Any]] = {
    "platform": ["console", "CONSOLE", "matrix", "mattermost"],
    "log_level": ["debug", "ERROR"],
    "language": ["fr", "EN"],
    "timezone": ["UTC", "America/Montreal", "Pacific/Kiritimati"],
    "country": ["DE", "fr", "CA"],
    "subdivision": [None, "57", "Moselle", 57, "BY"],
    "working_days_only": [False, True],
    "minimum_duration": ["48h", "1d12h", "60d", "1s", "72 h"],
    "reminders": [[], ["12h"], ["60d", "1m"], ["1h"] * 10],
    "days_between_rounds": ["0d", "1d", "365d", "2w"],
    "blocked_rounds_before_majority": [1, 3],
    "majority": ["1/2", "75%", 1, 0.67, "100%", "51 %"],
    "majority_lock": ["0d", "60mo", "1mo2w", "1827d"],
    "quorum": [0, "1/2", "75%", 1, 0.5],
    "facilitators": [[], ["bob"], ["a" * 255]],
    "path": [":memory:", "other.db", "deep/er/consent.db"],
    "storage": [{"path": "other.db"}, {"url": "postgresql://consent:pw@db.example.org/consent"},
                {"url": "postgres://consent@/consent?host=/run/postgresql"}],
    "teams": [[], ["t" * 64]],
    "facilitator_power_level": [0, 100],
    "name": ["", "Assemblée des communs", "n" * 200],
    "enabled": [True, False],
    "bind": ["0.0.0.0", "::1", "localhost", "register.example.org"],
    "port": [0, 1, 65535, "8080"],
    "public_url": ["", "http://localhost:8080/", "https://example.org/register"],
    "licence": ["CC-BY-4.0", "l" * 200],
    "show_names": [False, True],
}
UNKNOWN_KEYS = ["colour", "quorom", "timzone", "a.b", "x\ny", 42, None, "é"]

Path_ = tuple[Any, ...]


def paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key and list item of the document, as a tuple of keys and indices."""
    found = []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for name, child in children:
        found.append((*prefix, name))
        found.extend(paths(child, (*prefix, name)))
    return found


def containers(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every mapping of the document (where an unknown key may be added)."""
    found = [prefix] if isinstance(node, dict) else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for name, child in children:
        found.extend(containers(child, (*prefix, name)))
    return found


def at(document: Any, path: Path_) -> Any:
    for name in path:
        document = document[name]
    return document


@st.composite
def mutated_documents(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        action = draw(st.sampled_from(["nasty", "valid", "valid", "delete", "add"]))
        if action == "add":
            parent = at(document, draw(st.sampled_from(containers(document))))
            parent[draw(st.sampled_from(UNKNOWN_KEYS))] = copy.deepcopy(draw(st.sampled_from(NASTY)))
            continue
        every = paths(document)
        if not every:
            break
        path = draw(st.sampled_from(every))
        parent, name = at(document, path[:-1]), path[-1]
        if action == "delete":
            del parent[name]
        elif action == "valid" and name in VALID:  # (a key with no valid alternatives gets a nasty value)
            parent[name] = copy.deepcopy(draw(st.sampled_from(VALID[name])))
        else:
            parent[name] = copy.deepcopy(draw(st.sampled_from(NASTY)))
    return document


# --- The property on a refusal: one line per problem, each named by a key of the file -------------


def shown(key: str) -> str:
    """A key as error lines show it: control characters escaped."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in key)


def render(document: dict[str, Any], path: Path_) -> str:
    text, node = "", document
    for name in path:
        if isinstance(node, list):
            text += f"[{name}]"
        else:
            part = name if isinstance(name, str) else repr(name)
            text = f"{text}.{part}" if text else part
        node = node[name]
    return shown(text)


def names_a_key(line: str, keys: set[str], document: dict[str, Any]) -> bool:
    """Whether the line starts with a key of the document, or with a key its parent section implies.

    A setting missing from a section that exists is reported by its own name ("rooms.!r.holidays.subdivision"
    when the room's holidays name only a country); a chat section the platform requires, by its keys.
    """
    key = line.split(": ", 1)[0]
    if key in keys:
        return True
    parent = key.rsplit(".", 1)[0] if "." in key else None
    if parent in keys:
        return True
    platform = str(document.get("platform", "")).lower()
    return key.split(".")[0] == platform and platform in ("matrix", "mattermost")


# --- The property on a valid configuration: a whole decision cycle runs -----------------------------


ARGUMENT = "this would close the community garden for good"


def ballot_of(answers: list[Outgoing]) -> Outgoing:
    ballots = [m for m in answers if m.kind is Kind.BALLOT]
    assert ballots, [(m.kind, m.body) for m in answers]
    return ballots[-1]


async def decision_cycle(config: Config, database: Path) -> None:
    """Propose; block until the majority rule applies, a round at a time; then both agree by majority."""
    repository = await Repository.open(database)
    try:
        clock = Clock(TUESDAY)
        assembly = await make_assembly(config, clock, repository)
        ballot = ballot_of(await assembly.say("alice", "!propose Fuzzed rules"))
        code = config.for_room(ballot.room).code
        rounds = code.blocked_rounds_before_majority + 1
        opened = clock.now
        for number in range(1, rounds + 1):
            if number > 1:
                # The next round may open once days_between_rounds has passed since this one opened (on the
                # local wall clock: two hours' margin for a change of daylight saving time).
                await assembly.advance_to(max(clock.now, opened + code.days_between_rounds + timedelta(hours=2)))
                opened = clock.now
                ballot = ballot_of(await assembly.say("alice", "!round #1"))
            assert ballot.payload["round"] == number
            deadline = datetime.fromisoformat(ballot.payload["deadline"])
            await assembly.say("bob", f"!block #1 {ARGUMENT}" if number < rounds else "!agree #1")
            await assembly.say("alice", "!agree #1")
            await assembly.advance_to(deadline + timedelta(minutes=1))
        outcomes = [m.payload for m in assembly.sender.sent if m.kind is Kind.OUTCOME]
        assert [(o["round"], o["state"]) for o in outcomes] == (
            [(n, "postponed") for n in range(1, rounds)] + [(rounds, "adopted")]
        )
        assert outcomes[-1]["rule"] == "majority"
    finally:
        await repository.close()


# --- The fuzzing ------------------------------------------------------------------------------------


def write(path: Path, document: dict[str, Any]) -> None:
    path.write_text(yaml.dump(document, Dumper=_Dumper, allow_unicode=True), encoding="utf-8")


@FUZZ
@given(data=st.data())
def test_any_configuration_is_refused_by_key_or_runs_a_whole_decision(tmp_path, data):
    # A folder of its own for each example: loading may create the storage folder, which must not
    # change what the next example finds.
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        check_one(Path(folder), data.draw(mutated_documents(base_document(Path(folder)))))


def check_one(folder: Path, document: dict[str, Any]) -> None:
    path = folder / "config.yaml"
    write(path, document)
    try:
        config = load_config(path, environ={})
    except ConfigError as error:
        event("refused")
        assert error.errors, "a refusal says why"
        keys = {render(document, p) for p in paths(document)}
        for line in error.errors:
            assert "\n" not in line and len(line) < 1000, line
            assert line.startswith(str(path)) or names_a_key(line, keys, document), (line, sorted(keys))
            assert "please report it as a bug" not in line, line
        return
    event("ran a decision cycle")
    asyncio.run(decision_cycle(config, folder / "cycle.db"))


def test_the_base_document_runs_a_whole_decision(tmp_path):
    path = tmp_path / "config.yaml"
    write(path, base_document(tmp_path))
    asyncio.run(decision_cycle(load_config(path, environ={}), tmp_path / "consent.db"))


def test_a_huge_integer_is_written_as_its_digits(tmp_path):
    path = tmp_path / "config.yaml"
    write(path, {"assembly": {"quorum": HugeInt("1" * 5001)}})
    assert path.read_text().startswith("assembly:\n  quorum: 1111")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.errors[0].startswith(f"{path}: invalid YAML")
