"""The register's web application (aiohttp): pages, their JSON mirror under /api/v1, CSV files and Atom feeds.

Read only: GET and HEAD, every other method 405. No JavaScript and nothing from elsewhere: the Content-Security-
Policy forbids every script and every resource but this server's stylesheet. Every query parameter is checked
and bounded; an unknown assembly or proposal is a 404 page (JSON under /api).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.config import MAX_ID_LENGTH, Config
from bot.config.networks import SCOPE_PREFIX
from bot.engine.model import State
from bot.messages.i18n import N_
from bot.register import exports
from bot.register.feed import atom
from bot.register.links import (api, official_path, officials_path, proposal_path, room_path, topic_path,
                                topics_path)
from bot.register.pages import Page
from bot.register.views import (TABLES, Site, accountability_json, assembly_json, envelope, index, line_json,
                                official_json, officials_of, record_json, topic_json, topics_of)
from storage.register import (MAX_SEARCH_LENGTH, Assembly, Listing, OfficialRecord, Record, RegisterReader, Search,
                              TopicFigures)
from storage.repository import Repository

log = logging.getLogger(__name__)

OFFICIAL_ID = "[a-z0-9][a-z0-9-]{0,39}"
"""An official's id, as the configuration allows it (bot.config.settings.OfficialSettings)."""
TOPIC_ID = "[a-z0-9][a-z0-9-]{0,39}"
"""A topic's id, as the configuration allows it (bot.config.settings.TopicSettings)."""
NETWORK_ID = "[a-z][a-z0-9-]{0,39}"
"""A network's id, as the configuration allows it (bot.config.networks)."""
MAX_PAGE = 50_000_000
"""A page number beyond any list (20 a page): larger is refused without a query."""
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,7}")
_TOPIC = re.compile(TOPIC_ID)
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
CACHE = "public, max-age=60"
"""The register changes as the assembly decides: a minute's cache keeps it fresh and spares the server."""
ERRORS = {
    400: (N_("This address is not valid"), N_("A value in the address is not one the register knows.")),
    404: (N_("Nothing here"), N_("The register has no such page: the assembly or the proposal may not exist.")),
    405: (N_("Read only"), N_("The register is read only: it can be read, not changed.")),
    500: (N_("Something went wrong"), N_("The register could not show this page. Please try again later.")),
}
UNKNOWN_TOPIC = (N_("No such topic"), N_("{name} has no topic \"{topic}\", declared or on record."))


class UnknownTopic(web.HTTPNotFound):
    """A 404 that says which topic the assembly does not know, and leads to the topics it has."""

    def __init__(self, room: str, topic: str) -> None:
        super().__init__()
        self.room = room
        self.topic = topic


@dataclass(frozen=True)
class Register:
    config: Config
    reader: RegisterReader


REGISTER = web.AppKey("register", Register)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def make_app(config: Config, repository: Repository) -> web.Application:
    """The register over ``repository``'s database (the bot's own, or one opened for ``consent-bot serve``)."""
    app = web.Application(middlewares=[_guard])
    app[REGISTER] = Register(config, RegisterReader(repository.reading))
    get = app.router.add_get
    get("/", assemblies_page)
    get("/static/register.css", stylesheet)
    get(api("/"), assemblies_data)
    # An assembly's pages, and a network's alike: its joint decisions are kept and listed as an assembly's are.
    for home in ("/a/{room}", f"/n/{{network:{NETWORK_ID}}}"):
        get(home, assembly_page)
        get(f"{home}/feed.atom", feed)
        get(f"{home}/{{number:\\d{{1,9}}}}", proposal_page)
        get(f"{home}/officials", officials_page)
        get(f"{home}/officials/{{official:{OFFICIAL_ID}}}", official_page)
        get(f"{home}/officials/{{official:{OFFICIAL_ID}}}/feed.atom", official_feed)
        get(f"{home}/topics", topics_page)
        get(f"{home}/topics/{{topic:{TOPIC_ID}}}", topic_page)
        get(f"{home}/topics/{{topic:{TOPIC_ID}}}/feed.atom", topic_feed)
        get(api(home), assembly_data)
        get(api(f"{home}/{{number:\\d{{1,9}}}}"), proposal_data)
        get(api(f"{home}/officials"), officials_data)
        get(api(f"{home}/officials/{{official:{OFFICIAL_ID}}}"), official_data)
        get(api(f"{home}/topics"), topics_data)
        get(api(f"{home}/topics/{{topic:{TOPIC_ID}}}"), topic_data)
        get(api(f"{home}/{{table:{'|'.join(TABLES)}}}.csv"), table_data)
        get(api(f"{home}/datapackage.json"), datapackage_data)
    return app


