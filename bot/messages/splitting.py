"""Splitting a message that is too long for its platform into parts that each fit, between lines if possible.

The platform measures: ``cost(line)`` is what one line adds to a part in the platform's own unit (bytes
of JSON on Matrix, characters on Mattermost), escaping included. Lines are packed in order; a line that
alone exceeds the budget is cut, at a space when one is near, never inside a mention.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from bot.messages.outgoing import Line, Mention, Segment

Cost = Callable[[Line], int]
NEAR = 200
"""How far back from the cut a space is looked for, in characters."""


def split(lines: Iterable[Line], cost: Cost, budget: int) -> list[tuple[Line, ...]]:
    """The lines packed into as few parts as the budget allows, in order; at least one part."""
    parts: list[tuple[Line, ...]] = []
    current: list[Line] = []
    used = 0
    for line in lines:
        for piece in _cut(line, cost, budget):
            size = cost(piece)
            if current and used + size > budget:
                parts.append(tuple(current))
                current, used = [], 0
            current.append(piece)
            used += size
    if current or not parts:
        parts.append(tuple(current))
    return parts


def _atoms(line: Line) -> list[str | Mention]:
    """The line as characters and whole mentions: the places it may be cut."""
    atoms: list[str | Mention] = []
    for segment in line.segments:
        atoms.extend(segment) if isinstance(segment, str) else atoms.append(segment)
    return atoms


def _line(atoms: list[str | Mention], strong: bool) -> Line:
    segments: list[Segment] = []
    text: list[str] = []
    for atom in atoms:
        if isinstance(atom, Mention):
            if text:
                segments.append("".join(text))
                text = []
            segments.append(atom)
        else:
            text.append(atom)
    if text:
        segments.append("".join(text))
    return Line(tuple(segments), strong)


def _cut(line: Line, cost: Cost, budget: int) -> Iterator[Line]:
    if cost(line) <= budget:
        yield line
        return
    atoms = _atoms(line)
    while atoms:
        rest = _line(atoms, line.strong)
        if cost(rest) <= budget:
            yield rest
            return
        # The longest prefix that fits (cost grows with the prefix), found by bisection.
        low, high = 1, len(atoms)
        while low < high:
            middle = (low + high + 1) // 2
            if cost(_line(atoms[:middle], line.strong)) <= budget:
                low = middle
            else:
                high = middle - 1
        end = low
        for back in range(end - 1, max(end - NEAR, 0), -1):
            if isinstance(atoms[back], str) and atoms[back].isspace():
                end = back + 1
                break
        yield _line(atoms[:end], line.strong)
        atoms = atoms[end:]
