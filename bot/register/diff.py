"""What changed between two versions of a text: words kept, removed and added, for people to read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]")


class Op(StrEnum):
    EQUAL = "equal"
    DELETE = "delete"
    INSERT = "insert"


@dataclass(frozen=True)
class Change:
    op: Op
    text: str


def changes(before: str, after: str) -> tuple[Change, ...]:
    """``after`` as ``before`` with words removed and added: joining the EQUAL and INSERT texts gives ``after``,
    the EQUAL and DELETE texts ``before``. Words, spaces and punctuation are the units (a text of at most
    8,000 characters: difflib's heuristics keep it quick)."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    found: list[Change] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new).get_opcodes():
        if tag == "equal":
            _add(found, Op.EQUAL, "".join(old[i1:i2]))
            continue
        _add(found, Op.DELETE, "".join(old[i1:i2]))
        _add(found, Op.INSERT, "".join(new[j1:j2]))
    return tuple(found)


def _add(found: list[Change], op: Op, text: str) -> None:
    if not text:
        return
    if found and found[-1].op is op:
        found[-1] = Change(op, found[-1].text + text)
    else:
        found.append(Change(op, text))
