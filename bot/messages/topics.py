"""What the bot says about topics: the assembly's, and a proposal's (a topic is shown by its name in the assembly's
language, its id beside it where members type it)."""

from __future__ import annotations

from bot.config import AssemblySettings
from bot.engine.model import Proposal
from bot.messages.i18n import Messages
from bot.messages.lines import Text
from bot.messages.outgoing import Mention


def named(topics: tuple[str, ...], settings: AssemblySettings) -> str:
    """"Transport, Culture": a proposal's topics by name (an id no longer declared, as it is)."""
    found = (settings.topic(topic) for topic in topics)
    return ", ".join(t.name(settings.language) if t else topic for t, topic in zip(found, topics))


def line(text: Text, proposal: Proposal, settings: AssemblySettings, m: Messages) -> None:
    """A ballot's or a status's line naming the proposal's topics (none: no line)."""
    if proposal.topics:
        text.line(m._("Topics: {topics}."), topics=named(proposal.topics, settings))


def assembly(settings: AssemblySettings, m: Messages) -> Text:
    """The assembly's topics, with the id each is named by in commands."""
    if not settings.topics:
        return Text().line(m._("This assembly lists no topics (assembly.topics)."))
    text = Text().line(m._("The assembly's topics:"), strong=True)
    for topic in settings.topics:
        text.line(m._("- {name} ({id})"), name=topic.name(settings.language), id=topic.id)
    return text.line(m._("Propose on them with !propose topic <topic> <title>; list a topic's proposals with "
                         "!list topic <topic>; entrust your vote on one with !delegate @member topic <topic>."))


def of_proposal(proposal: Proposal, set_by: str | None, settings: AssemblySettings, m: Messages) -> Text:
    """A proposal's topics; ``set_by``: who just set them (said to the room, kept in its history)."""
    text = Text()
    if set_by is not None:
        text.line(m._("{member} sets the topics of proposal #{number} ({title})."), member=Mention(set_by),
                  number=proposal.number, title=proposal.title)
    if proposal.topics:
        text.line(m._("Proposal #{number} is on: {topics}."), number=proposal.number,
                  topics=named(proposal.topics, settings))
    else:
        text.line(m._("Proposal #{number} is on no topic."), number=proposal.number)
    return text
