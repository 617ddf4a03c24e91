"""What members type, made safe to store and show: every platform can deliver text SQLite cannot encode."""

from __future__ import annotations

import re

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
"""C0 and C1 control characters but tab and line feed: invisible, meaningless in chat, and they would
cost a JSON escape each in every message that quotes them."""
EXCERPT = 60


def clean(text: str) -> str:
    """Lone surrogates (JSON may carry them, a terminal may produce them from invalid UTF-8) become U+FFFD;
    control characters go; line ends become line feeds."""
    if not isinstance(text, str):
        return ""
    if text.isascii() and text.isprintable():  # most commands: nothing to clean
        return text
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a member's text, quoted in an answer: never the whole of a huge message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
