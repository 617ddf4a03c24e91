"""The command registry and parser: verbs, aliases, references, arguments."""

from __future__ import annotations

import pytest

from bot.app.commands import Registry, UnknownCommand, normalize
from bot.app.handlers import COMMANDS


@pytest.mark.parametrize("typed", ["!Désaccord", "!desaccord", "!DESACCORD", "!disagree", "!DisAgree"])
def test_verbs_ignore_case_and_accents(typed):
    assert COMMANDS.parse(typed).command.verb == "disagree"


@pytest.mark.parametrize("typed", ["!d'accord", "!d’accord", "!daccord", "!accord", "!agree"])
def test_apostrophes_are_ignored(typed):
    assert COMMANDS.parse(typed).command.verb == "agree"


def test_every_command_has_a_french_alias_and_a_usage_that_starts_with_its_verb():
    for command in COMMANDS.commands:
        assert command.aliases, command.verb
        assert command.usage.startswith("!" + command.verb), command.usage


def test_a_reference_and_a_multiline_text_are_separated():
    invocation = COMMANDS.parse("  !block #12 Too expensive\nand too big  ")
    assert invocation.reference == 12
    assert invocation.arguments == "Too expensive\nand too big"


def test_a_title_then_text_lines():
    invocation = COMMANDS.parse("!propose Buy a kettle\nFor the meeting room.\nAbout 30 euros.")
    assert invocation.reference is None
    assert invocation.arguments == "Buy a kettle\nFor the meeting room.\nAbout 30 euros."


def test_plain_text_is_not_a_command_and_an_unknown_verb_is_named():
    assert COMMANDS.parse("I agree!") is None
    assert COMMANDS.parse("!") is None
    with pytest.raises(UnknownCommand) as unknown:
        COMMANDS.parse("!frobnicate #2")
    assert unknown.value.verb == "frobnicate"


def test_a_name_declared_twice_is_refused():
    registry = Registry()

    @registry.command("agree", "accord", usage="!agree", summary="")
    async def agree(ctx):
        pass

    with pytest.raises(ValueError, match="declared twice"):
        @registry.command("Accord", usage="!accord", summary="")
        async def other(ctx):
            pass


def test_normalize():
    assert normalize("Prolongér") == "prolonger"
