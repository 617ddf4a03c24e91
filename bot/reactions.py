"""Reactions as positions: which emoji stands for which position, however the client spells it."""

from __future__ import annotations

import re
from collections.abc import Mapping

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


def position_of(key: str, reactions: Mapping[Position, tuple[str, ...]]) -> Position | None:
    bare = normalize_emoji(key)
    for position, keys in reactions.items():
        if bare in keys:
            return position
    return None
