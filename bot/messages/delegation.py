"""What the bot says about delegations: given, ended, lapsed or expired, a member's own and the room's, and which
of a member's delegations counted in a round. Delegations are public: each is said to the room."""

from __future__ import annotations

from typing import Any

from bot.config import AssemblySettings
from bot.engine.model import Delegated, Delegation, Position
from bot.messages.i18n import Messages
from bot.messages.lines import POSITION_LABELS, Text, people
from bot.messages.outgoing import Mention


def scope_label(scope: str, settings: AssemblySettings, m: Messages) -> str:
    """What a delegation covers, as a phrase: "every proposal of this room", "the proposals on Transport",
    "proposal #12"."""
    kind, _, value = scope.partition(":")
    if kind == "topic":
        topic = settings.topic(value)
        return m._("the proposals on {topic}", topic=topic.name(settings.language) if topic else value)
    if kind == "proposal":
        return m._("proposal #{number}", number=value)
    return m._("every proposal of this room")


def details(delegation: Delegation) -> dict[str, Any]:
    """A delegation's message payload: who, to whom, on what, until when."""
    return {"member": delegation.member, "delegate": delegation.delegate, "scope": delegation.scope,
            "until": delegation.until.isoformat() if delegation.until else None}


def _until(text: Text, delegation: Delegation, m: Messages) -> None:
    if delegation.until is not None:
        text.line(m._("It lapses on {until}."), until=m.when(delegation.until))


def delegated(given: Delegation, cycle: bool, settings: AssemblySettings, m: Messages) -> Text:
    """A delegation given, said to the room."""
    if not given.scope:
        text = Text().line(m._("{member} entrusts their vote to {delegate}: in every round where {member} takes no "
                               "position, they count with {delegate}'s (blocks are never delegated)."),
                           member=Mention(given.member), delegate=Mention(given.delegate))
    else:
        text = Text().line(m._("{member} entrusts their vote to {delegate} on {scope}: where {member} takes no "
                               "position, they count with {delegate}'s (blocks are never delegated). This comes "
                               "before a delegation on the whole room, and one on a proposal before one on its "
                               "topic."), member=Mention(given.member), delegate=Mention(given.delegate),
                           scope=scope_label(given.scope, settings, m))
    _until(text, given, m)
    if cycle:
        text.line(m._("These delegations go round in a circle back to {member}: none of them counts until one of "
                      "you takes a position or ends their delegation."), member=Mention(given.member))
    return text


def undelegated(ended: Delegation, settings: AssemblySettings, m: Messages) -> Text:
    return Text().line(m._("{member} ends their delegation to {delegate} on {scope}."), member=Mention(ended.member),
                       delegate=Mention(ended.delegate), scope=scope_label(ended.scope, settings, m))


def lapsed(delegation: Delegation, settings: AssemblySettings, m: Messages) -> Text:
    """A delegation to someone who has left the room."""
    return Text().line(m._("{member}: your delegation to {delegate} has lapsed, since {delegate} is no longer in "
                           "the room (it was on {scope}). Take positions yourself, or entrust your vote to someone "
                           "else with !delegate."), member=Mention(delegation.member), delegate=Mention(delegation.delegate),
                       scope=scope_label(delegation.scope, settings, m))


def expired(delegation: Delegation, settings: AssemblySettings, m: Messages) -> Text:
    """A delegation whose time has come."""
    return Text().line(m._("{member}: your delegation to {delegate} on {scope} has lapsed, as you asked, on {until}. "
                           "Take positions yourself, or entrust your vote again with !delegate."),
                       member=Mention(delegation.member), delegate=Mention(delegation.delegate),
                       scope=scope_label(delegation.scope, settings, m), until=m.when(delegation.until))


def _line(text: Text, delegation: Delegation, settings: AssemblySettings, m: Messages, template: str) -> None:
    text.line(template, delegate=Mention(delegation.delegate), member=Mention(delegation.member),
              scope=scope_label(delegation.scope, settings, m))
    _until(text, delegation, m)


def own(member: str, in_force: list[Delegation], settings: AssemblySettings, m: Messages) -> Text:
    """A member's delegations, and who delegates to them."""
    text = Text()
    theirs = [d for d in in_force if d.member == member]
    if not theirs:
        text.line(m._("You entrust your vote to nobody: only your own positions count."))
    for delegation in theirs:
        _line(text, delegation, settings, m, m._("You entrust your vote to {delegate} on {scope}."))
    trusting = [d for d in in_force if d.delegate == member]
    if trusting:
        text.line(m._("Entrust their vote to you:"))
        for delegation in trusting:
            _line(text, delegation, settings, m, m._("- {member}, on {scope}"))
    return text


def room(in_force: list[Delegation], settings: AssemblySettings, m: Messages) -> Text:
    """Every delegation in force in the room, grouped by delegate, then by what they cover."""
    if not in_force:
        return Text().line(m._("Nobody in this room entrusts their vote to anyone."))
    text = Text().line(m.n_("{count} delegation in force:", "{count} delegations in force:", len(in_force)),
                       strong=True, count=len(in_force))
    grouped: dict[tuple[str, str], list[Delegation]] = {}
    for delegation in in_force:
        grouped.setdefault((delegation.delegate, delegation.scope), []).append(delegation)
    for (delegate, scope), delegations in sorted(grouped.items()):
        text.line(m._("- to {delegate}, on {scope}: {members}"), delegate=Mention(delegate),
                  scope=scope_label(scope, settings, m), members=people(sorted(d.member for d in delegations)))
        for d in sorted(delegations, key=lambda d: d.member):
            if d.until is not None:
                text.line(m._("  {member}'s lapses on {until}"), member=Mention(d.member), until=m.when(d.until))
    return text


def counted(text: Text, delegated: tuple[Delegated, ...], settings: AssemblySettings, m: Messages) -> None:
    """The members a round counted by delegation, by whose position they counted with, and on what scope their
    delegation was (the room's unless said)."""
    grouped: dict[tuple[str, Position, str], list[str]] = {}
    for entry in delegated:
        grouped.setdefault((entry.by, entry.position, entry.scope), []).append(entry.member)
    for (by, position, scope), members in sorted(grouped.items()):
        if scope:
            text.line(m._("- with {delegate} ({position}), by their delegation on {scope}: {members}"),
                      delegate=Mention(by), position=m._(POSITION_LABELS[position]),
                      scope=scope_label(scope, settings, m), members=people(members))
        else:
            text.line(m._("- with {delegate} ({position}): {members}"), delegate=Mention(by),
                      position=m._(POSITION_LABELS[position]), members=people(members))