# --- Pages ---------------------------------------------------------------------------------------


async def assemblies_page(request: web.Request) -> web.Response:
    site = _site(request)
    assemblies, networks = index(site, await _reader(request).assemblies())
    return _html(Page(site, None).render("assemblies.html", assemblies=assemblies, networks=networks,
                                         states=list(State)))


async def assembly_page(request: web.Request) -> web.Response:
    search, page_number = _search(request)
    if search.topic:  # the search form's topic: its page, with the rest of the search
        site = _site(request)
        room = _room(request)
        return _redirect(_page_link(site.base + topic_path(room, search.topic), replace(search, topic=""),
                                    page_number))
    shown = await _shown(request)
    page = Page(_site(request), shown.room)
    previous, following = shown.neighbours(page.room_href(shown.room))
    return _html(page.render(
        "assembly.html", assembly=shown.assembly, search=shown.search, listing=shown.listing,
        page_number=shown.page, pages=shown.pages, states=list(State), max_search=MAX_SEARCH_LENGTH,
        path=room_path(shown.room), previous=previous, next=following, topic_choices=_topic_choices(page, ""),
    ))


async def topic_page(request: web.Request) -> web.Response:
    shown = await _shown(request)
    site = _site(request)
    page = Page(site, shown.room)
    topic = shown.search.topic
    path = topic_path(shown.room, topic)
    previous, following = shown.neighbours(page.href(path), topic_in_base=True)
    return _html(page.render(
        "topic.html", assembly=shown.assembly, topic=shown.topic, declared=site.topic(shown.room, topic) is not None,
        search=shown.search, listing=shown.listing, page_number=shown.page, pages=shown.pages, states=list(State),
        max_search=MAX_SEARCH_LENGTH, path=path, previous=previous, next=following,
        topic_choices=_topic_choices(page, topic),
    ))


def _topic_choices(page: Page, shown: str) -> list[str]:
    """The topics a list can be narrowed to: those the assembly declares, and the one shown (declared or not)."""
    declared = [t.id for t in page.site.settings(page.room).topics]
    return declared + ([shown] if shown and shown not in declared else [])


async def topics_page(request: web.Request) -> web.Response:
    site = _site(request)
    room, _ = await _assembly(request)
    topics = topics_of(site, room, await _reader(request).topics(room))
    return _html(Page(site, room).render("topics.html", room=room, topics=topics, states=list(State),
                                         path=topics_path(room)))


async def proposal_page(request: web.Request) -> web.Response:
    site = _site(request)
    record = await _record(request)
    room, number = record.header.room, record.header.number
    path = proposal_path(room, number)
    return _html(Page(site, room).render("proposal.html", record=record, path=path,
                                         permalink=site.url(path)))


async def officials_page(request: web.Request) -> web.Response:
    site = _site(request)
    room, _ = await _assembly(request)
    officials = officials_of(site, room, await _reader(request).figures(room))
    return _html(Page(site, room).render("officials.html", room=room, officials=officials,
                                         path=officials_path(room), room_path=room_path(room)))


async def official_page(request: web.Request) -> web.Response:
    site = _site(request)
    shown = await _official(request)
    page = Page(site, shown.room)
    previous, following = shown.neighbours(page.href(shown.path))
    record = shown.record
    return _html(page.render(
        "official.html", room=shown.room, figures=record.figures, declared=site.declared(shown.room, shown.official),
        entries=record.entries, total=record.total, page_number=shown.page, pages=shown.pages, path=shown.path,
        previous=previous, next=following))


async def feed(request: web.Request) -> web.Response:
    room, assembly = await _assembly(request)
    events = await _reader(request).feed(room, joint=_site(request).joint(room))
    return _response(atom(_site(request), assembly, events), "application/atom+xml")


async def topic_feed(request: web.Request) -> web.Response:
    room, assembly = await _assembly(request)
    topic = (await _topic(request, room, request.match_info["topic"])).topic
    events = await _reader(request).feed(room, topic=topic)
    return _response(atom(_site(request), assembly, events, topic=topic), "application/atom+xml")


