"""Reactions as positions: which emoji stands for which position, however the client spells it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from bot.engine.model import Position

# Variation selectors, skin tones, and the gender signs of ZWJ sequences (🤷‍♀️ is 🤷).
_DECORATIONS = re.compile("[\ufe0e\ufe0f\U0001f3fb-\U0001f3ff]|\u200d[\u2640\u2642]")

MATRIX_DEFAULTS: Mapping[Position, tuple[str, ...]] = {
    Position.AGREE: ("👍", "✅"),
    Position.ABSTAIN: ("🤷", "😐"),
    Position.DISAGREE: ("👎",),
    Position.BLOCK: ("✋", "🛑", "⛔"),
}


def normalize_emoji(key: str) -> str:
    """The bare emoji: 👍🏽 and 👍️ are 👍."""
    return _DECORATIONS.sub("", key).strip()


def position_of(
    key: str, reactions: Mapping[Position, tuple[str, ...]], normalize: Callable[[str], str] = normalize_emoji
) -> Position | None:
    """The position a reaction stands for, once ``normalize`` has stripped how the client decorated it."""
    bare = normalize(key)
    for position, keys in reactions.items():
        if bare in keys:
            return position
    return None


# Mattermost reacts with emoji *names*. Aliases are distinct reactions there (+1 and thumbsup are two chips),
# so every alias of a position is listed; skin tones are a suffix of the name.
MATTERMOST_DEFAULTS: Mapping[Position, tuple[str, ...]] = {
    Position.AGREE: ("+1", "thumbsup", "white_check_mark"),
    Position.ABSTAIN: ("shrug", "neutral_face"),
    Position.DISAGREE: ("-1", "thumbsdown"),
    Position.BLOCK: ("hand", "raised_hand", "stop_sign", "no_entry"),
}
_SKIN_TONE = re.compile(r"_(light|medium_light|medium|medium_dark|dark)_skin_tone$")


def normalize_emoji_name(name: str) -> str:
    """The bare emoji name: +1_skin_tone_3 (older servers) and +1_medium_skin_tone are +1; colons dropped."""
    bare = name.strip().strip(":").lower()
    bare = re.sub(r"_skin_tone_[1-6]$", "", bare)
    return _SKIN_TONE.sub("", bare)
