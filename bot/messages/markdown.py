"""Member text inside Markdown, shown as written: its own Markdown (links, images, headings, lists) escaped."""

from __future__ import annotations

import re

_INLINE = re.compile(r"([\\`*_\[\]~|<>])")
_LINE_START = re.compile(r"^([ \t]*)([#>+\-=]|\d+[.)])", re.MULTILINE)


def escape_inline(text: str) -> str:
    """Markdown's inline markers escaped (emphasis, code, links, HTML): enough inside a line."""
    return _INLINE.sub(r"\\\1", text)


def escape_line_starts(text: str) -> str:
    """The markers that mean something at a line's start (headings, quotes, lists, setext) escaped."""
    return _LINE_START.sub(_escape_line_start, text)


def escape_markdown(text: str) -> str:
    """Text shown as written wherever it stands in a Markdown document."""
    return escape_line_starts(escape_inline(text))


def _escape_line_start(match: re.Match) -> str:
    marker = match.group(2)
    escaped = marker[:-1] + "\\" + marker[-1] if marker[0].isdigit() else "\\" + marker
    return match.group(1) + escaped