async def official_feed(request: web.Request) -> web.Response:
    room, assembly = await _assembly(request)
    official = request.match_info["official"]
    _known(request, room, official, bool(await _reader(request).figures(room, official)))
    events = await _reader(request).feed(room, official=official)
    return _response(atom(_site(request), assembly, events, official=official), "application/atom+xml")


@functools.cache
def _stylesheet() -> bytes:
    """The register's stylesheet, read once: it changes only with the bot."""
    return (resources.files("bot.register") / "static" / "register.css").read_bytes()


async def stylesheet(request: web.Request) -> web.Response:
    response = _response(_stylesheet(), "text/css")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- Open data -----------------------------------------------------------------------------------


async def assemblies_data(request: web.Request) -> web.Response:
    site = _site(request)
    assemblies, networks = index(site, await _reader(request).assemblies())
    return _json({**envelope(site), "assemblies": [assembly_json(site, a) for a in assemblies],
                  "networks": [assembly_json(site, n) for n in networks]})


async def assembly_data(request: web.Request) -> web.Response:
    """An assembly's list, narrowed to a topic by ?topic= as by its page."""
    shown = await _shown(request)
    return _listing_json(request, shown, room_path(shown.room))


async def topic_data(request: web.Request) -> web.Response:
    """A topic's page: the topic, and the list of its proposals."""
    shown = await _shown(request)
    site = _site(request)
    return _listing_json(request, shown, topic_path(shown.room, shown.search.topic), topic_in_base=True,
                         topic=topic_json(site, shown.room, shown.topic))


async def topics_data(request: web.Request) -> web.Response:
    site = _site(request)
    room, _ = await _assembly(request)
    topics = topics_of(site, room, await _reader(request).topics(room))
    return _about(site, room, topics=[topic_json(site, room, figures) for figures in topics])


def _about(site: Site, room: str, **document: Any) -> web.Response:
    """A document about something of one assembly, which it names."""
    return _json({**envelope(site), "assembly": {"room": room, "name": site.name(room)}, **document})


def _listing_json(request: web.Request, shown: Shown, path: str, topic_in_base: bool = False,
                  **about: Any) -> web.Response:
    """One page of a list at ``path`` (its neighbours keep the search), with what ``about`` says of it."""
    site = _site(request)
    previous, following = shown.neighbours(site.url(api(path)), topic_in_base)
    topic = shown.topic.topic if shown.topic is not None else None
    return _json({
        **envelope(site),
        "assembly": assembly_json(site, shown.assembly),
        **about,
        "filter": {"state": [str(s) for s in shown.search.states], "q": shown.search.words, "topic": topic},
        "page": shown.page,
        "pages": shown.pages,
        "per_page": _reader(request).page_size,
        "total": shown.listing.total,
        "decisions": [line_json(site, line) for line in shown.listing.lines],
        "previous": previous,
        "next": following,
    })


async def proposal_data(request: web.Request) -> web.Response:
    site = _site(request)
    record = await _record(request)
    return _about(site, record.header.room, **record_json(site, record))


async def officials_data(request: web.Request) -> web.Response:
    site = _site(request)
    room, _ = await _assembly(request)
    officials = officials_of(site, room, await _reader(request).figures(room))
    return _about(site, room, officials=[official_json(site, room, figures) for figures in officials])


async def official_data(request: web.Request) -> web.Response:
    site = _site(request)
    shown = await _official(request)
    room = shown.room
    previous, following = shown.neighbours(site.url(api(shown.path)))
    return _about(
        site, room,
        official=official_json(site, room, shown.record.figures),
        page=shown.page,
        pages=shown.pages,
        per_page=_reader(request).page_size,
        total=shown.record.total,
        decisions=[{**line_json(site, entry.line),
                    "accountability": accountability_json(site, room, entry.accountability)}
                   for entry in shown.record.entries],
        previous=previous,
        next=following,
    )


async def table_data(request: web.Request) -> web.Response:
    site = _site(request)
    room, _ = await _assembly(request)
    table = request.match_info["table"]
    export = await _reader(request).export(room, site.show_names, tables=(table,), joint=site.joint(room))
    response = _response(exports.csv_text(site, export, table).encode("utf-8"), "text/csv", charset="utf-8")
    described = site.url(api(room_path(room)) + "/datapackage.json")
    response.headers["Link"] = f'<{described}>; rel="describedby"; type="application/json"'
    response.headers["Content-Disposition"] = f'inline; filename="{table}.csv"'
    response.last_modified = site.generated_at
    return response


