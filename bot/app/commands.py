"""The command language: a declarative registry of verbs, aliases, usage lines and handlers.

Commands are declared where they are handled (``@registry.command`` in
``bot/app/handlers.py``), so the registry reads as the list of what the bot
understands. Accents, case and apostrophes are ignored in verbs: ``!Désaccord``,
``!d'accord`` and ``!DACCORD`` all work.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.app.context import MAX_REFERENCE, Context
from bot.config import AssemblySettings
from bot.engine.model import Position

PREFIX = "!"
REFERENCE = re.compile(r"#(\d+)\b")
JOINT_REFERENCE = re.compile(r"#([a-z][a-z0-9-]*)-(\d+)\b", re.IGNORECASE)
"""A network's joint decision, as every room of the network names it: #metropole-3 (the id is greedy: #a-2-3 is
network a-2's #3)."""

Handler = Callable[[Context], Awaitable[None]]


def normalize(word: str) -> str:
    """Fold case, accents and apostrophes: how members may type a verb."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c) and c not in "'’-_")


@dataclass(frozen=True)
class Command:
    verb: str
    aliases: tuple[str, ...]
    usage: str
    """A gettext message id: the usage line, shown with every mistake."""
    summary: str
    """A gettext message id: one line for !help."""
    handler: Handler
    takes_reference: bool = True
    """Whether a ``#N`` (or a joint decision's ``#<network>-N``) right after the verb names a proposal (not for
    !propose: "!propose #3 Revise #3" is a title)."""
    names_network: bool = False
    """Whether the command's first word may name one of the room's networks (!joint): the scope it acts in."""
    needs: frozenset[str] = frozenset()
    """What the handler asks the platform's directory ("facilitator", "members"): asked before the decision's
    transaction opens, since on some platforms it is a request over the network."""
    in_use: Callable[[AssemblySettings], bool] = lambda settings: True
    """Whether the assembly uses it (!help lists only those; one not in use still answers why)."""


@dataclass(frozen=True)
class Invocation:
    """A parsed command line: the command, the ``#N`` it names (if any), and the rest of the text."""

    command: Command
    reference: int | None
    arguments: str
    network: str | None = None
    """The network of a joint decision named ``#<network>-N`` (None: the room's own ``#N``)."""


class UnknownCommand(Exception):
    def __init__(self, verb: str) -> None:
        super().__init__(verb)
        self.verb = verb


class Registry:
    def __init__(self) -> None:
        self.commands: list[Command] = []
        self._by_name: dict[str, Command] = {}
        self.reaction_handler: Callable[[Context, Position], Awaitable[None]] | None = None
        """Handles a position taken by reacting to a ballot."""
        self.reply_handler: Handler | None = None
        """Handles plain text in a ballot's thread (a block's argument)."""

    def on_reaction(self, handler: Callable[[Context, Position], Awaitable[None]]) -> Callable:
        self.reaction_handler = handler
        return handler

    def on_reply(self, handler: Handler) -> Handler:
        self.reply_handler = handler
        return handler

    def command(self, verb: str, *aliases: str, usage: str, summary: str, takes_reference: bool = True,
                needs: frozenset[str] = frozenset(), in_use: Callable[[AssemblySettings], bool] = Command.in_use,
                names_network: bool = False) -> Callable[[Handler], Handler]:
        """Declare a command; an alias may be two words ("pas d'accord"), matched as one."""

        def register(handler: Handler) -> Handler:
            command = Command(verb, aliases, usage, summary, handler, takes_reference, names_network, needs, in_use)
            for name in (verb, *aliases):
                key = normalize(name)
                if self._by_name.get(key, command) is not command:  # "délégations" may spell "delegations"
                    raise ValueError(f"command name {name!r} is declared twice")
                self._by_name[key] = command
            self.commands.append(command)
            return handler

        return register

    def find(self, name: str) -> Command | None:
        return self._by_name.get(normalize(name.removeprefix(PREFIX)))

    def parse(self, text: str) -> Invocation | None:
        """None for a message that is not a command; UnknownCommand for ``!something`` we do not know."""
        stripped = text.strip()
        if not stripped.startswith(PREFIX) or len(stripped) == 1:
            return None
        head, _, rest = stripped[1:].partition("\n")
        verb, _, first_line = head.strip().partition(" ")
        command = self.find(verb)
        if command is None:  # a two-word verb: "!pas d'accord"
            second, _, after = first_line.strip().partition(" ")
            command = self.find(verb + second) if second else None
            if command is None:
                raise UnknownCommand(verb)
            first_line = after
        arguments = (first_line.strip() + ("\n" + rest if rest else "")).strip()
        reference, network = None, None
        match = (REFERENCE.match(arguments) or JOINT_REFERENCE.match(arguments)) if command.takes_reference else None
        if match:
            digits = match.group(match.lastindex)
            reference = int(digits) if len(digits) <= len(str(MAX_REFERENCE)) else MAX_REFERENCE + 1
            network = match.group(1).lower() if match.re is JOINT_REFERENCE else None
            arguments = arguments[match.end():].strip()
        return Invocation(command, reference, arguments, network)
