"""A loopback fake Mattermost server (REST API v4 subset and websocket) for the adapter's tests.

One aiohttp application on 127.0.0.1 and a free port serves both ``/api/v4/*`` and ``/api/v4/websocket``.
Every REST request it receives is checked against the official OpenAPI description of the API (loaded at
test time, see :func:`load_contract`); what does not conform is recorded in :attr:`FakeMattermost.violations`
and the ``mattermost`` fixture fails the test at teardown. The answers follow the real server where it and
the description disagree (``shared/research/mattermost.md`` §2, §3, §4.5):

* ``POST /api/v4/reactions`` answers 200 (the description says 201), ``POST /api/v4/posts`` 201;
* ``GET /api/v4/posts/{id}/reactions`` answers JSON ``null`` for a post without reactions;
* API answers carry ``Content-Type: application/json`` exactly; a rate-limited request gets a plain-text
  ``limit exceeded`` with ``Retry-After`` and ``X-Ratelimit-*``;
* errors are the server's AppError JSON; permission checks run before existence checks where the server
  does so (reacting to an unknown post is a 403, not a 404);
* the websocket authenticates by header or ``authentication_challenge``, sends ``hello`` (seq 0) before the
  challenge's OK reply, numbers events per connection, JSON-encodes ``post``/``reaction`` a second time,
  writes hub broadcasts with ``": "`` spacing and no newline and per-connection frames (hello, replies,
  events changed for the receiver such as ``posted`` with ``mentions``) compactly with a trailing newline,
  and delivers channel events only to the channel's members;
* ``GET /channels/{id}/posts?since=`` answers at most 1000 changed posts, and which 1000 is the database's
  choice: the server's query has no ORDER BY before its LIMIT, so on PostgreSQL they are the first 1000 in
  insertion order, the oldest; the newest are missing. Paging (``page``/``per_page``, ``before``/``after``)
  shows live posts only, at most 200 a page;
* deleting a post broadcasts ``post_deleted`` and its reactions disappear (no ``reaction_removed``);
* a post over 16,383 runes is refused with 400.

Test controls are plain Python methods (``create_user``, ``post``, ``react``, ``drop_websockets``,
``inject_429``, ``withhold_events``...) that run the same code as the REST handlers, so events are produced
exactly once.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import json
import os
import re
import secrets
import socket
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from aiohttp import WSMsgType, web

SPEC_ENV = "MATTERMOST_OPENAPI_SPEC"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC = Path("..") / "shared" / "mattermost" / "openapi-v4.yaml"  # relative to the project root

SERVER_VERSION = "10.11.0"
BUILD_NUMBER = "10.11.0"
CONFIG_HASH = "5b9ac3a1fd7c2e8d4f6b0e1a2c3d4e5f"
VERSION_ID = f"{SERVER_VERSION}.{BUILD_NUMBER}.{CONFIG_HASH}.false"
HOSTNAME = "fake-mattermost"

PER_PAGE_DEFAULT = 60
PER_PAGE_MAXIMUM = 200
SINCE_LIMIT = 1000  # GetPostsSince: `... WHERE UpdateAt > ? AND ChannelId = ? LIMIT 1000`
MESSAGE_MAX_RUNES = 65535 // 4
EMOJI_NAME_MAX = 64
UNIQUE_REACTIONS_PER_POST = 50
PENDING_POST_TTL = 30.0  # seconds the server remembers a pending_post_id (PendingPostIDsCacheTTL)
WS_AUTH_TIMEOUT = 5.0  # unauthenticated websockets are closed after this (authCheckInterval)

_ID_ALPHABET = "ybndrfg8ejkmcpqxot1uwisza345h769"  # the server's NewId base32 alphabet
_VALID_ID = re.compile(r"^[A-Za-z0-9]{26}$")
_EMOJI_NAME = re.compile(r"^[a-zA-Z0-9\-+_]+$")
_MENTION = re.compile(r"(?<![\w@])@([a-z0-9][a-z0-9._\-]*)", re.IGNORECASE)
_HASHTAG = re.compile(r"(?<![\w#&])#[A-Za-z][\w\-.]*[A-Za-z0-9_]")

# A subset of the server's system emoji names (model.SystemEmojis); anything else must be added as a custom
# emoji with FakeMattermost.add_custom_emoji, else the server answers 404 like for an unknown custom emoji.
_SKIN_TONED = (
    "+1 -1 thumbsup thumbsdown hand raised_hand raising_hand raised_hands ok_hand clap pray muscle wave "
    "point_up point_down point_left point_right v crossed_fingers fist facepunch punch writing_hand "
    "raised_back_of_hand call_me_hand shrug man-shrugging woman-shrugging no_good ok_woman bow "
    "handshake open_hands palms_up_together"
).split()
_PLAIN = (
    "white_check_mark heavy_check_mark ballot_box_with_check x heavy_multiplication_x negative_squared_cross_mark "
    "no_entry no_entry_sign octagonal_sign warning question grey_question exclamation grey_exclamation "
    "eyes thinking_face thinking hourglass hourglass_flowing_sand tada heart smile smiley grinning laughing "
    "joy slightly_smiling_face upside_down_face wink sunglasses confused neutral_face disappointed cry "
    "angry sweat_smile see_no_evil zipper_mouth_face face_with_raised_eyebrow hugging_face hugs 100 boom "
    "sparkles fire rocket star bulb speech_balloon memo pushpin calendar alarm_clock bell lock unlock "
    "white_circle black_circle red_circle large_blue_circle large_green_circle large_yellow_circle "
    "zero one two three four five six seven eight nine keycap_ten a b arrow_up arrow_down "
    "heavy_plus_sign heavy_minus_sign ok new free sos stop_sign"
).split()
_SKIN_TONES = ("light_skin_tone", "medium_light_skin_tone", "medium_skin_tone", "medium_dark_skin_tone",
               "dark_skin_tone")
SYSTEM_EMOJIS = frozenset(_PLAIN + _SKIN_TONED + [f"{n}_{t}" for n in _SKIN_TONED for t in _SKIN_TONES])

# How often the contract was exercised in this process (for the terminal summary).
STATS = {"servers": 0, "validated": 0, "violations": 0, "failed_tests": 0}

# Per-request storage (typed keys where aiohttp has them, plain strings before 3.12).
_REQUEST_KEY = getattr(web, "RequestKey", None)
_SESSION_KEY: Any = _REQUEST_KEY("mattermost_session", object) if _REQUEST_KEY else "mattermost_session"
_BODY_KEY: Any = _REQUEST_KEY("mattermost_body", bytes) if _REQUEST_KEY else "mattermost_body"


# --------------------------------------------------------------------------------------------------------------
# JSON as the Go server writes it


_GO_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                             "\u2028": "\\u2028", "\u2029": "\\u2029"})


def go_json(value: Any) -> str:
    """Compact JSON with Go's HTML escaping (encoding/json's default); dict order is kept as given."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_GO_ESCAPES)


def _go_map(value: Any) -> Any:
    """Go writes map keys sorted; use this for values that are maps on the server (props, data...)."""
    if isinstance(value, dict):
        return {key: _go_map(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_go_map(item) for item in value]
    return value


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


def is_valid_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_VALID_ID.match(value))


# --------------------------------------------------------------------------------------------------------------
# The contract: the official OpenAPI description, loaded at test time


@dataclass(frozen=True)
class Violation:
    method: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.message}"


@dataclass(frozen=True)
class _Finding:
    message: str
    unknown_operation: bool  # path or method not in the description: let routing answer 404


@dataclass
class Contract:
    """The OpenAPI description used to validate requests, or why validation is off."""

    spec_path: Path
    openapi: Any = None
    skipped_because: str = ""
    tweaks: tuple[str, ...] = ()
    load_seconds: float = 0.0

    @property
    def active(self) -> bool:
        return self.openapi is not None

    def check(self, request: web.Request, body: bytes) -> _Finding | None:
        from openapi_core.contrib.aiohttp import AIOHTTPOpenAPIWebRequest
        from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

        try:
            self.openapi.validate_request(AIOHTTPOpenAPIWebRequest(request, body=body or None))
        except (PathNotFound, OperationNotFound) as exc:
            return _Finding(_describe(exc), unknown_operation=True)
        except Exception as exc:  # every openapi-core validation error
            return _Finding(_describe(exc), unknown_operation=False)
        return None


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    cause = exc.__cause__
    if cause is None:
        return text
    schema_errors = getattr(cause, "schema_errors", None)
    if schema_errors:
        details = []
        for error in schema_errors:
            where = "/".join(str(part) for part in getattr(error, "absolute_path", ()))
            details.append(f"{where}: {error.message}" if where else error.message)
        return f"{text} [{'; '.join(details)}]"
    return f"{text} [{type(cause).__name__}: {cause}]"