async def datapackage_data(request: web.Request) -> web.Response:
    site = _site(request)
    _, assembly = await _assembly(request)
    return _json(exports.web_datapackage(site, assembly))


# --- What every request shares -------------------------------------------------------------------


def _reader(request: web.Request) -> RegisterReader:
    return request.app[REGISTER].reader


def _site(request: web.Request) -> Site:
    config = request.app[REGISTER].config
    public = config.register.public_url
    return Site(config, base=public, origin=public or _origin(request), generated_at=datetime.now(timezone.utc))


_HOST = re.compile(r"(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")


def _origin(request: web.Request) -> str:
    """Where the request came to, for absolute links when no public address is set; a Host header that is no
    host name is not copied into them."""
    host = request.host if _HOST.fullmatch(request.host or "") else "localhost"
    return f"{request.scheme}://{host}"


def _room(request: web.Request) -> str:
    """Where the address's proposals are kept: a room (/a/<room>), or a network's scope (/n/<id>); a network's scope
    written as a room is no assembly (404)."""
    if "network" in request.match_info:
        return SCOPE_PREFIX + request.match_info["network"]
    room = request.match_info["room"]
    if len(room) > MAX_ID_LENGTH or room.startswith(SCOPE_PREFIX):
        raise web.HTTPNotFound()
    return room


async def _assembly(request: web.Request) -> tuple[str, Assembly]:
    """An assembly, with the joint decisions of its networks; or a network, with its joint decisions."""
    room = _room(request)
    assembly = await _reader(request).assembly(room, _site(request).joint(room))
    if assembly is None:
        raise web.HTTPNotFound()
    return room, assembly


async def _record(request: web.Request) -> Record:
    room = _room(request)
    record = await _reader(request).record(room, int(request.match_info["number"]))
    if record is None:
        raise web.HTTPNotFound()
    return record


@dataclass(frozen=True)
class Paged:
    """One page of a list, and how to reach the pages beside it."""

    search: Search
    page: int
    pages: int

    def neighbours(self, base: str, topic_in_base: bool = False) -> tuple[str | None, str | None]:
        """The addresses of the previous and next pages under ``base``, keeping the search (None: no such page);
        ``topic_in_base``: ``base`` is the topic's own address, which says it."""
        search = replace(self.search, topic="") if topic_in_base else self.search
        return (_page_link(base, search, self.page - 1) if self.page > 1 else None,
                _page_link(base, search, self.page + 1) if self.page < self.pages else None)


@dataclass(frozen=True)
class Shown(Paged):
    """One page of an assembly's list, as the query asked for it (of a topic's proposals: with the topic)."""

    room: str
    assembly: Assembly
    listing: Listing
    topic: TopicFigures | None = None


@dataclass(frozen=True)
class ShownOfficial(Paged):
    """One page of an official's record."""

    room: str
    official: str
    record: OfficialRecord

    @property
    def path(self) -> str:
        return official_path(self.room, self.official)


async def _shown(request: web.Request) -> Shown:
    """The list the request asks for: an assembly's, or a topic's (by its address, or by ?topic=)."""
    room, assembly = await _assembly(request)
    search, page = _search(request)
    if "topic" in request.match_info:
        search = replace(search, topic=request.match_info["topic"])
    topic = await _topic(request, room, search.topic) if search.topic else None
    # A room's list has its networks' joint decisions among its own; a topic's, its own proposals on the topic.
    joint = _site(request).joint(room) if not search.topic else ()
    listing = await _reader(request).listing(room, search, page, joint)
    return Shown(search, page, _pages(request, listing.total, page), room, assembly, listing, topic)


async def _topic(request: web.Request, room: str, topic: str) -> TopicFigures:
    """A topic of the room with its counts: one it declares, or one no longer declared with proposals on it (a
    proposal's topics outlive the configuration); else a 404 that says so."""
    figures = (await _reader(request).topics(room, topic)).get(topic)
    if figures is None and _site(request).topic(room, topic) is None:
        raise UnknownTopic(room, topic)
    return figures or TopicFigures(topic)


