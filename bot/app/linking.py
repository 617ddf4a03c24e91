"""Linked accounts (README, "Linked assemblies"): a person with an account on Matrix and one on Mattermost counts
once in joint decisions once both accounts said so.

The handshake has three steps, each a code valid LINK_WITHIN: ``!link`` from the first account gives a code;
``!link <code>`` from an account of the other platform answers with a second code; ``!link <code>`` from the first
account again links them. Every code is said in a room, where others read it: the last step is what makes sure
both accounts are the same person's — someone who repeats the first code from their own account gets a code only
the first account can confirm. From then on the second account counts as the first in joint decisions: its
positions are kept under the first's, the latest of either counts.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.app.context import CommandError, Context
from bot.config.networks import network_label, room_platform
from bot.messages.lines import Text
from bot.messages.outgoing import Kind, Mention, Outgoing
from bot.messages.sanitize import excerpt
from storage.repository import from_text

LINK_WITHIN = timedelta(minutes=10)
CODE_LETTERS = "abcdefghjkmnpqrstuvwxyz23456789"
"""Letters and digits nobody mistakes for another (no i, l, o, 0, 1)."""
CODE_LENGTH = 6


def _new_code() -> str:
    return "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))


async def link(ctx: Context) -> None:
    """One step of the handshake, whichever the code (or its absence) says."""
    here = room_platform(ctx.room)
    if here is None:
        raise ctx.fail("Accounts are linked between Matrix and Mattermost: this room is on neither.")
    if not ctx.facts.spans_platforms:
        # A link counts only in the joint decisions of a network on both platforms: anywhere else it would change
        # nothing, and the member would believe it did.
        raise ctx.fail("Accounts are linked from a room of a network that has rooms on both Matrix and Mattermost; "
                       "this room is in none.")
    code = ctx.arguments.strip().casefold()
    if not code:
        await _begin(ctx)
        return
    request = await ctx.tx.link_request(code)
    if request is None or ctx.now - from_text(request["at"]) > LINK_WITHIN:
        raise ctx.fail("No code {code} was given in the last {minutes} minutes: say !link alone to get one.",
                       code=excerpt(code, CODE_LENGTH + 4), minutes=int(LINK_WITHIN.total_seconds() // 60))
    if request["partner"] is None:
        await _answer(ctx, request, here)
    else:
        await _confirm(ctx, request)


async def _begin(ctx: Context) -> None:
    await _not_linked(ctx, ctx.sender)
    code = _new_code()
    await ctx.tx.add_link_request(code, ctx.sender, ctx.room, None, None, ctx.now, ctx.now - LINK_WITHIN)
    await ctx.say(Kind.LINK, Text().line(ctx.m._(
        "To count once in joint decisions with your account on the other platform, say !link {code} from that "
        "account within {minutes} minutes, in a room of the network there; then confirm here with the code it gets."),
        code=code, minutes=int(LINK_WITHIN.total_seconds() // 60)), details={"step": 1})


async def _answer(ctx: Context, request, here: str) -> None:
    if room_platform(request["room"]) == here:
        raise ctx.fail("Say this code from your account on the other platform (Matrix or Mattermost), not this one.")
    await _not_linked(ctx, ctx.sender)
    code = _new_code()
    await ctx.tx.add_link_request(code, ctx.sender, ctx.room, request["member"], request["room"], ctx.now,
                                  ctx.now - LINK_WITHIN)
    await ctx.say(Kind.LINK, Text().line(ctx.m._(
        "Almost done: to link this account with {member}, say !link {code} from {member}'s account within {minutes} "
        "minutes."), member=request["member"], code=code, minutes=int(LINK_WITHIN.total_seconds() // 60)),
        details={"step": 2})


async def _confirm(ctx: Context, request) -> None:
    if ctx.sender != request["partner"]:
        raise ctx.fail("This code confirms a link for another account.")
    account = request["member"]
    await _not_linked(ctx, account)
    await _not_linked(ctx, ctx.sender)
    held = await ctx.tx.joint_positions_open(account)
    if held:
        scope, number = held[0]
        raise ctx.fail("{account} holds a position on #{network}-{number}, still open: link the accounts once it is "
                       "decided, or withdraw that position first (!unvote), so that nobody counts twice.",
                       account=account, network=network_label(scope), number=number)
    await ctx.tx.link(account, request["room"], ctx.sender, ctx.room, ctx.now)
    await _tell_both(ctx, account, request["room"], "linked")


async def unlink(ctx: Context) -> None:
    found = await ctx.tx.link_of(ctx.sender)
    if found is None:
        raise ctx.fail("Your account is linked to no other (!link links it).")
    await ctx.tx.unlink(ctx.sender)
    account, room = (found["member"], found["member_room"]) if found["account"] == ctx.sender else (
        found["account"], found["room"])
    await _tell_both(ctx, account, room, "unlinked")


async def _tell_both(ctx: Context, other: str, other_room: str, what: str) -> None:
    """Said to the member here, and to their other account in the room it spoke from (the other platform's process
    posts it there), in this room's language: the person chose it by speaking here."""
    if what == "linked":
        template = ctx.m._("{member} and {other} are linked: in joint decisions they count as one member, the latest "
                           "position of either counts (!unlink to undo).")
    else:
        template = ctx.m._("{member} and {other} are no longer linked: each counts as a member of its own.")
    details = {"step": what, "member": ctx.sender, "other": other}
    await ctx.say(Kind.LINK, Text().line(template, member=Mention(ctx.sender), other=Mention(other)), details=details)
    text = Text().line(template, member=Mention(other), other=Mention(ctx.sender))
    ctx.outbox.append(Outgoing(ctx.next_key(), other_room, Kind.LINK, tuple(text.lines),
                               {"kind": str(Kind.LINK), **details}, mentions=(other,)))


async def _not_linked(ctx: Context, member: str) -> None:
    found = await ctx.tx.link_of(member)
    if found is not None:
        other = found["member"] if found["account"] == member else found["account"]
        raise CommandError(ctx.m._("{member} is linked already, to {other}: !unlink first.", member=member,
                                   other=other))
