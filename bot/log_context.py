"""What a log line is about: the room and the proposal of the work in progress, for the JSON log format
(:mod:`bot.ops.logs`). Set around one event, one piece of due work or one message sent; read by the formatter."""

from __future__ import annotations

from contextvars import ContextVar, Token

ROOM: ContextVar[str | None] = ContextVar("room", default=None)
PROPOSAL: ContextVar[int | None] = ContextVar("proposal", default=None)


class about:  # noqa: N801 - used as a statement: `with about(room, number):`
    """The log lines written inside are about ``room`` (and ``proposal``); with or async with."""

    __slots__ = ("_room", "_proposal", "_tokens")

    def __init__(self, room: str, proposal: int | None = None) -> None:
        self._room, self._proposal = room, proposal
        self._tokens: tuple[Token, Token] | None = None

    def __enter__(self) -> None:
        self._tokens = (ROOM.set(self._room), PROPOSAL.set(self._proposal))

    def __exit__(self, *exception: object) -> None:
        room, proposal = self._tokens
        PROPOSAL.reset(proposal)
        ROOM.reset(room)

    async def __aenter__(self) -> None:
        self.__enter__()

    async def __aexit__(self, *exception: object) -> None:
        self.__exit__()
