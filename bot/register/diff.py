"""What changed between two versions of a text, for people to read: a text in numbered parts part by part (a part
replaced is shown removed and added whole, the others unchanged, as the assembly's rules replace parts); any other
text line by line, and word by word within the lines that changed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

from bot.engine.parts import numbered_parts, part_numbers

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


class Op(StrEnum):
    EQUAL = "equal"
    DELETE = "delete"
    INSERT = "insert"


@dataclass(frozen=True)
class Change:
    op: Op
    text: str
    part: int | None = None
    """A numbered part removed or added whole: its number (None: words or lines)."""


def changes(before: str, after: str) -> tuple[Change, ...]:
    """``after`` as ``before`` with parts, lines and words removed and added: joining the EQUAL and INSERT texts gives
    ``after``, the EQUAL and DELETE texts ``before``. Texts in numbered parts (at least two in one of them, one in the
    other) are compared part by part; others line by line, then word by word within lines that changed (a text of at
    most 8,000 characters: difflib's heuristics keep it quick)."""
    found: list[Change] = []
    old, new = _segments(before), _segments(after)
    if old is None or new is None or (len(old) < 3 and len(new) < 3):
        _by_lines(found, before, after)
        return tuple(found)
    # Each text is its preamble (key None, compared by lines), then its parts in the order of their numbers.
    _by_lines(found, old[0][1], new[0][1])
    i, j = 1, 1
    while i < len(old) or j < len(new):
        number_old = old[i][0] if i < len(old) else None
        number_new = new[j][0] if j < len(new) else None
        if number_old is not None and number_new is not None and number_old == number_new:
            was, now = old[i][1], new[j][1]
            if was.strip() == now.strip():
                _by_words(found, was, now)  # the same part; at most a line break moved
            else:
                _add(found, Change(Op.DELETE, was, number_old))
                _add(found, Change(Op.INSERT, now, number_new))
            i, j = i + 1, j + 1
        elif number_new is None or (number_old is not None and number_old < number_new):
            _add(found, Change(Op.DELETE, old[i][1], number_old))
            i += 1
        else:
            _add(found, Change(Op.INSERT, new[j][1], number_new))
            j += 1
    return tuple(found)


@dataclass(frozen=True)
class Revision:
    """What an adopted challenge of numbered parts did to them: the parts it replaced, and those it removed."""

    replaced: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


def revision(before: str, after: str, part: str) -> Revision | None:
    """What a challenge naming ``part`` did to the numbered parts of ``before`` to make ``after``; None when it named
    none of them (the whole text, a part named otherwise, a text without such parts)."""
    numbers = part_numbers(part) if part else None
    had = {p.number for p in numbered_parts(before)}
    if not numbers or not had or any(n not in had for n in numbers):
        return None
    kept = {p.number for p in numbered_parts(after, least=1)}
    return Revision(tuple(n for n in numbers if n in kept), tuple(n for n in numbers if n not in kept))


def _segments(text: str) -> list[tuple[int | None, str]] | None:
    """The text cut before each numbered part's line: (None, its preamble), then (number, the part) for each; None
    for a text without numbered parts. Each piece keeps the line breaks that end it."""
    parts = numbered_parts(text, least=1)
    if not parts:
        return None
    return [(None, text[:parts[0].start]), *((p.number, text[p.start:p.end]) for p in parts)]


def _by_lines(found: list[Change], before: str, after: str) -> None:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(found, Change(Op.EQUAL, "".join(old[i1:i2])))
        elif tag == "replace":
            _by_words(found, "".join(old[i1:i2]), "".join(new[j1:j2]))
        else:
            _add(found, Change(Op.DELETE, "".join(old[i1:i2])))
            _add(found, Change(Op.INSERT, "".join(new[j1:j2])))


def _by_words(found: list[Change], before: str, after: str) -> None:
    """Words, spaces and punctuation are the units; lines rewritten more than they were kept (fewer than half their
    words and signs in common) are shown removed and added whole, not as a salad of the few words they share."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    opcodes = SequenceMatcher(None, old, new).get_opcodes()
    kept = sum(1 for tag, i1, i2, _, _ in opcodes if tag == "equal" for token in old[i1:i2] if not token.isspace())
    signs = sum(1 for token in old + new if not token.isspace())
    if signs and 2 * kept / signs < 0.5:
        _add(found, Change(Op.DELETE, before))
        _add(found, Change(Op.INSERT, after))
        return
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            _add(found, Change(Op.EQUAL, "".join(old[i1:i2])))
            continue
        _add(found, Change(Op.DELETE, "".join(old[i1:i2])))
        _add(found, Change(Op.INSERT, "".join(new[j1:j2])))


def _add(found: list[Change], change: Change) -> None:
    if not change.text:
        return
    last = found[-1] if found else None
    if last is not None and last.op is change.op and last.part is None and change.part is None:
        found[-1] = Change(change.op, last.text + change.text)
    else:
        found.append(change)