def spec_path() -> Path:
    """Where the description is looked for: $MATTERMOST_OPENAPI_SPEC, else ../shared/... from the project root."""
    raw = os.environ.get(SPEC_ENV) or str(DEFAULT_SPEC)
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    return path.resolve()


def _tweak_spec(spec: dict) -> list[str]:
    """Fix, in memory, what would make the description unusable or wrong about requests; say what was done."""
    tweaks = [
        "built with Config(spec_validator_cls=None): the document repeats operationId "
        "'SaveAcknowledgementForPost', so openapi-spec-validator rejects it as a whole",
        "servers replaced by [{'url': '/'}]: the placeholder host 'your-mattermost-url.com' matches no request "
        "(ServerNotFound)",
    ]
    spec["servers"] = [{"url": "/"}]
    for path, method in (("/api/v4/posts/{post_id}/patch", "put"), ("/api/v4/posts/{post_id}", "put")):
        try:
            props = (spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
                     ["properties"]["props"])
        except (KeyError, TypeError):
            continue
        if props.get("type") == "string":
            props["type"] = "object"
            tweaks.append(f"{method.upper()} {path}: body 'props' typed object instead of string: the server "
                          "decodes it into a map (model.PostPatch/Post.Props) and answers 400 to a string")
    return tweaks


@lru_cache(maxsize=None)
def _load_contract(path: Path) -> Contract:
    if not path.is_file():
        return Contract(path, skipped_because=f"no OpenAPI description at {path} (set {SPEC_ENV} to its path)")
    try:
        import yaml
        from openapi_core import Config, OpenAPI
    except ImportError as exc:
        return Contract(path, skipped_because=f"openapi-core is not installed ({exc})")
    started = time.perf_counter()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=loader)
    tweaks = _tweak_spec(spec)
    openapi = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
    return Contract(path, openapi, tweaks=tuple(tweaks), load_seconds=time.perf_counter() - started)


def load_contract() -> Contract:
    """The description at :func:`spec_path`, loaded once per process; inactive (with a reason) when absent."""
    return _load_contract(spec_path())


# --------------------------------------------------------------------------------------------------------------
# State


class MattermostError(Exception):
    """An AppError as the server answers it; also raised by the test controls when an action is refused."""

    def __init__(self, status: int, error_id: str, message: str, detailed_error: str = "") -> None:
        super().__init__(f"{status} {error_id}: {message}")
        self.status = status
        self.error_id = error_id
        self.message = message
        self.detailed_error = detailed_error

    def body(self, request_id: str = "") -> dict:
        body = {"id": self.error_id, "message": self.message, "detailed_error": self.detailed_error}
        if request_id:
            body["request_id"] = request_id
        body["status_code"] = self.status
        return body


def _forbidden() -> MattermostError:
    return MattermostError(403, "api.context.permissions.app_error", "You do not have the appropriate permissions.")


def _post_id(request: web.Request) -> str:
    """The {post_id} of the path, refused as the server does when it is not an id."""
    post_id = request.match_info["post_id"]
    if not is_valid_id(post_id):
        raise _bad_url_param("post_id")
    return post_id


def _bad_url_param(name: str) -> MattermostError:
    return MattermostError(400, "api.context.invalid_url_param.app_error",
                           f"Invalid or missing {name} parameter in request URL.")


def _bad_body_param(name: str, detail: str = "") -> MattermostError:
    return MattermostError(400, "api.context.invalid_body_param.app_error",
                           f"Invalid or missing {name} in request body.", detail)


def _no_post() -> MattermostError:
    return MattermostError(404, "app.post.get.app_error", "Unable to get the post.")


def _no_channel() -> MattermostError:
    return MattermostError(404, "app.channel.get.existing.app_error", "Unable to find the existing channel.")


def _no_user() -> MattermostError:
    return MattermostError(404, "app.user.missing_account.const", "Unable to find the user.")


@dataclass
class User:
    id: str
    username: str
    token: str
    is_bot: bool = False
    roles: str = "system_user"
    first_name: str = ""
    last_name: str = ""
    nickname: str = ""
    email: str = ""
    bot_description: str = ""
    create_at: int = 0

    @property
    def is_system_admin(self) -> bool:
        return "system_admin" in self.roles.split()


@dataclass
class Team:
    id: str
    name: str
    display_name: str
    create_at: int = 0
    type: str = "O"


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    display_name: str
    type: str  # O public, P private, D direct, G group
    create_at: int = 0
    creator_id: str = ""
    header: str = ""
    purpose: str = ""
    delete_at: int = 0
    last_post_at: int = 0
    last_root_post_at: int = 0
    total_msg_count: int = 0
    total_msg_count_root: int = 0


@dataclass
class Membership:
    user_id: str
    admin: bool = False
    explicit_roles: str = ""
    last_viewed_at: int = 0
    last_update_at: int = 0


@dataclass
class _Post:
    id: str
    create_at: int
    update_at: int
    user_id: str
    channel_id: str
    root_id: str
    message: str
    props: dict
    type: str = ""
    edit_at: int = 0
    delete_at: int = 0
    is_pinned: bool = False
    file_ids: list = field(default_factory=list)
    hashtags: str = ""


@dataclass
class RecordedRequest:
    """One REST request as the fake received it."""

    method: str
    path: str
    query: dict
    body: bytes
    user_id: str = ""
    status: int = 0
    violation: str = ""

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


@dataclass
class WebsocketRequest:
    """One message a client sent on a websocket."""

    connection_id: str
    user_id: str
    message: Any


class _Connection:
    def __init__(self, ws: web.WebSocketResponse, transport: Any, connection_id: str) -> None:
        self.ws = ws
        self.transport = transport
        self.connection_id = connection_id
        self.user: User | None = None
        self.seq = 0
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.active_channel = ""
        self.closed = False
        self.auth_timer: asyncio.TimerHandle | None = None
        self.pump: asyncio.Task | None = None

    def send_event(self, event: str, data: dict, broadcast: dict, precomputed: bool) -> None:
        seq = self.seq
        self.seq += 1
        if precomputed:  # the hub's precomputedJSONBuf: spaces after the outer colons, no newline
            text = ('{"event": ' + go_json(event) + ', "data": ' + go_json(data) + ', "broadcast": '
                    + go_json(broadcast) + ', "seq": ' + str(seq) + "}")
        else:  # json.Encoder: compact, newline-terminated
            text = go_json({"event": event, "data": data, "broadcast": broadcast, "seq": seq}) + "\n"
        self.queue.put_nowait(text)

    def send_response(self, response: dict) -> None:
        self.queue.put_nowait(go_json(response) + "\n")

    def abort(self) -> None:
        """Close the TCP connection without a close frame, as the server's conn.WebSocket.Close() does."""
        if self.closed:
            return
        self.closed = True
        if self.auth_timer is not None:
            self.auth_timer.cancel()
        if self.transport is not None:
            self.transport.abort()
        self.queue.put_nowait(None)


