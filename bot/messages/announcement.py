"""An announcement beyond the room, rendered once, when it is queued: a mail to the assembly's list, or the JSON a
webhook is called with. Both carry what the chat message says; member text is escaped in the mail's HTML, and a
mail's headers thread a proposal's messages (the first one's Message-ID, then In-Reply-To and References to it).

What is rendered here is stored in the outbox (``Outgoing.payload``): the mail sent, or the call made, is what the
decision queued, whenever it goes out.
"""

from __future__ import annotations

import hashlib
import html
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from bot.config import AssemblySettings
from bot.config.settings import WebhookSettings
from bot.engine.model import Proposal
from bot.messages.i18n import N_, Messages
from bot.messages.lines import STATE_LABELS
from bot.messages.outgoing import Line, Mention, Outgoing, message_id, plain_text
from bot.register.links import api, proposal_path, room_path

MAX_TEXT = 50_000
"""Characters of a mail's text (and of a webhook's message): a longer one is cut, the register's link after it."""
SUBJECTS = {
    "proposal": N_("[{assembly}] #{number} proposed: {title}"),
    "round": N_("[{assembly}] #{number}, round {round}: {title}"),
    "outcome": N_("[{assembly}] #{number} {state}: {title}"),
    "fact": N_("[{assembly}] #{number}, a fact recorded: {title}"),
    "statement": N_("[{assembly}] #{number}, an official's statement: {title}"),
}


def mail(message: Outgoing, event: str, proposal: Proposal, settings: AssemblySettings, m: Messages,
         public_url: str, chat_address: str | None, at: datetime, assembly: str) -> Outgoing:
    """The mail announcing ``message`` to the list of ``assembly`` (its name: a room's, or a network's)."""
    kept_under = message.scope or message.room
    subject = m._(SUBJECTS[event], assembly=assembly, number=proposal.number, round=proposal.current_round.number,
                  title=proposal.title, state=m._(STATE_LABELS[proposal.state]))
    footer = []
    if chat_address:
        footer.append(m._("To answer, write in the assembly's room: {address}", address=chat_address))
    link = f"{public_url}{proposal_path(kept_under, proposal.number)}" if public_url else None
    if link:
        footer.append(m._("On the public register: {link}", link=link))
    text, cut = _bounded(plain_text(message.lines), link, m)
    domain = parseaddr(settings.email.sender or "")[1].rpartition("@")[2] or "consent-bot.invalid"
    thread = f"<proposal.{_short(kept_under)}.{proposal.number}@{domain}>"
    key = f"{message.key}@email"
    return Outgoing(key, message.room, message.kind, message.lines, number=proposal.number, channel="email",
                    scope=message.scope, payload={
        "event": event, "subject": subject, "from": settings.email.sender, "to": list(settings.email.lists),
        "date": at.astimezone(m.zone).isoformat(), "thread": thread,
        "message_id": thread if event == "proposal" else f"<{message_id(key)}@{domain}>",
        "text": "\n\n".join([text, *footer]),
        "html": _html(message.lines if not cut else (Line((text,)),), footer),
    })


def webhook_call(message: Outgoing, event: str, proposal: Proposal, hook: WebhookSettings, m: Messages,
                 public_url: str, at: datetime, assembly: str) -> Outgoing:
    """The call telling a webhook of ``message``: the event, the proposal's state as the chat message carries it,
    its title and text, the message itself, and where the register shows it (page and JSON). ``assembly``: the
    name of the room, or of the network, that decides."""
    key = f"{message.key}@webhook:{hook.name}"
    kept_under = message.scope or message.room
    page = proposal_path(kept_under, proposal.number)
    text, _ = _bounded(plain_text(message.lines), f"{public_url}{page}" if public_url else None, m)
    body: dict[str, Any] = {
        "delivery": message_id(key), "event": event, "at": at.isoformat(),
        "assembly": {"room": kept_under, "name": assembly, "url": _at(public_url, room_path(kept_under))},
        "proposal": {**(message.payload or {}), "title": proposal.title, "text": proposal.text,
                     "proposer": proposal.proposer, "url": _at(public_url, page), "data": _at(public_url, api(page))},
        "message": text,
    }
    return Outgoing(key, message.room, message.kind, message.lines, number=proposal.number, scope=message.scope,
                    channel=f"webhook:{hook.name}", payload={"event": event, "hook": hook.name, "body": body})


def _at(public_url: str, path: str) -> str | None:
    return f"{public_url}{path}" if public_url else None


def _short(room: str) -> str:
    """A room's id as a Message-ID may hold it (no @, no !): its hash."""
    return hashlib.sha256(room.encode()).hexdigest()[:16]


def _bounded(text: str, link: str | None, m: Messages) -> tuple[str, bool]:
    """The text, cut at MAX_TEXT characters with where to read the rest; whether it was cut."""
    if len(text) <= MAX_TEXT:
        return text, False
    rest = m._("(cut: the whole text is on the public register, {link})", link=link) if link else m._("(cut)")
    return f"{text[:MAX_TEXT]}…\n{rest}", True


def _html(lines: tuple[Line, ...], footer: list[str]) -> str:
    """The message as HTML: every line escaped (members' text never becomes markup), strong lines bold."""
    paragraphs = []
    for line in lines:
        shown = html.escape("".join(s.member if isinstance(s, Mention) else s for s in line.segments))
        shown = shown.replace("\n", "<br>\n")
        paragraphs.append(f"<p><strong>{shown}</strong></p>" if line.strong and shown else f"<p>{shown}</p>")
    paragraphs += [f'<p style="color:#555">{html.escape(line)}</p>' for line in footer]
    return '<!DOCTYPE html>\n<html><body>\n' + "\n".join(paragraphs) + "\n</body></html>\n"
