"""The register's addresses: stable, so that a link posted in a room or a feed keeps working.

A room's id is its address, percent-encoded (a Matrix id such as ``!abc:example.org`` stays readable):
``/a/<room>`` an assembly, ``/a/<room>/<number>`` a proposal, ``/a/<room>/officials/<id>`` an elected official's
record, ``/a/<room>/topics/<id>`` a topic's proposals (ids are lowercase letters, digits and hyphens: no escaping),
and the same under ``/api/v1`` in JSON. A network of rooms has its own, ``/n/<id>``, under which its joint decisions
(kept under the scope ``network:<id>``) have the same addresses as an assembly's proposals: ``/n/<id>/<number>``.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.config.networks import network_label

API = "/api/v1"
ROOM_SAFE = "!:@$+,;=-._~"
"""Characters a room id keeps in an address; everything else (``/`` among them) is percent-encoded."""


def room_path(room: str) -> str:
    """An assembly's address, or a network's for a joint decision's scope (``network:<id>``)."""
    network = network_label(room)
    if network:
        return "/n/" + quote(network, safe="")
    return "/a/" + quote(room, safe=ROOM_SAFE)


def proposal_path(room: str, number: int) -> str:
    return f"{room_path(room)}/{number}"


def feed_path(room: str) -> str:
    return _feed(room_path(room))


def officials_path(room: str) -> str:
    return f"{room_path(room)}/officials"


def official_path(room: str, official: str) -> str:
    return f"{officials_path(room)}/{official}"


def official_feed_path(room: str, official: str) -> str:
    return _feed(official_path(room, official))


def topics_path(room: str) -> str:
    return f"{room_path(room)}/topics"


def topic_path(room: str, topic: str) -> str:
    return f"{topics_path(room)}/{topic}"


def topic_feed_path(room: str, topic: str) -> str:
    return _feed(topic_path(room, topic))


def _feed(page: str) -> str:
    """The Atom feed of a page (an assembly's, an official's, a topic's) is beside it."""
    return f"{page}/feed.atom"


def api(path: str) -> str:
    """The JSON mirror of a page's path."""
    return API + ("/assemblies" if path == "/" else path)


def permalink(public_url: str, room: str, number: int) -> str | None:
    """A proposal's page at the register's public address; None when the register has none."""
    return f"{public_url}{proposal_path(room, number)}" if public_url else None