def _ref(value: Any) -> str:
    """Accept a User/Team/Channel object, a post dict or a plain id."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value["id"]
    return value.id


# --------------------------------------------------------------------------------------------------------------
# The fake server


class FakeMattermost:
    """An in-memory Mattermost with a REST subset and a websocket, on 127.0.0.1 and a free port."""

    def __init__(self, contract: Contract | None = None, *, legacy_broadcast_flags: bool = False,
                 ws_auth_timeout: float = WS_AUTH_TIMEOUT, clock: Callable[[], int] | None = None) -> None:
        self.contract = contract if contract is not None else load_contract()
        self.clock = clock or (lambda: int(time.time() * 1000))  # epoch milliseconds, for create_at & co
        self.legacy_broadcast_flags = legacy_broadcast_flags  # older servers always wrote contains_*: false
        self.ws_auth_timeout = ws_auth_timeout
        self.requests: list[RecordedRequest] = []
        self.violations: list[Violation] = []
        self.unimplemented: list[str] = []
        self.ws_requests: list[WebsocketRequest] = []
        self.ws_connects = 0
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {}
        self.channels: dict[str, Channel] = {}
        self._tokens: dict[str, str] = {}
        self._team_members: dict[str, dict[str, bool]] = {}
        self._members: dict[str, dict[str, Membership]] = {}
        self._posts: dict[str, _Post] = {}
        self._reactions: dict[str, list[dict]] = {}
        self._custom_emojis: set[str] = set()
        self._pending: dict[str, tuple[str, int]] = {}
        self._rate_limited: list[tuple[int, re.Pattern | None]] = []
        self._withheld: list[tuple[_Connection, str, dict, dict, bool]] | None = None
        self._replies: dict[str, list[str]] = {}  # root id → its replies' ids, in creation order
        self._connections: list[_Connection] = []
        self._last_ms = 0
        self._runner: web.AppRunner | None = None
        self.host = "127.0.0.1"
        self.port = 0

    # ---------------------------------------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/api/v4/websocket"

    @property
    def contract_active(self) -> bool:
        return self.contract.active

    async def start(self) -> "FakeMattermost":
        app = web.Application(middlewares=[self._middleware])
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        STATS["servers"] += 1
        return self

    async def stop(self) -> None:
        self.drop_websockets()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeMattermost":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def problems(self) -> list[str]:
        """What should fail the test: requests off the contract and requests the fake cannot answer."""
        return [str(v) for v in self.violations] + [f"not implemented by the fake: {u}" for u in self.unimplemented]

    def clear_violations(self) -> None:
        self.violations.clear()

    # ------------------------------------------------------------------------------------------ test controls

    def _now(self) -> int:
        now = max(int(self.clock()), self._last_ms + 1)  # strictly increasing, so ordering is stable
        self._last_ms = now
        return now

    def create_user(self, username: str, *, bot: bool = False, system_admin: bool = False, token: str | None = None,
                    first_name: str = "", last_name: str = "", nickname: str = "", email: str | None = None,
                    bot_description: str = "") -> User:
        if any(u.username == username for u in self.users.values()):
            raise ValueError(f"username {username!r} is taken")
        user = User(id=new_id(), username=username, token=token or new_id(), is_bot=bot,
                    roles="system_user system_admin" if system_admin else "system_user",
                    first_name=first_name, last_name=last_name, nickname=nickname,
                    email=email if email is not None else f"{username}@{'localhost' if bot else 'example.com'}",
                    bot_description=bot_description, create_at=self._now())
        self.users[user.id] = user
        self._tokens[user.token] = user.id
        return user

    def create_bot(self, username: str, **options: Any) -> User:
        return self.create_user(username, bot=True, **options)

    def revoke_token(self, user: User | str) -> None:
        """The user's token stops working (REST answers 401) and its websockets are closed."""
        user = self.users[_ref(user)]
        self._tokens.pop(user.token, None)
        for conn in list(self._connections):
            if conn.user is user:
                conn.abort()

    def create_team(self, name: str, display_name: str | None = None) -> Team:
        team = Team(id=new_id(), name=name, display_name=display_name or name, create_at=self._now())
        self.teams[team.id] = team
        self._team_members[team.id] = {}
        return team

    def add_to_team(self, team: Team | str, user: User | str, *, admin: bool = False) -> None:
        self._team_members[_ref(team)][_ref(user)] = admin

    def create_channel(self, team: Team | str, name: str, *, display_name: str | None = None, type: str = "O",
                       creator: User | str | None = None) -> Channel:
        if type not in ("O", "P"):
            raise ValueError("team channels are of type 'O' or 'P'; use direct_channel for 'D'")
        channel = Channel(id=new_id(), team_id=_ref(team), name=name, display_name=display_name or name, type=type,
                          create_at=self._now(), creator_id=_ref(creator) if creator else "")
        self.channels[channel.id] = channel
        self._members[channel.id] = {}
        if creator is not None:  # the creator gets "channel_user channel_admin", as on the server
            self.add_member(channel, creator, admin=True)
        return channel

    def add_member(self, channel: Channel | str, user: User | str, *, admin: bool = False,
                   explicit_roles: str = "") -> None:
        channel = self.channels[_ref(channel)]
        user_id = _ref(user)
        if channel.team_id:
            self._team_members[channel.team_id].setdefault(user_id, False)
        self._members[channel.id][user_id] = Membership(user_id, admin, explicit_roles, 0, self._now())

    def set_channel_admin(self, channel: Channel | str, user: User | str, admin: bool = True) -> None:
        member = self._members[_ref(channel)][_ref(user)]
        member.admin = admin
        member.last_update_at = self._now()

    def remove_member(self, channel: Channel | str, user: User | str) -> None:
        self._members[_ref(channel)].pop(_ref(user), None)

    def archive_channel(self, channel: Channel | str) -> None:
        self.channels[_ref(channel)].delete_at = self._now()

    def direct_channel(self, a: User | str, b: User | str) -> Channel:
        """The direct-message channel of two users (created when missing), named '<id>__<id>' as on the server."""
        first, second = sorted((_ref(a), _ref(b)))
        name = f"{first}__{second}"
        for channel in self.channels.values():
            if channel.type == "D" and channel.name == name:
                return channel
        channel = Channel(id=new_id(), team_id="", name=name, display_name="", type="D", create_at=self._now(),
                          creator_id=_ref(a))
        self.channels[channel.id] = channel
        self._members[channel.id] = {}
        for user_id in {first, second}:
            self._members[channel.id][user_id] = Membership(user_id, False, "", 0, channel.create_at)
        return channel

    def group_channel(self, *users: User | str) -> Channel:
        """The group-message channel of three to eight users (created when missing): type 'G', no team, named
        from the sorted member ids (the server hashes them) and shown as the usernames."""
        ids = sorted({_ref(u) for u in users})
        if not 3 <= len(ids) <= 8:
            raise ValueError("a group message has 3 to 8 members")
        name = hashlib.sha1("".join(ids).encode()).hexdigest()
        for channel in self.channels.values():
            if channel.type == "G" and channel.name == name:
                return channel
        display = ", ".join(sorted(self.users[i].username for i in ids))
        channel = Channel(id=new_id(), team_id="", name=name, display_name=display, type="G",
                          create_at=self._now(), creator_id=ids[0])
        self.channels[channel.id] = channel
        self._members[channel.id] = {i: Membership(i, False, "", 0, channel.create_at) for i in ids}
        return channel

    def add_custom_emoji(self, name: str) -> None:
        self._custom_emojis.add(name)

    def post(self, user: User | str, channel: Channel | str, message: str, root_id: str | dict | None = None, *,
             props: dict | None = None, pending_post_id: str | None = None) -> dict:
        """A member posts, as the web app would; returns the post as the API shows it."""
        body: dict = {"channel_id": _ref(channel), "message": message}
        if root_id:
            body["root_id"] = _ref(root_id)
        if props is not None:
            body["props"] = props
        if pending_post_id:
            body["pending_post_id"] = pending_post_id
        return self._create_post(self.users[_ref(user)], body)[0]

    def edit(self, user: User | str, post: str | dict, message: str | None = None, *,
             props: dict | None = None) -> dict:
        """The author edits a post (PUT /posts/{id}/patch semantics); emits post_edited."""
        patch: dict = {}
        if message is not None:
            patch["message"] = message
        if props is not None:
            patch["props"] = props
        return self._patch_post(self.users[_ref(user)], _ref(post), patch)

    def delete(self, user: User | str, post: str | dict) -> None:
        self._delete_post(self.users[_ref(user)], _ref(post))

    def react(self, user: User | str, post: str | dict, emoji: str) -> dict:
        user = self.users[_ref(user)]
        return self._save_reaction(user, {"user_id": user.id, "post_id": _ref(post), "emoji_name": emoji})

    def unreact(self, user: User | str, post: str | dict, emoji: str) -> None:
        user = self.users[_ref(user)]
        self._delete_reaction(user, user.id, _ref(post), emoji)

    def drop_websockets(self) -> int:
        """Close every websocket abruptly (no close frame), as a network failure or a server restart would."""
        connections = list(self._connections)
        for conn in connections:
            conn.abort()
        return len(connections)

    def inject_429(self, count: int = 1, retry_after: int = 1, *, only: str | None = None) -> None:
        """The next `count` REST requests are refused with the rate limiter's plain-text 429; with `only`, a
        regular expression matched (fullmatch) against "METHOD /path", only the requests it matches."""
        pattern = re.compile(only) if only else None
        self._rate_limited.extend([(retry_after, pattern)] * count)

    def stop_429(self) -> int:
        """The rate limiting injected and not yet used ends now; returns how many 429s were left."""
        left = len(self._rate_limited)
        self._rate_limited.clear()
        return left

    @property
    def pending_429(self) -> int:
        return len(self._rate_limited)

    def _take_429(self, method: str, path: str) -> int | None:
        for index, (retry_after, pattern) in enumerate(self._rate_limited):
            if pattern is None or pattern.fullmatch(f"{method} {path}"):
                del self._rate_limited[index]
                return retry_after
        return None

    def withhold_events(self, on: bool = True) -> int:
        """While on, websocket events are held back from every connection (a slow or stalled link: the server
        has them, the client does not); off, the held events go out in order to the connections still open
        (a connection dropped meanwhile never gets its share, as without resume). Returns how many went out."""
        if on:
            if self._withheld is None:
                self._withheld = []
            return 0
        held, self._withheld = self._withheld or [], None
        released = 0
        for conn, event, data, broadcast, precomputed in held:
            if not conn.closed:
                conn.send_event(event, data, broadcast, precomputed)
                released += 1
        return released

    def _send_event(self, conn: _Connection, event: str, data: dict, broadcast: dict, precomputed: bool) -> None:
        if self._withheld is not None:
            self._withheld.append((conn, event, data, broadcast, precomputed))
        else:
            conn.send_event(event, data, broadcast, precomputed)

    def expire_pending_post_ids(self) -> None:
        """As if the 30 s during which the server de-duplicates pending_post_id had passed."""
        self._pending.clear()

    # ------------------------------------------------------------------------------------------- inspection

    def posts_in(self, channel: Channel | str, *, include_deleted: bool = False) -> list[dict]:
        """The channel's posts as the API shows them, oldest first (replies included)."""
        channel_id = _ref(channel)
        posts = [p for p in self._posts.values()
                 if p.channel_id == channel_id and (include_deleted or not p.delete_at)]
        return [self._post_json(p) for p in sorted(posts, key=lambda p: p.create_at)]

    def get_post(self, post: str | dict) -> dict:
        return self._post_json(self._posts[_ref(post)])

    def reactions_on(self, post: str | dict) -> list[dict]:
        return [dict(r) for r in self._reactions.get(_ref(post), [])]

    def member_of(self, channel: Channel | str, user: User | str) -> Membership | None:
        return self._members.get(_ref(channel), {}).get(_ref(user))

    @property
    def connections(self) -> list[dict]:
        return [{"connection_id": c.connection_id, "user_id": c.user.id if c.user else "", "seq": c.seq}
                for c in self._connections if not c.closed]

    async def wait_for_connections(self, count: int = 1, *, user: User | str | None = None,
                                   timeout: float = 5.0) -> None:
        """Wait until `count` authenticated websockets (of `user`, if given) are open."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            open_ = [c for c in self._connections
                     if c.user is not None and not c.closed and (user is None or c.user.id == _ref(user))]
            if len(open_) >= count:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(open_)} authenticated websocket(s) open, expected {count}")
            await asyncio.sleep(0.01)

    async def wait_until(self, condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "a condition") -> Any:
        """Wait until ``condition()`` returns something truthy (checked as the fake's state changes); return it.
        The condition may be a coroutine function (a look into the bot's database, say): it is awaited."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = condition()
            if inspect.isawaitable(found):
                found = await found
            if found:
                return found
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"waited {timeout} s for {what}")
            await asyncio.sleep(0.01)

    async def wait_for_post(self, predicate: Callable[[dict], bool], *, channel: Channel | str | None = None,
                            timeout: float = 10.0, after: int = 0) -> dict:
        """The first post (as the API shows it, oldest first) matching ``predicate``, once there is one."""
        def find() -> dict | None:
            posts = sorted((p for p in self._posts.values() if not p.delete_at and p.create_at > after
                            and (channel is None or p.channel_id == _ref(channel))), key=lambda p: p.create_at)
            return next((shown for shown in map(self._post_json, posts) if predicate(shown)), None)
        return await self.wait_until(find, timeout=timeout, what="a matching post")

    def requests_to(self, method: str, path_pattern: str) -> list[RecordedRequest]:
        """Recorded requests whose method matches and whose path matches the regular expression (fullmatch)."""
        pattern = re.compile(path_pattern)
        return [r for r in self.requests if r.method == method.upper() and pattern.fullmatch(r.path)]

    # ------------------------------------------------------------------------------------------ JSON shapes

    def _user_json(self, user: User, viewer: User | None = None) -> dict:
        out: dict = {"id": user.id, "create_at": user.create_at, "update_at": user.create_at, "delete_at": 0,
                     "username": user.username, "auth_data": "", "auth_service": "", "email": user.email,
                     "email_verified": True, "nickname": user.nickname, "first_name": user.first_name,
                     "last_name": user.last_name, "position": "", "roles": user.roles}
        if viewer is None or viewer.id == user.id or viewer.is_system_admin:
            out["notify_props"] = _go_map({"channel": "true", "comments": "never", "desktop": "mention",
                                           "desktop_sound": "true", "email": "true", "first_name": "false",
                                           "mention_keys": "", "push": "mention", "push_status": "away"})
            out["last_password_update"] = user.create_at
        out["locale"] = "en"
        out["timezone"] = _go_map({"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"})
        if user.is_bot:
            out["is_bot"] = True
            out["bot_description"] = user.bot_description
        out["disable_welcome_email"] = False
        return out

    def _team_json(self, team: Team) -> dict:
        return {"id": team.id, "create_at": team.create_at, "update_at": team.create_at, "delete_at": 0,
                "display_name": team.display_name, "name": team.name, "description": "", "email": "",
                "type": team.type, "company_name": "", "allowed_domains": "", "invite_id": "",
                "allow_open_invite": False, "scheme_id": None, "group_constrained": None, "policy_id": None,
                "cloud_limits_archived": False}

    def _channel_json(self, channel: Channel) -> dict:
        return {"id": channel.id, "create_at": channel.create_at, "update_at": channel.create_at,
                "delete_at": channel.delete_at, "team_id": channel.team_id, "type": channel.type,
                "display_name": channel.display_name, "name": channel.name, "header": channel.header,
                "purpose": channel.purpose, "last_post_at": channel.last_post_at,
                "total_msg_count": channel.total_msg_count, "extra_update_at": 0, "creator_id": channel.creator_id,
                "scheme_id": None, "props": None, "group_constrained": None, "shared": None,
                "total_msg_count_root": channel.total_msg_count_root, "policy_id": None,
                "last_root_post_at": channel.last_root_post_at}

    def _member_json(self, channel_id: str, member: Membership) -> dict:
        roles = " ".join([*member.explicit_roles.split(), "channel_user", *(["channel_admin"] if member.admin else [])])
        return {"channel_id": channel_id, "user_id": member.user_id, "roles": roles,
                "last_viewed_at": member.last_viewed_at, "msg_count": 0, "mention_count": 0,
                "mention_count_root": 0, "urgent_mention_count": 0, "msg_count_root": 0,
                "notify_props": _go_map({"desktop": "default", "email": "default",
                                         "ignore_channel_mentions": "default", "mark_unread": "all",
                                         "push": "default"}),
                "last_update_at": member.last_update_at, "scheme_guest": False, "scheme_user": True,
                "scheme_admin": member.admin, "explicit_roles": member.explicit_roles}

    def _team_member_json(self, team_id: str, user_id: str, admin: bool) -> dict:
        return {"team_id": team_id, "user_id": user_id,
                "roles": "team_user team_admin" if admin else "team_user", "delete_at": 0, "scheme_guest": False,
                "scheme_user": True, "scheme_admin": admin, "explicit_roles": ""}

    def _post_json(self, post: _Post, *, pending_post_id: str = "") -> dict:
        root_id = post.root_id or post.id
        replies = [reply for reply in map(self._posts.__getitem__, self._replies.get(root_id, ()))
                   if not reply.delete_at]
        reactions = self._reactions.get(post.id, [])
        out: dict = {"id": post.id, "create_at": post.create_at, "update_at": post.update_at,
                     "edit_at": post.edit_at, "delete_at": post.delete_at, "is_pinned": post.is_pinned,
                     "user_id": post.user_id, "channel_id": post.channel_id, "root_id": post.root_id,
                     "original_id": "", "message": post.message, "type": post.type, "props": _go_map(post.props),
                     "hashtags": post.hashtags, "file_ids": list(post.file_ids), "pending_post_id": pending_post_id}
        if reactions:
            out["has_reactions"] = True
        out["reply_count"] = len(replies)
        out["last_reply_at"] = max((p.create_at for p in replies), default=0)
        out["participants"] = None
        out["metadata"] = {"reactions": [dict(r) for r in reactions]} if reactions else {}
        return out

    def _post_list(self, posts: Iterable[_Post], extra: Iterable[_Post] = (), *,
                   has_next: bool | None = None) -> dict:
        posts = list(posts)
        everything = {p.id: p for p in [*posts, *extra]}
        order = [p.id for p in sorted(posts, key=lambda p: (p.create_at, p.id), reverse=True)]
        out: dict = {"order": order, "posts": {pid: self._post_json(everything[pid]) for pid in sorted(everything)},
                     "next_post_id": "", "prev_post_id": ""}
        if has_next is not None:
            out["has_next"] = has_next
        out["first_inaccessible_post_time"] = 0
        return out

    # ---------------------------------------------------------------------------------------- permissions

    def _user(self, user_id: str, session: User) -> User:
        if user_id == "me":
            return session
        if not is_valid_id(user_id):
            raise _bad_url_param("user_id")
        user = self.users.get(user_id)
        if user is None:
            raise _no_user()
        return user

    def _is_member(self, channel_id: str, user_id: str) -> bool:
        return user_id in self._members.get(channel_id, {})

    def _can_read(self, user: User, channel: Channel) -> bool:
        if user.is_system_admin or self._is_member(channel.id, user.id):
            return True
        return channel.type == "O" and user.id in self._team_members.get(channel.team_id, {})

    def _channel_by_post(self, post_id: str) -> Channel | None:
        post = self._posts.get(post_id)
        return self.channels.get(post.channel_id) if post else None

    def _require_post_permission(self, user: User, post_id: str, write: bool) -> Channel:
        """SessionHasPermissionToChannelByPost: an unknown post is a 403 like a foreign one."""
        channel = self._channel_by_post(post_id)
        if channel is None:
            raise _forbidden()
        allowed = self._is_member(channel.id, user.id) or user.is_system_admin
        if not write:
            allowed = allowed or self._can_read(user, channel)
        if not allowed:
            raise _forbidden()
        return channel

    # --------------------------------------------------------------------------------------- core actions

    def _create_post(self, user: User, body: dict, *, set_online: bool = True) -> tuple[dict, bool]:
        """POST /api/v4/posts; returns (post as shown, whether it was created rather than de-duplicated)."""
        channel = self.channels.get(body.get("channel_id") or "")
        if channel is None or not (self._is_member(channel.id, user.id) or user.is_system_admin):
            raise _forbidden()
        pending_post_id = body.get("pending_post_id") or ""
        if not isinstance(pending_post_id, str):
            raise _bad_body_param("post")
        if pending_post_id:
            seen = self._pending.get(pending_post_id)
            if seen is not None and self.clock() - seen[1] < PENDING_POST_TTL * 1000:
                # deduplicateCreatePost: the stored post (without pending_post_id), no new event
                return self._post_json(self._posts[seen[0]]), False
        if channel.delete_at:
            raise MattermostError(400, "api.post.create_post.can_not_post_to_deleted.error",
                                  "Can not post to deleted channel.")
        root_id = body.get("root_id") or ""
        if root_id:
            if not is_valid_id(root_id):
                raise MattermostError(400, "model.post.is_valid.root_id.app_error", "Invalid root ID.")
            root = self._posts.get(root_id)
            if root is None or root.delete_at or root.root_id:
                raise MattermostError(400, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.")
            if root.channel_id != channel.id:
                raise MattermostError(400, "api.post.create_post.channel_root_id.app_error",
                                      "Invalid ChannelId for RootId parameter.")
        message = body.get("message") or ""
        if not isinstance(message, str):
            raise _bad_body_param("post")
        if len(message) > MESSAGE_MAX_RUNES:
            raise MattermostError(400, "model.post.is_valid.msg.app_error", "Invalid Message.")
        props = copy.deepcopy(body.get("props") or {})
        if not isinstance(props, dict):
            raise _bad_body_param("post")
        if user.is_bot:
            props["from_bot"] = "true"
        now = self._now()
        post = _Post(id=new_id(), create_at=now, update_at=now, user_id=user.id, channel_id=channel.id,
                     root_id=root_id, message=message, props=props, file_ids=list(body.get("file_ids") or []),
                     hashtags=" ".join(dict.fromkeys(_HASHTAG.findall(message))))
        self._posts[post.id] = post
        if root_id:  # the store bumps the root's update_at, so `since` queries return the thread's root
            self._replies.setdefault(root_id, []).append(post.id)
            self._posts[root_id].update_at = now
        if pending_post_id:
            self._pending[pending_post_id] = (post.id, now)
        channel.last_post_at = now
        channel.total_msg_count += 1
        if not root_id:
            channel.last_root_post_at = now
            channel.total_msg_count_root += 1
        shown = self._post_json(post, pending_post_id=pending_post_id)
        self._publish_posted(user, channel, shown, set_online)
        return shown, True

    def _mentioned(self, sender: User, channel: Channel, message: str) -> set[str]:
        members = set(self._members.get(channel.id, {}))
        if channel.type == "D":
            return members - {sender.id}
        names = {m.lower().rstrip(".-_") for m in _MENTION.findall(message)}
        if names & {"channel", "all", "here"}:
            return members - {sender.id}
        return {uid for uid in members if uid != sender.id and self.users[uid].username.lower() in names}

    def _publish_posted(self, sender: User, channel: Channel, shown: dict, set_online: bool) -> None:
        display = f"@{sender.username}" if channel.type == "D" else channel.display_name
        data = {"channel_display_name": display, "channel_name": channel.name, "channel_type": channel.type,
                "post": go_json(shown), "sender_name": f"@{sender.username}", "set_online": set_online,
                "team_id": channel.team_id}
        self._publish("posted", data, channel_id=channel.id,
                      mentions=self._mentioned(sender, channel, shown["message"]))

    def _live_post(self, post_id: str) -> _Post:
        post = self._posts.get(post_id)
        if post is None or post.delete_at:
            raise _no_post()
        return post

    def _patch_post(self, user: User, post_id: str, patch: dict, *, replace: bool = False) -> dict:
        post = self._live_post(post_id)
        channel = self.channels[post.channel_id]
        if post.user_id != user.id and not user.is_system_admin:
            raise _forbidden()
        if not self._is_member(channel.id, user.id) and not user.is_system_admin:
            raise _forbidden()
        if channel.delete_at:
            raise MattermostError(400, "api.post.update_post.can_not_update_post_in_deleted.error",
                                  "Can not update a post in a deleted channel.")
        message = patch.get("message", None if not replace else "")
        if message is not None:
            if not isinstance(message, str) or len(message) > MESSAGE_MAX_RUNES:
                raise MattermostError(400, "model.post.is_valid.msg.app_error", "Invalid Message.")
        now = self._now()
        if message is not None and message != post.message:
            post.message = message
            post.edit_at = now
            post.hashtags = " ".join(dict.fromkeys(_HASHTAG.findall(message)))
        if "props" in patch or replace:
            props = patch.get("props") or {}
            if not isinstance(props, dict):
                raise _bad_body_param("post")
            props = copy.deepcopy(props)
            if self.users[post.user_id].is_bot:
                props["from_bot"] = "true"
            post.props = props
        if "is_pinned" in patch or replace:
            post.is_pinned = bool(patch.get("is_pinned"))
        post.update_at = now
        shown = self._post_json(post)
        self._publish("post_edited", {"post": go_json(shown)}, channel_id=channel.id)
        return shown

    def _delete_post(self, user: User, post_id: str) -> None:
        post = self._live_post(post_id)
        if post.user_id != user.id and not user.is_system_admin:
            raise _forbidden()
        now = self._now()
        post.delete_at = post.update_at = now
        post.props = {**post.props, "deleteBy": user.id}
        self._reactions.pop(post.id, None)  # gone with the post, without reaction_removed events
        if not post.root_id:
            for reply in map(self._posts.__getitem__, self._replies.get(post.id, ())):
                if not reply.delete_at:
                    reply.delete_at = reply.update_at = now
                    self._reactions.pop(reply.id, None)
        shown = go_json(self._post_json(post))
        self._publish("post_deleted", {"post": shown}, channel_id=post.channel_id, sanitized=True)
        self._publish("post_deleted", {"delete_by": user.id, "post": shown}, channel_id=post.channel_id,
                      sensitive=True)

    def _save_reaction(self, user: User, body: Any) -> dict:
        if not isinstance(body, dict):
            raise _bad_body_param("reaction")
        user_id, post_id, emoji = body.get("user_id"), body.get("post_id"), body.get("emoji_name")
        if (not is_valid_id(user_id) or not is_valid_id(post_id) or not isinstance(emoji, str) or not emoji
                or len(emoji) > EMOJI_NAME_MAX):
            raise MattermostError(400, "api.reaction.save_reaction.invalid.app_error", "Reaction is not valid.")
        if user_id != user.id:
            raise MattermostError(403, "api.reaction.save_reaction.user_id.app_error",
                                  "You can not save reaction for the other user.")
        channel = self._require_post_permission(user, post_id, write=True)
        post = self._live_post(post_id)
        if emoji not in SYSTEM_EMOJIS and emoji not in self._custom_emojis:
            raise MattermostError(404, "app.emoji.get_by_name.no_result", "Unable to find the emoji.")
        reactions = self._reactions.setdefault(post.id, [])
        names = {r["emoji_name"] for r in reactions}
        if emoji not in names and len(names) >= UNIQUE_REACTIONS_PER_POST:
            raise MattermostError(400, "app.reaction.save.save.too_many_reactions",
                                  "Reaction limit has been reached for this post.")
        if channel.delete_at:
            raise MattermostError(403, "api.reaction.save.archived_channel.app_error",
                                  "You cannot react to a post in an archived channel.")
        if not _EMOJI_NAME.match(emoji):
            raise MattermostError(400, "model.reaction.is_valid.emoji_name.app_error", "Invalid emoji name.")
        now = self._now()
        reaction = {"user_id": user.id, "post_id": post.id, "emoji_name": emoji, "create_at": now,
                    "update_at": now, "delete_at": 0, "remote_id": "", "channel_id": channel.id}
        for index, existing in enumerate(reactions):
            if existing["user_id"] == user.id and existing["emoji_name"] == emoji:
                reactions[index] = reaction = {**existing, "update_at": now}
                break
        else:
            reactions.append(reaction)
        post.update_at = now
        # The server echoes every save, a repeated one included.
        self._publish("reaction_added", {"reaction": go_json(reaction)}, channel_id=channel.id, scoped=True)
        return dict(reaction)

    def _delete_reaction(self, user: User, user_id: str, post_id: str, emoji: str) -> None:
        if not is_valid_id(user_id):
            raise _bad_url_param("user_id")
        if not is_valid_id(post_id):
            raise _bad_url_param("post_id")
        if not emoji or len(emoji) > EMOJI_NAME_MAX or not _EMOJI_NAME.match(emoji):
            raise _bad_url_param("emoji_name")
        channel = self._require_post_permission(user, post_id, write=True)
        if user_id != user.id and not user.is_system_admin:
            raise _forbidden()
        post = self._posts[post_id]
        if post.delete_at:
            raise _no_post()
        if channel.delete_at:
            raise MattermostError(403, "api.reaction.delete.archived_channel.app_error",
                                  "You cannot remove a reaction in an archived channel.")
        now = self._now()
        reactions = self._reactions.get(post_id, [])
        self._reactions[post_id] = [r for r in reactions
                                    if not (r["user_id"] == user_id and r["emoji_name"] == emoji)]
        if not self._reactions[post_id]:
            del self._reactions[post_id]
        post.update_at = now
        # The handler builds the reaction from the URL and the store only stamps update_at; the event goes out
        # even when there was no such reaction.
        reaction = {"user_id": user_id, "post_id": post_id, "emoji_name": emoji, "create_at": 0,
                    "update_at": now, "delete_at": 0, "remote_id": "", "channel_id": ""}
        self._publish("reaction_removed", {"reaction": go_json(reaction)}, channel_id=channel.id, scoped=True)

    # ------------------------------------------------------------------------------------------ websocket out

    def _publish(self, event: str, data: dict, *, channel_id: str = "", user_id: str = "",
                 omit_users: dict | None = None, mentions: Iterable[str] = (), sanitized: bool = False,
                 sensitive: bool = False, scoped: bool = False) -> None:
        data = dict(sorted(data.items()))  # `data` is a Go map: keys sorted
        mentions = set(mentions)
        broadcast: dict = {"omit_users": omit_users, "user_id": user_id, "channel_id": channel_id, "team_id": "",
                           "connection_id": "", "omit_connection_id": ""}
        if sanitized or self.legacy_broadcast_flags:
            broadcast["contains_sanitized_data"] = sanitized
        if sensitive or self.legacy_broadcast_flags:
            broadcast["contains_sensitive_data"] = sensitive
        for conn in list(self._connections):
            receiver = conn.user
            if receiver is None or conn.closed:
                continue
            if user_id and receiver.id != user_id:
                continue
            if omit_users and receiver.id in omit_users:
                continue
            if channel_id and not self._is_member(channel_id, receiver.id):
                continue
            if (sanitized and receiver.is_system_admin) or (sensitive and not receiver.is_system_admin):
                continue
            if scoped and conn.active_channel and conn.active_channel != channel_id:
                continue  # WebSocketEventScope: only clients that sent `presence` for another channel miss it
            if receiver.id in mentions:  # the mentions broadcast hook rewrites the event for this connection
                changed = dict(sorted({**data, "mentions": go_json([receiver.id])}.items()))
                self._send_event(conn, event, changed, broadcast, precomputed=False)
            else:
                self._send_event(conn, event, data, broadcast, precomputed=True)

    # ------------------------------------------------------------------------------------------- websocket in

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        token = _token_of(request)
        transport = request.transport
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Connection(ws, transport, new_id())
        self._connections.append(conn)
        self.ws_connects += 1
        conn.pump = asyncio.create_task(self._pump(conn))
        user_id = self._tokens.get(token) if token else None
        if user_id is not None:
            self._ws_authenticate(conn, self.users[user_id])
        else:  # an invalid header token is ignored: the client may still answer the challenge
            conn.auth_timer = asyncio.get_running_loop().call_later(self.ws_auth_timeout, self._ws_auth_expired, conn)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._ws_message(conn, message.data)
                elif message.type == WSMsgType.BINARY:
                    self._ws_message(conn, message.data.decode("utf-8", "replace"))
                if conn.closed:
                    break
        except Exception:  # a dropped connection ends the read loop in whatever way aiohttp reports it
            pass
        finally:
            if conn.auth_timer is not None:
                conn.auth_timer.cancel()
            conn.closed = True
            conn.queue.put_nowait(None)
            if conn in self._connections:
                self._connections.remove(conn)
        return ws

    async def _pump(self, conn: _Connection) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                return
            try:
                await conn.ws.send_str(text)
            except Exception:
                return

    def _ws_auth_expired(self, conn: _Connection) -> None:
        if conn.user is None:
            conn.abort()

    def _ws_authenticate(self, conn: _Connection, user: User) -> None:
        conn.user = user
        if conn.auth_timer is not None:
            conn.auth_timer.cancel()
            conn.auth_timer = None
        hello = {"connection_id": conn.connection_id, "server_hostname": HOSTNAME, "server_version": VERSION_ID}
        broadcast = {"omit_users": None, "user_id": user.id, "channel_id": "", "team_id": "", "connection_id": "",
                     "omit_connection_id": ""}
        if self.legacy_broadcast_flags:
            broadcast.update(contains_sanitized_data=False, contains_sensitive_data=False)
        conn.send_event("hello", hello, broadcast, precomputed=False)

    def _ws_fail(self, conn: _Connection, seq: Any, status: int, error_id: str, message: str) -> None:
        response: dict = {"status": "FAIL"}
        if isinstance(seq, int) and seq:
            response["seq_reply"] = seq
        response["error"] = MattermostError(status, error_id, message).body()
        conn.send_response(response)

    def _ws_message(self, conn: _Connection, text: str) -> None:
        try:
            request = json.loads(text)
        except ValueError:
            request = None
        self.ws_requests.append(WebsocketRequest(conn.connection_id, conn.user.id if conn.user else "", request))
        if not isinstance(request, dict):
            conn.abort()  # ReadJSON failed: the server ends the connection
            return
        seq, action, data = request.get("seq"), request.get("action"), request.get("data")
        if not isinstance(seq, int) or isinstance(seq, bool):
            seq = 0
        data = data if isinstance(data, dict) else {}
        if not action:
            return self._ws_fail(conn, seq, 400, "api.web_socket_router.no_action.app_error", "No websocket action.")
        if seq <= 0:
            return self._ws_fail(conn, seq, 400, "api.web_socket_router.bad_seq.app_error",
                                 "Invalid sequence for WebSocket message.")
        if action == "authentication_challenge":
            if conn.user is not None:
                return  # a second challenge is ignored
            user_id = self._tokens.get(data.get("token")) if isinstance(data.get("token"), str) else None
            if user_id is None:
                conn.abort()  # no FAIL reply: the socket is just closed
                return
            self._ws_authenticate(conn, self.users[user_id])  # hello is queued before the OK reply
            conn.send_response({"status": "OK", "seq_reply": seq})
            return
        if conn.user is None:
            return self._ws_fail(conn, seq, 401, "api.web_socket_router.not_authenticated.app_error",
                                 "No websocket session has been authenticated.")
        reply: dict | None = None
        if action == "ping":
            reply = _go_map({"node_id": "", "server_time": int(time.time() * 1000), "text": "pong",
                             "version": VERSION_ID})
        elif action == "user_typing":
            channel_id = data.get("channel_id") or ""
            if self._is_member(channel_id, conn.user.id):
                self._publish("typing", {"parent_id": data.get("parent_id") or "", "user_id": conn.user.id},
                              channel_id=channel_id, omit_users={conn.user.id: True}, scoped=True)
        elif action == "presence":
            conn.active_channel = data.get("channel_id") or ""
        elif action in ("get_statuses", "get_statuses_by_ids"):
            ids = data.get("user_ids") if action == "get_statuses_by_ids" else list(self.users)
            online = {c.user.id for c in self._connections if c.user and not c.closed}
            reply = {uid: ("online" if uid in online else "offline")
                     for uid in sorted(i for i in ids or [] if isinstance(i, str))}
        elif action not in ("posted_notify_ack", "user_update_active_status"):
            return self._ws_fail(conn, seq, 501, "api.web_socket_router.bad_action.app_error",
                                 "Unknown WebSocket action.")
        response: dict = {"status": "OK", "seq_reply": seq}
        if reply:
            response["data"] = reply
        conn.send_response(response)

    # -------------------------------------------------------------------------------------------- REST plumbing

    def _routes(self, router: web.UrlDispatcher) -> None:
        api = "/api/v4"
        router.add_get(f"{api}/websocket", self._websocket)
        router.add_get(f"{api}/websocket/", self._websocket)
        table = [
            ("GET", "/users", self._get_users),
            ("POST", "/users/ids", self._get_users_by_ids),
            ("GET", "/users/username/{username}", self._get_user_by_username),
            ("GET", "/users/{user_id}", self._get_user),
            ("GET", "/users/{user_id}/teams", self._get_teams_for_user),
            ("GET", "/users/{user_id}/teams/{team_id}/channels", self._get_channels_for_team_for_user),
            ("GET", "/users/{user_id}/channels", self._get_channels_for_user),
            ("GET", "/teams/{team_id}", self._get_team),
            ("GET", "/teams/{team_id}/members/{user_id}", self._get_team_member),
            ("POST", "/channels/direct", self._create_direct_channel),
            ("GET", "/channels/{channel_id}", self._get_channel),
            ("GET", "/channels/{channel_id}/members", self._get_channel_members),
            ("GET", "/channels/{channel_id}/members/{user_id}", self._get_channel_member),
            ("GET", "/channels/{channel_id}/posts", self._get_posts_for_channel),
            ("POST", "/posts", self._create_post_handler),
            ("GET", "/posts/{post_id}", self._get_post),
            ("PUT", "/posts/{post_id}", self._update_post),
            ("DELETE", "/posts/{post_id}", self._delete_post_handler),
            ("PUT", "/posts/{post_id}/patch", self._patch_post_handler),
            ("GET", "/posts/{post_id}/thread", self._get_post_thread),
            ("POST", "/reactions", self._save_reaction_handler),
            ("GET", "/posts/{post_id}/reactions", self._get_reactions),
            ("DELETE", "/users/{user_id}/posts/{post_id}/reactions/{emoji_name}", self._delete_reaction_handler),
        ]
        for method, path, handler in table:
            router.add_route(method, api + path, handler)
        router.add_route("*", "/{tail:.*}", self._unknown_route, name="unknown")

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.rstrip("/") == "/api/v4/websocket":
            return await handler(request)
        body = await request.read()
        entry = RecordedRequest(request.method, request.path, dict(request.query), body)
        self.requests.append(entry)
        request_id = new_id()
        finding = None
        if self.contract.active:
            STATS["validated"] += 1
            finding = self.contract.check(request, body)
            if finding is not None:
                STATS["violations"] += 1
                entry.violation = finding.message
                self.violations.append(Violation(request.method, request.path_qs, finding.message))
        try:
            retry_after = self._take_429(request.method, request.path) if self._rate_limited else None
            if retry_after is not None:
                response = _too_many_requests(retry_after)
            elif request.match_info.route.name == "unknown":
                response = self._unknown(request, finding)
            else:
                session = self._session(request)
                entry.user_id = session.id
                if finding is not None:
                    raise MattermostError(400, "fake.contract_violation.app_error",
                                          f"The request does not follow the OpenAPI description: {finding.message}")
                request[_SESSION_KEY] = session
                request[_BODY_KEY] = body
                response = await handler(request)
        except MattermostError as error:
            response = _json_response(error.body(request_id), error.status)
        response.headers["X-Request-Id"] = request_id
        response.headers["X-Version-Id"] = VERSION_ID
        if request.method == "GET":
            response.headers["Expires"] = "0"
        entry.status = response.status
        return response

    def _session(self, request: web.Request) -> User:
        user_id = self._tokens.get(_token_of(request) or "")
        if user_id is None:
            raise MattermostError(401, "api.context.session_expired.app_error",
                                  "Invalid or expired session, please login again.")
        return self.users[user_id]

    def _unknown(self, request: web.Request, finding: _Finding | None) -> web.Response:
        if finding is not None and finding.unknown_operation:  # not an API call at all: the router's 404
            return _json_response(MattermostError(
                404, "api.context.404.app_error", "Sorry, we could not find the page.",
                f"There doesn't appear to be an api call for the url='{request.path}'.").body(new_id()), 404)
        self.unimplemented.append(f"{request.method} {request.path}")
        return _json_response(MattermostError(
            501, "fake.not_implemented.app_error",
            f"The fake Mattermost does not implement {request.method} {request.path}.").body(new_id()), 501)

    async def _unknown_route(self, request: web.Request) -> web.Response:  # answered in the middleware
        raise web.HTTPNotFound()

    @staticmethod
    def _json_body(request: web.Request, name: str) -> Any:
        try:
            return json.loads(request[_BODY_KEY])
        except ValueError as exc:
            raise _bad_body_param(name, str(exc)) from None

    @staticmethod
    def _paging(request: web.Request) -> tuple[int, int]:
        try:
            page = int(request.query.get("page", "0"))
        except ValueError:
            raise _bad_url_param("page") from None
        try:
            per_page = int(request.query.get("per_page", str(PER_PAGE_DEFAULT)))
        except ValueError:
            raise _bad_url_param("per_page") from None
        if page < 0:
            raise _bad_url_param("page")
        if per_page < 0:
            raise _bad_url_param("per_page")
        return page, min(per_page, PER_PAGE_MAXIMUM)

    def _channel(self, channel_id: str) -> Channel:
        if not is_valid_id(channel_id):
            raise _bad_url_param("channel_id")
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _no_channel()
        return channel

    # ------------------------------------------------------------------------------------------ REST handlers

    async def _get_user(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        return _json_response(self._user_json(self._user(request.match_info["user_id"], session), session))

    async def _get_user_by_username(self, request: web.Request) -> web.Response:
        name = request.match_info["username"]
        for user in self.users.values():
            if user.username == name:
                return _json_response(self._user_json(user, request[_SESSION_KEY]))
        raise _no_user()

    async def _get_users_by_ids(self, request: web.Request) -> web.Response:
        ids = self._json_body(request, "user_ids")
        if not isinstance(ids, list) or not ids:
            raise _bad_body_param("user_ids")
        users = [self.users[i] for i in dict.fromkeys(ids) if isinstance(i, str) and i in self.users]
        return _json_response([self._user_json(u, request[_SESSION_KEY]) for u in users])

    async def _get_users(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        page, per_page = self._paging(request)
        users = sorted(self.users.values(), key=lambda u: u.username)
        in_channel, in_team = request.query.get("in_channel"), request.query.get("in_team")
        if in_channel:
            channel = self._channel(in_channel)
            if not self._can_read(session, channel):
                raise _forbidden()
            members = self._members[channel.id]
            users = [u for u in users if u.id in members]
            roles = {r for r in request.query.get("channel_roles", "").split(",") if r}
            if roles:
                users = [u for u in users if ("channel_admin" if members[u.id].admin else "channel_user") in roles]
        if in_team:
            if session.id not in self._team_members.get(in_team, {}) and not session.is_system_admin:
                raise _forbidden()
            users = [u for u in users if u.id in self._team_members.get(in_team, {})]
        chunk = users[page * per_page:(page + 1) * per_page]
        return _json_response([self._user_json(u, session) for u in chunk])

    async def _get_teams_for_user(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        user = self._user(request.match_info["user_id"], session)
        if user.id != session.id and not session.is_system_admin:
            raise _forbidden()
        teams = [t for t in self.teams.values() if user.id in self._team_members[t.id]]
        return _json_response([self._team_json(t) for t in teams])

    def _channels_of(self, user: User, team_id: str | None) -> list[Channel]:
        return [c for c in self.channels.values() if self._is_member(c.id, user.id) and not c.delete_at
                and (team_id is None or c.team_id in (team_id, ""))]

    async def _get_channels_for_team_for_user(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        user = self._user(request.match_info["user_id"], session)
        team_id = request.match_info["team_id"]
        if not is_valid_id(team_id):
            raise _bad_url_param("team_id")
        if user.id != session.id and not session.is_system_admin:
            raise _forbidden()
        if user.id not in self._team_members.get(team_id, {}):
            raise _forbidden()
        return _json_response([self._channel_json(c) for c in self._channels_of(user, team_id)])

    async def _get_channels_for_user(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        user = self._user(request.match_info["user_id"], session)
        if user.id != session.id and not session.is_system_admin:
            raise _forbidden()
        return _json_response([self._channel_json(c) for c in self._channels_of(user, None)])

    async def _get_team(self, request: web.Request) -> web.Response:
        team_id = request.match_info["team_id"]
        if not is_valid_id(team_id):
            raise _bad_url_param("team_id")
        session = request[_SESSION_KEY]
        if session.id not in self._team_members.get(team_id, {}) and not session.is_system_admin:
            raise _forbidden()
        return _json_response(self._team_json(self.teams[team_id]))

    async def _get_team_member(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        team_id = request.match_info["team_id"]
        if not is_valid_id(team_id):
            raise _bad_url_param("team_id")
        user = self._user(request.match_info["user_id"], session)
        members = self._team_members.get(team_id, {})
        if session.id not in members and not session.is_system_admin:
            raise _forbidden()
        if user.id not in members:
            raise MattermostError(404, "app.team.get_member.missing.app_error",
                                  "No team member found for that user ID and team ID.")
        return _json_response(self._team_member_json(team_id, user.id, members[user.id]))

    async def _create_direct_channel(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        ids = self._json_body(request, "user_ids")
        if not isinstance(ids, list) or len(ids) != 2 or not all(is_valid_id(i) for i in ids):
            raise _bad_body_param("user_ids")
        if session.id not in ids and not session.is_system_admin:
            raise _forbidden()
        if any(i not in self.users for i in ids):
            raise MattermostError(400, "api.channel.create_direct_channel.invalid_user.app_error",
                                  "Invalid user ID for direct channel creation.")
        return _json_response(self._channel_json(self.direct_channel(ids[0], ids[1])), 201)

    async def _get_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request.match_info["channel_id"])
        if not self._can_read(request[_SESSION_KEY], channel):
            raise _forbidden()
        return _json_response(self._channel_json(channel))

    async def _get_channel_members(self, request: web.Request) -> web.Response:
        channel = self._channel(request.match_info["channel_id"])
        if not self._can_read(request[_SESSION_KEY], channel):
            raise _forbidden()
        page, per_page = self._paging(request)
        members = sorted(self._members[channel.id].values(), key=lambda m: m.user_id)
        chunk = members[page * per_page:(page + 1) * per_page]
        return _json_response([self._member_json(channel.id, m) for m in chunk])

    async def _get_channel_member(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        channel = self._channel(request.match_info["channel_id"])
        user = self._user(request.match_info["user_id"], session)
        if not self._can_read(session, channel):
            raise _forbidden()
        member = self._members[channel.id].get(user.id)
        if member is None:
            raise MattermostError(404, "app.channel.get_member.missing.app_error",
                                  "No channel member found for that user ID and channel ID.")
        return _json_response(self._member_json(channel.id, member))

    async def _get_posts_for_channel(self, request: web.Request) -> web.Response:
        channel = self._channel(request.match_info["channel_id"])
        after, before = request.query.get("after", ""), request.query.get("before", "")
        if after and not is_valid_id(after):
            raise MattermostError(400, "api.context.invalid_param.app_error", "Invalid after parameter.")
        if before and not is_valid_id(before):
            raise MattermostError(400, "api.context.invalid_param.app_error", "Invalid before parameter.")
        try:
            since = int(request.query.get("since") or 0)
        except ValueError:
            raise MattermostError(400, "api.context.invalid_param.app_error", "Invalid since parameter.") from None
        if not self._can_read(request[_SESSION_KEY], channel):
            raise _forbidden()
        page, per_page = self._paging(request)
        if since > 0:
            # Posts changed since then, deleted ones included, at most SINCE_LIMIT of them: the server's CTE
            # has a LIMIT and no ORDER BY, so PostgreSQL returns the first rows in physical (insertion) order,
            # the oldest; the newest changes are left out. The roots of the replies are added to the list.
            changed = [p for p in self._posts.values() if p.channel_id == channel.id and p.update_at > since]
            changed = changed[:SINCE_LIMIT]
            roots = [self._posts[p.root_id] for p in changed if p.root_id in self._posts]
            return _json_response(self._post_list(changed, roots), newline=True)
        in_channel = sorted((p for p in self._posts.values() if p.channel_id == channel.id),
                            key=lambda p: (p.create_at, p.id), reverse=True)
        live = [p for p in in_channel if not p.delete_at]
        if after or before:
            anchor = self._posts.get(after or before)
            if anchor is None:
                return _json_response(self._post_list([], has_next=False), newline=True)
            if after:
                newer = list(reversed([p for p in live if p.create_at > anchor.create_at]))
                chunk = newer[page * per_page:(page + 1) * per_page]
                more = len(newer) > (page + 1) * per_page
            else:
                older = [p for p in live if p.create_at < anchor.create_at]
                chunk = older[page * per_page:(page + 1) * per_page]
                more = len(older) > (page + 1) * per_page
        else:
            chunk = live[page * per_page:(page + 1) * per_page]
            more = len(live) > (page + 1) * per_page
        threads = {p.root_id or p.id for p in chunk}
        extra = [p for p in live if (p.root_id or p.id) in threads]
        return _json_response(self._post_list(chunk, extra, has_next=more), newline=True)

    async def _create_post_handler(self, request: web.Request) -> web.Response:
        body = self._json_body(request, "post")
        if not isinstance(body, dict):
            raise _bad_body_param("post")
        set_online = request.query.get("set_online", "true").lower() not in ("false", "0", "f")
        shown, _created = self._create_post(request[_SESSION_KEY], body, set_online=set_online)
        return _json_response(shown, 201, newline=True)

    def _readable_post(self, request: web.Request, post_id: str) -> _Post:
        post = self._live_post(post_id)
        if not self._can_read(request[_SESSION_KEY], self.channels[post.channel_id]):
            raise _forbidden()
        return post

    async def _get_post(self, request: web.Request) -> web.Response:
        post_id = _post_id(request)
        post = self._readable_post(request, post_id)
        return _json_response(self._post_json(post), newline=True)

    async def _update_post(self, request: web.Request) -> web.Response:
        post_id = _post_id(request)
        body = self._json_body(request, "post")
        if not isinstance(body, dict) or body.get("id") != post_id:
            raise _bad_body_param("id")
        shown = self._patch_post(request[_SESSION_KEY], post_id, body, replace=True)
        return _json_response(shown, newline=True)

    async def _patch_post_handler(self, request: web.Request) -> web.Response:
        post_id = _post_id(request)
        patch = self._json_body(request, "post")
        if not isinstance(patch, dict):
            raise _bad_body_param("post")
        return _json_response(self._patch_post(request[_SESSION_KEY], post_id, patch), newline=True)

    async def _delete_post_handler(self, request: web.Request) -> web.Response:
        post_id = _post_id(request)
        self._delete_post(request[_SESSION_KEY], post_id)
        return _json_response({"status": "OK"})

    async def _get_post_thread(self, request: web.Request) -> web.Response:
        post_id = _post_id(request)
        post = self._readable_post(request, post_id)
        root_id = post.root_id or post.id
        thread = [p for p in self._posts.values() if (p.id == root_id or p.root_id == root_id) and not p.delete_at]
        return _json_response(self._post_list(thread), newline=True)

    async def _save_reaction_handler(self, request: web.Request) -> web.Response:
        reaction = self._save_reaction(request[_SESSION_KEY], self._json_body(request, "reaction"))
        return _json_response(reaction, 200, newline=True)  # 200, not the 201 the description says

    async def _get_reactions(self, request: web.Request) -> web.Response:
        post_id = _post_id(request)
        self._require_post_permission(request[_SESSION_KEY], post_id, write=False)
        reactions = self._reactions.get(post_id)
        return _json_response([dict(r) for r in reactions] if reactions else None)  # a nil slice: null

    async def _delete_reaction_handler(self, request: web.Request) -> web.Response:
        session = request[_SESSION_KEY]
        user_id = request.match_info["user_id"]
        if user_id == "me":
            user_id = session.id
        self._delete_reaction(session, user_id, request.match_info["post_id"], request.match_info["emoji_name"])
        return _json_response({"status": "OK"})


def _token_of(request: web.Request) -> str | None:
    """The session token as the server finds it: `Authorization: Bearer|Token <t>`, else the MMAUTHTOKEN cookie.

    (The server refuses a personal access token in the query string, so `?access_token=` is not honoured.)"""
    header = request.headers.get("Authorization", "")
    if header[:6].upper() == "BEARER" and len(header) > 7:
        return header[7:].strip()
    if header[:5].upper() == "TOKEN" and len(header) > 6:
        return header[6:].strip()
    return request.cookies.get("MMAUTHTOKEN") or None


def _json_response(value: Any, status: int = 200, *, newline: bool = False) -> web.Response:
    """Exactly `Content-Type: application/json`, as the server writes it (no charset parameter)."""
    text = go_json(value) + ("\n" if newline else "")
    return web.Response(status=status, body=text.encode("utf-8"), headers={"Content-Type": "application/json"})


def _too_many_requests(retry_after: int) -> web.Response:
    """The rate limiter's answer: http.Error(w, "limit exceeded", 429) plus throttled's headers."""
    return web.Response(status=429, body=b"limit exceeded\n", headers={
        "Content-Type": "text/plain; charset=utf-8",
        "X-Content-Type-Options": "nosniff",
        "Retry-After": str(retry_after),
        "X-Ratelimit-Limit": "10",
        "X-Ratelimit-Remaining": "0",
        "X-Ratelimit-Reset": str(retry_after),
    })
