"""The building blocks of every message: lines of translated templates whose parameters are member text (defused,
so that it never pings a whole room), mentions or people; and the labels of the engine's words."""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.engine.model import Assessment, Position, Rule, State
from bot.messages.i18n import N_
from bot.messages.outgoing import Line, Mention, Segment, plain_text

ROOM_PINGS = re.compile(r"@(room|channel|here|all|everyone)\b", re.IGNORECASE)
WORD_JOINER = "\u2060"
_FORMATTER = string.Formatter()


@functools.lru_cache(maxsize=1024)
def _parsed(template: str) -> tuple[tuple[str, str | None], ...]:
    """A translated template's literal parts and parameter names (the same few templates, every message)."""
    return tuple((literal, name) for literal, name, _spec, _conversion in _FORMATTER.parse(template))


POSITION_LABELS = {
    Position.AGREE: N_("agree"),
    Position.ABSTAIN: N_("abstain"),
    Position.DISAGREE: N_("disagree"),
    Position.BLOCK: N_("block"),
}
STATE_LABELS = {
    State.OPEN: N_("open"),
    State.ADOPTED: N_("adopted"),
    State.POSTPONED: N_("postponed"),
    State.REJECTED: N_("rejected"),
    State.WITHDRAWN: N_("withdrawn"),
    State.REPEALED: N_("repealed"),
}
RULE_LABELS = {Rule.CONSENT: N_("consent"), Rule.MAJORITY: N_("majority")}
ASSESSMENT_LABELS = {
    Assessment.RESPECTED: N_("respected"),
    Assessment.PARTLY_RESPECTED: N_("partly respected"),
    Assessment.NOT_RESPECTED: N_("not respected"),
}


def defuse(text: str) -> str:
    """Break room-wide pings (@room, @channel, @here, @all) written in user text."""
    return ROOM_PINGS.sub(lambda match: "@" + WORD_JOINER + match.group(1), text)


@dataclass(frozen=True)
class People:
    """Members named in a line, separated by commas: each one a mention."""

    members: tuple[str, ...]


def people(members: Iterable[str]) -> People:
    return People(tuple(members))


def _segments(value: Any) -> list[Segment]:
    if isinstance(value, Mention):
        return [value]
    if isinstance(value, People):
        segments: list[Segment] = []
        for index, member in enumerate(value.members):
            segments += [", "] if index else []
            segments.append(Mention(member))
        return segments
    return [defuse(str(value))]


@dataclass
class Text:
    """A message built line by line from translated templates."""

    lines: list[Line] = field(default_factory=list)

    def line(self, template: str = "", strong: bool = False, **params: object) -> Text:
        """Add a translated template; its parameters are member text (defused), mentions, or people."""
        segments: list[Segment] = []
        for literal, name in _parsed(template):
            if literal:
                segments.append(literal)
            if name is not None:
                segments += _segments(params[name])
        merged: list[Segment] = []
        for segment in segments:
            if merged and isinstance(segment, str) and isinstance(merged[-1], str):
                merged[-1] += segment
            elif segment != "":
                merged.append(segment)
        self.lines.append(Line(tuple(merged), strong))
        return self

    @property
    def body(self) -> str:
        return plain_text(self.lines)
