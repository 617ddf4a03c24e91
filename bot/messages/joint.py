"""What the bot says of a joint decision beyond what it says of any proposal: each room's participation."""

from __future__ import annotations

from collections.abc import Mapping, Set

from bot.config import AssemblySettings
from bot.engine import rules
from bot.engine.model import Round
from bot.messages.i18n import Messages
from bot.messages.lines import Text


def participation_by_room(text: Text, round_: Round, members_by_room: Mapping[str, Set[str]],
                          places: tuple[tuple[str, AssemblySettings], ...], m: Messages) -> Text:
    """``text`` followed by lines on how each room of the network took part (a member of several rooms in each one's
    line, once in the tally): in a status and an outcome."""
    names = {room: settings.name or room for room, settings in places}
    text.line(m._("A joint decision of the rooms of the network {network}; answered, by room:"), strong=True,
              network=m.network)
    for room, (answered, members) in rules.participation_by_room(round_, members_by_room).items():
        text.line(m.n_("{room}: {answered} of {count} member.", "{room}: {answered} of {count} members.", members),
                  room=names.get(room, room), answered=answered, count=members)
    return text
