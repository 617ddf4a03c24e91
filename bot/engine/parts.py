"""Parts that are parts: a text written in numbered parts ("1.", "2)", "Article 3", "Art. 4", in either language)
has its parts replaced, or removed, by an adopted challenge that names them ("part 2", "part 2-3", "part 2,4")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.engine.model import RuleViolation

_HEAD = re.compile(r"^[ \t]*(?:(?:article|art\.?)[ \t]*(\d{1,4})\b[ \t]*[.:)—–-]?|(\d{1,4})[ \t]*[.)])[ \t]*",
                   re.IGNORECASE | re.MULTILINE)
_SPEC = re.compile(r"\d{1,4}(?:\s*-\s*\d{1,4})?(?:\s*,\s*\d{1,4}(?:\s*-\s*\d{1,4})?)*")
MAX_PARTS = 200
"""A part span names at most this many parts ("part 1-9999" is no part)."""


@dataclass(frozen=True)
class Part:
    number: int
    start: int
    """Where the part's line starts in the text."""
    end: int
    """Where the next part starts (or the text ends)."""


def numbered_parts(text: str, least: int = 2) -> list[Part]:
    """The text's numbered parts, in order; [] when it has fewer than ``least`` or their numbers do not grow (a
    decision of one paragraph that starts "1." is no text in parts; a challenge's new part 2 alone is one; a part
    removed leaves a gap: "1.", "3." are still parts, as articles keep their numbers when one is repealed)."""
    heads = list(_HEAD.finditer(text))
    numbers = [int(head.group(1) or head.group(2)) for head in heads]
    if len(heads) < least or any(later <= earlier for earlier, later in zip(numbers, numbers[1:])):
        return []
    ends = [head.start() for head in heads[1:]] + [len(text)]
    return [Part(number, head.start(), end) for number, head, end in zip(numbers, heads, ends)]


def part_numbers(written: str) -> tuple[int, ...] | None:
    """The parts a challenge names ("2", "2-3", "2, 4", "article 2"), in order; None for a part named otherwise
    (free-form: "the paragraph on prices"), which keeps the decision's text and adds the change after it."""
    spec = re.sub(r"^(?:articles?|art\.?)\s*", "", written.strip(), flags=re.IGNORECASE)
    if not _SPEC.fullmatch(spec):
        return None
    numbers: list[int] = []
    for piece in spec.split(","):
        first, _, last = piece.partition("-")
        low, high = int(first), int(last or first)
        if high < low or high - low >= MAX_PARTS or len(numbers) + high - low >= MAX_PARTS:
            return None
        numbers += [n for n in range(low, high + 1) if n not in numbers]
    return tuple(numbers)


def check_parts(decision_text: str, written: str, new_text: str) -> None:
    """A challenge of numbered parts names parts the decision has; a new text for several parts numbers them."""
    numbers = part_numbers(written)
    parts = numbered_parts(decision_text)
    if numbers is None or not parts:
        return
    known = [part.number for part in parts]
    missing = [n for n in numbers if n not in known]
    if missing:
        raise RuleViolation("no_such_part", part=", ".join(map(str, missing)), parts=", ".join(map(str, known)))
    given = [part.number for part in numbered_parts(new_text, least=1)]
    if any(n not in numbers for n in given):
        raise RuleViolation("new_part_not_named", parts=", ".join(map(str, numbers)))
    if new_text.strip() and not given and len(numbers) > 1:
        raise RuleViolation("number_the_new_parts", parts=", ".join(map(str, numbers)))


def replaced(text: str, written: str, new_text: str) -> str | None:
    """The text with the named parts replaced by the new text's (a single part by the new text itself, keeping its
    number), or removed when the new text gives none; None when the text has no such parts (then a change is
    added after it, as for a free-form part)."""
    numbers = part_numbers(written)
    parts = {part.number: part for part in numbered_parts(text)}
    if numbers is None or not parts or any(n not in parts for n in numbers):
        return None
    new_parts = {part.number: new_text[part.start:part.end].strip() for part in numbered_parts(new_text, least=1)}
    if new_text.strip() and not new_parts:  # one part, its new body
        head = _HEAD.match(text, parts[numbers[0]].start)
        new_parts = {numbers[0]: text[head.start():head.end()].strip() + " " + new_text.strip()}
    pieces, cursor = [], 0
    for number, part in sorted(parts.items()):
        if number in numbers:
            pieces.append(text[cursor:part.start])
            if number in new_parts:
                pieces.append(new_parts[number] + ("\n" if text[part.start:part.end].endswith("\n") else ""))
            cursor = part.end
    pieces.append(text[cursor:])
    return "".join(pieces).rstrip("\n") if not text.endswith("\n") else "".join(pieces)


def quoted(text: str, written: str) -> str | None:
    """The named numbered parts as the text has them (what a challenge would replace, or what replaced them);
    None when the text has none of them, or when the part is named otherwise."""
    numbers = part_numbers(written)
    if numbers is None:
        return None
    found = [text[part.start:part.end].strip() for part in numbered_parts(text) if part.number in numbers]
    return "\n".join(found) or None