async def _official(request: web.Request) -> ShownOfficial:
    room, _ = await _assembly(request)
    official = request.match_info["official"]
    page = _page_number(request)
    record = await _reader(request).official(room, official, page)
    _known(request, room, official, record.total > 0)
    return ShownOfficial(Search(), page, _pages(request, record.total, page), room, official, record)


def _known(request: web.Request, room: str, official: str, on_record: bool) -> None:
    """An official has a page if the room declares them, or if something is on record about them (an official no
    longer declared keeps their record); a 404 otherwise."""
    if not on_record and _site(request).declared(room, official) is None:
        raise web.HTTPNotFound()


def _pages(request: web.Request, total: int, page: int) -> int:
    """How many pages a list of ``total`` items takes (at least one); a page beyond them is a 404."""
    pages = max(1, math.ceil(total / _reader(request).page_size))
    if page > pages:
        raise web.HTTPNotFound()
    return pages


def _search(request: web.Request) -> tuple[Search, int]:
    """The list's filter and page from the query: a value the register does not know is a 400, never a guess."""
    query = request.query
    words = " ".join(query.get("q", "").split())
    if len(words) > MAX_SEARCH_LENGTH:
        raise web.HTTPBadRequest(reason="search too long")
    state = query.get("state", "")
    if state and state not in set(State):
        raise web.HTTPBadRequest(reason="unknown state")
    topic = query.get("topic", "")
    if topic and not _TOPIC.fullmatch(topic):
        raise web.HTTPBadRequest(reason="not a topic's id")
    return Search((State(state),) if state else (), words, topic), _page_number(request)


def _page_number(request: web.Request) -> int:
    page = request.query.get("page", "1")
    if not _PAGE_NUMBER.fullmatch(page) or int(page) > MAX_PAGE:
        raise web.HTTPBadRequest(reason="page must be a number from 1")
    return int(page)


def _page_link(base: str, search: Search, page: int) -> str:
    query = {"q": search.words, "state": ",".join(search.states), "topic": search.topic,
             "page": page if page > 1 else ""}
    shown = urlencode({key: value for key, value in query.items() if value})
    return f"{base}?{shown}" if shown else base


def _redirect(location: str) -> web.Response:
    """To where the same thing has its own address (the register's pages each have one)."""
    response = _response(b"", "text/plain", status=302)
    response.headers["Location"] = location
    return response


def _html(text: str) -> web.Response:
    return _response(text.encode("utf-8"), "text/html", charset="utf-8")


def _json(document: dict[str, Any]) -> web.Response:
    body = json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")
    return _response(body, "application/json", charset="utf-8")


def _response(body: bytes, content_type: str, charset: str | None = None, status: int = 200) -> web.Response:
    response = web.Response(body=body, status=status, content_type=content_type, charset=charset)
    response.headers["Cache-Control"] = CACHE if status == 200 else "no-store"
    return response


def _secure(response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Cache-Control", "no-store")


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer with the security headers; every error as a page (or JSON under /api) saying what happened."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        response = _error(request, error.status if error.status in ERRORS else 404,
                          error if isinstance(error, UnknownTopic) else None)
        if error.status == 405:
            response.headers["Allow"] = error.headers.get("Allow", "GET, HEAD")
    except Exception:
        log.exception("the register failed to answer %s", request.path)
        response = _error(request, 500)
    _secure(response)
    return response


def _error(request: web.Request, status: int, unknown: UnknownTopic | None = None) -> web.Response:
    """An error page (JSON under /api); for an ``unknown`` topic, in its assembly's language, offering the topics it
    has."""
    site = _site(request)
    page = Page(site, unknown.room if unknown is not None else None)
    if unknown is None:
        title, explanation = (page.m._(text) for text in ERRORS[status])
    else:
        title = page.m._(UNKNOWN_TOPIC[0])
        explanation = page.m._(UNKNOWN_TOPIC[1], name=site.name(unknown.room), topic=unknown.topic)
    if request.path.startswith(api("")):
        body = json.dumps({"error": {"status": status, "title": title, "message": explanation}}, ensure_ascii=False)
        return _response(body.encode("utf-8"), "application/json", charset="utf-8", status=status)
    topics = page.topics_href(unknown.room) if unknown is not None else None
    return _response(page.render("error.html", title=title, explanation=explanation, topics=topics).encode("utf-8"),
                     "text/html", charset="utf-8", status=status)
