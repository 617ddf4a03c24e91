"""Settings: the YAML configuration file, plus a few environment variables, as typed immutable values.

Validation reads everything and reports every problem at once, each named by its dotted key
("assembly.majority: ..."), so that one run of ``consent-bot check-config`` shows them all.
``config.example.yaml`` documents every key.
"""

from __future__ import annotations

import difflib
import functools
import ipaddress
import math
import os
import re
import tempfile
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlparse
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import holidays
import yaml

from bot.durations import (MAX_BETWEEN_ROUNDS, MAX_LOCK, MAX_ROUND, format_duration, parse_calendar_duration,
                           parse_duration)
from bot.engine.calendar import WorkingCalendar
from bot.engine.model import Position, SocialCode
from bot.reactions import MATRIX_DEFAULTS, MATTERMOST_DEFAULTS, normalize_emoji, normalize_emoji_name
from storage.url import EXAMPLE as URL_EXAMPLE, is_postgres_url, url_problem

LANGUAGES = ("fr", "en")
PLATFORMS = ("console", "matrix", "mattermost")
# Adding a chat adapter: list it here, add its section (e.g. `matrix:`) to TOP_LEVEL_KEYS with a
# function that validates it into a field of Config, and put its secrets in ENVIRONMENT.
AVAILABLE_PLATFORMS = ("console", "matrix", "mattermost")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TOP_LEVEL_KEYS = ("platform", "storage", "log_level", "assembly", "rooms", "matrix", "mattermost", "register")
MATRIX_KEYS = ("homeserver", "user_id", "access_token", "password", "device_id", "allowed_inviters",
               "facilitator_power_level", "reactions", "store_path", "trust", "room_key_wait")
TRUST_POLICIES = ("tofu", "all")
"""Whose devices get the bot's room keys in encrypted rooms (README, "Encrypted rooms")."""
DEFAULT_ROOM_KEY_WAIT = timedelta(minutes=10)
MAX_ROOM_KEY_WAIT = timedelta(days=1)
MATTERMOST_KEYS = ("url", "token", "teams", "reactions")
STORAGE_KEYS = ("path", "url")
REGISTER_KEYS = ("enabled", "bind", "port", "public_url", "licence", "show_names")
DEFAULT_STORAGE_PATH = "storage/consent.db"
HOLIDAY_KEYS = ("country", "subdivision")
IN_MEMORY = ":memory:"  # SQLite's name for a database that is no file: nothing to check on disk

# Bounds on what the file may hold, so that nothing in it can crash the bot or make it hang:
# each is far beyond real use. The durations' bounds are in bot.durations (MAX_ROUND...).
MAX_REMINDERS = 10
MAX_BLOCKED_ROUNDS = 100
MAX_FACILITATORS = 1000
MAX_ID_LENGTH = 255  # a member id, a room id: Matrix ids are at most 255 bytes
MAX_TEAM_LENGTH = 64  # Mattermost team names are at most 64 characters
MAX_TIMEZONE_LENGTH = 100  # the longest IANA name is about 30 characters
MAX_SHARE_LENGTH = 30  # "2/3", "0.67", "67%": a share is short
MAX_FILE_SIZE = 1_000_000  # bytes; a configuration is a few kilobytes, /dev/zero is endless
MAX_DEPTH = 20  # nesting levels; the deepest key is rooms.<id>.holidays.country (4)
MAX_NAME_LENGTH = 200  # an assembly's name, as long as a proposal's title
MAX_URL_LENGTH = 2000  # the public register's address: browsers and servers take URLs of 2,000 characters
MAX_LICENCE_LENGTH = 200  # a licence's name or SPDX id ("ODbL-1.0", "CC-BY-4.0"), or its URL
MAX_HOST_LENGTH = 253  # the longest DNS name
_SHOWN = 40  # how much of a long value an error message quotes
# A share as Fraction reads it, with at most 3 digits of exponent: Fraction("1e999999999") would compute
# 10**999999999 for minutes. Floats, written back by str(), never have more (1e-05, 1e+300).
_SHARE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d{1,3})?|[-+]?\d+/\d+", re.IGNORECASE | re.ASCII)


@dataclass(frozen=True)
class EnvironmentVariable:
    """An environment variable that overrides one dotted key of the file."""

    key: str
    name: str
    secret: bool = False  # a secret's value never appears in an error message
    flag: bool = False  # true/false in the file: "true", "false", "1", "0", "yes", "no" in the environment


ENVIRONMENT = (
    EnvironmentVariable("storage.path", "CONSENT_BOT_STORAGE_PATH"),
    EnvironmentVariable("storage.url", "CONSENT_BOT_STORAGE_URL"),  # shown without its password, if ever
    EnvironmentVariable("log_level", "CONSENT_BOT_LOG_LEVEL"),
    EnvironmentVariable("matrix.access_token", "CONSENT_BOT_MATRIX_ACCESS_TOKEN", secret=True),
    EnvironmentVariable("matrix.password", "CONSENT_BOT_MATRIX_PASSWORD", secret=True),
    EnvironmentVariable("matrix.store_path", "CONSENT_BOT_MATRIX_STORE_PATH"),
    EnvironmentVariable("mattermost.token", "CONSENT_BOT_MATTERMOST_TOKEN", secret=True),
    EnvironmentVariable("register.enabled", "CONSENT_BOT_REGISTER_ENABLED", flag=True),
    EnvironmentVariable("register.bind", "CONSENT_BOT_REGISTER_BIND"),
    EnvironmentVariable("register.port", "CONSENT_BOT_REGISTER_PORT"),
    EnvironmentVariable("register.public_url", "CONSENT_BOT_REGISTER_PUBLIC_URL"),
)
_FLAGS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}


class ConfigError(Exception):
    """The configuration is unusable; ``errors`` lists every problem as "dotted.key: problem"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = list(errors)


@dataclass(frozen=True)
class AssemblySettings:
    """What one assembly (or one room) runs by: its language, social code and facilitators."""

    language: str
    code: SocialCode
    facilitators: frozenset[str]
    followup: frozenset[str] = frozenset()
    """Members who follow decisions up besides the facilitators (the elected officials bound to apply them)."""
    delegation: bool = False
    """Whether members may entrust their vote to another member (liquid democracy)."""
    name: str = ""
    """What the public register calls the assembly (or the room); empty: the room's id."""


@dataclass(frozen=True)
class MatrixSettings:
    homeserver: str
    user_id: str
    access_token: str = field(repr=False)
    password: str = field(repr=False)
    device_id: str
    allowed_inviters: tuple[str, ...]
    """User ids ("@alice:example.org") or server suffixes (":example.org")."""
    facilitator_power_level: int
    reactions: Mapping[Position, tuple[str, ...]]
    store_path: Path = Path("consent-crypto")
    """The folder of the end-to-end encryption store (the bot's device keys and sessions): on the data volume."""
    trust: str = "tofu"
    """Whose devices get the bot's room keys: ``tofu`` (each device with the keys first seen for it) or ``all``."""
    room_key_wait: timedelta = DEFAULT_ROOM_KEY_WAIT
    """How long a message the bot cannot decrypt yet waits for its key (and a round closing, for it)."""

    def may_invite(self, user_id: str) -> bool:
        return any(user_id == allowed or (allowed.startswith(":") and user_id.endswith(allowed))
                   for allowed in self.allowed_inviters)


@dataclass(frozen=True)
class MattermostSettings:
    url: str
    """The server's address, e.g. https://chat.example.org (no /api/v4)."""
    token: str = field(repr=False)
    teams: tuple[str, ...]
    """Team names the bot answers in; empty: every team it belongs to."""
    reactions: Mapping[Position, tuple[str, ...]]
    """Emoji names (as Mattermost spells them: +1, raised_hand...) per position."""


@dataclass(frozen=True)
class RegisterSettings:
    """The public register: web pages, open data and feeds of every decision (``register:``)."""

    enabled: bool = False
    """Serve it from the bot's own process (``consent-bot serve`` serves it on its own in any case)."""
    bind: str = "127.0.0.1"
    port: int = 8080
    """0: any free port (the address it got is logged)."""
    public_url: str = ""
    """The address people reach it at (behind a proxy), without a trailing slash; used in links, the feeds
    and the outcome messages. Empty: links are relative, and outcome messages carry none."""
    licence: str = "ODbL-1.0"
    show_names: bool = True
    """False: members' ids are published nowhere (counts, reasons and arguments still are)."""


@dataclass(frozen=True)
class Config:
    platform: str
    storage_path: Path
    assembly: AssemblySettings
    rooms: Mapping[str, AssemblySettings]  # only the rooms that override something
    log_level: str
    matrix: MatrixSettings | None = None
    mattermost: MattermostSettings | None = None
    storage_url: str | None = field(default=None, repr=False)
    """A PostgreSQL database (postgresql://…), which then holds the register instead of the SQLite file."""

    @property
    def storage(self) -> str:
        """Where the register is, as Repository.open takes it: the PostgreSQL URL, else the SQLite file."""
        return self.storage_url or str(self.storage_path)
    register: RegisterSettings = RegisterSettings()

    def for_room(self, room_id: str) -> AssemblySettings:
        return self.rooms.get(room_id, self.assembly)


# --- Reporting problems -------------------------------------------------------------------------


class _Report:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.env_sources: dict[str, str] = {}  # dotted key -> the variable that set it
        self.secrets: list[str] = []

    def add(self, key: str, problem: str) -> None:
        if key in self.env_sources:
            key = f"{key} (from {self.env_sources[key]})"
        for secret in self.secrets:
            for spelling in {secret, repr(secret)[1:-1]}:
                problem = problem.replace(spelling, "***")
        # One problem a line, always: a key or a value may hold a newline or a control character.
        self.problems.append(_printable(f"{key}: {problem}"))


def _printable(text: str) -> str:
    """``text`` with its control characters escaped, as repr() would show them."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


INVALID = object()  # what a converter returns once it has reported a problem
Converter = Callable[[Any, str, _Report], Any]


def _simple(parse: Callable[[Any], Any]) -> Converter:
    """A converter from a function that raises ValueError with the problem."""

    def convert(value: Any, key: str, report: _Report) -> Any:
        try:
            return parse(value)
        except ValueError as error:
            report.add(key, str(error))
            return INVALID

    return convert


def _shown(value: Any) -> str:
    """A value as error messages quote it: repr() of a scalar, cut short; a list or a mapping by its type.

    A container is never repr()'d: YAML aliases can make one that refers to itself, or that holds
    millions of references to the same list ("billion laughs").
    """
    if isinstance(value, list | dict | set | tuple):
        return _describe(value)
    if isinstance(value, str) and len(value) > _SHOWN:
        return repr(value[:_SHOWN]) + "…"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** _SHOWN:
        return f"a number of more than {_SHOWN} digits"  # not str(): it refuses more than 4300 digits
    shown = repr(value)
    return shown if len(shown) <= _SHOWN + 2 else shown[:_SHOWN] + "…"


def _describe(value: Any) -> str:
    """A YAML value as the user wrote it, for "expected X, got Y"."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) >= 10 ** _SHOWN:
        return _shown(value)  # "a number of more than 40 digits"
    if isinstance(value, int | float):
        return f"the number {_shown(value)}"
    if isinstance(value, str):
        return f"the text {_shown(value)}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"  # e.g. YAML reads 2027-03-26 as a date


def _did_you_mean(word: object, candidates: Collection[str]) -> str:
    if not isinstance(word, str) or len(word) > _SHOWN:
        return ""  # nothing to suggest for a number or a paragraph, and difflib is slow on long text
    close = difflib.get_close_matches(word, list(candidates), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _join(prefix: str, name: object) -> str:
    """A dotted key; ``name`` may be any YAML scalar (a number, a date, null), and is cut short if long."""
    if isinstance(name, int) and abs(name) >= 10 ** _SHOWN:
        text = _shown(name)
    else:
        text = str(name)
    shown = text if len(text) <= 2 * _SHOWN else text[:2 * _SHOWN] + "…"
    return f"{prefix}.{shown}" if prefix else shown


def _section(value: Any, key: str, report: _Report, known: Collection[str]) -> dict[str, Any] | None:
    """A mapping's known entries; reports a wrong type and every unknown key. Null counts as empty."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        report.add(key or "(top level)", f"expected a mapping of settings, got {_describe(value)}")
        return None
    for name in value:
        if name not in known:
            report.add(_join(key, name), "unknown key" + _did_you_mean(name, known))
    return {name: item for name, item in value.items() if name in known}


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` over ``base``; nested mappings merge, so a room may change only holidays.subdivision."""
    merged = dict(base)
    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(name), dict):
            value = _merge(merged[name], value)
        merged[name] = value
    return merged


# --- Values -------------------------------------------------------------------------------------


def _choice(options: tuple[str, ...], normalize: Callable[[str], str]) -> Converter:
    def parse(value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"expected one of {', '.join(options)}, got {_describe(value)}")
        if normalize(value) not in options:
            raise ValueError(f"{_shown(value)} is not one of {', '.join(options)}" + _did_you_mean(value, options))
        return normalize(value)

    return _simple(parse)


def _platform(value: Any, key: str, report: _Report) -> Any:
    platform = _choice(PLATFORMS, str.lower)(value, key, report)
    if platform is not INVALID and platform not in AVAILABLE_PLATFORMS:
        supported = ", ".join(AVAILABLE_PLATFORMS)
        report.add(key, f"{platform!r} is not available in this version yet (supported: {supported})")
        return INVALID
    return platform


@_simple
def _time_zone(value: Any) -> ZoneInfo:
    if not isinstance(value, str):
        raise ValueError(f"expected a time zone name such as Europe/Paris, got {_describe(value)}")
    # ZoneInfo reads a file named after the key: refuse what no zone is called before it tries.
    if len(value) > MAX_TIMEZONE_LENGTH or "\0" in value:
        raise ValueError(f"{_shown(value)} is not a known time zone: expected a name such as Europe/Paris")
    try:
        return ZoneInfo(value)
    # ValueError: a path ("../x", "/etc/localtime") or a file that is no zone; OSError: a directory ("Europe").
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"{_shown(value)} is not a known time zone" + _did_you_mean(value, _known_time_zones())
        ) from None


@functools.cache
def _known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())  # it reads the whole time zone database: once is enough


@_simple
def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_describe(value)}")
    return value


def _duration_text(value: Any, expected: str) -> str:
    if isinstance(value, str):
        return value
    hint = " (a unit is missing)" if isinstance(value, int | float) and not isinstance(value, bool) else ""
    raise ValueError(f"expected {expected}, got {_describe(value)}{hint}")


@_simple
def _between_rounds(value: Any) -> Any:
    return parse_duration(_duration_text(value, "a duration such as 72h or 7d"), maximum=MAX_BETWEEN_ROUNDS)


@_simple
def _round_duration(value: Any) -> Any:
    """A round's minimum duration or a reminder's offset: more than zero, at most MAX_ROUND."""
    duration = parse_duration(_duration_text(value, "a duration such as 72h or 7d"), maximum=MAX_ROUND)
    if not duration:
        raise ValueError(f"{_shown(value)} must be longer than zero")
    return duration


@_simple
def _majority_lock(value: Any) -> Any:
    return parse_calendar_duration(_duration_text(value, "a duration such as 3mo or 90d"), maximum=MAX_LOCK)


def _list_of(convert_item: Converter, expected: str) -> Converter:
    """A list converter that names each bad item by its index: reminders[1]."""

    def convert(value: Any, key: str, report: _Report) -> Any:
        if not isinstance(value, list):
            report.add(key, f"expected a list of {expected}, got {_describe(value)}")
            return INVALID
        items = [convert_item(item, f"{key}[{index}]", report) for index, item in enumerate(value)]
        return INVALID if INVALID in items else items

    return convert


def _reminders(value: Any, key: str, report: _Report) -> Any:
    if isinstance(value, list) and len(value) > MAX_REMINDERS:
        report.add(key, f"at most {MAX_REMINDERS} reminders, got {len(value)}")
        return INVALID
    offsets = _list_of(_round_duration, "durations such as [24h, 1h]")(value, key, report)
    # Earliest reminder first; the same offset twice would send the same reminder twice.
    return offsets if offsets is INVALID else sorted(set(offsets), reverse=True)


@_simple
def _member(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a member id such as '@alice:example.org', got {_describe(value)}")
    if len(value.strip()) > MAX_ID_LENGTH:
        raise ValueError(f"a member id has at most {MAX_ID_LENGTH} characters, got {len(value.strip())}")
    return value.strip()


def _members(who: str) -> Converter:
    """A list of member ids, at most MAX_FACILITATORS of them (``who`` names them in the error)."""

    def convert(value: Any, key: str, report: _Report) -> Any:
        if isinstance(value, list) and len(value) > MAX_FACILITATORS:
            report.add(key, f"at most {MAX_FACILITATORS} {who}, got {len(value)}")
            return INVALID
        return _list_of(_member, "member ids")(value, key, report)

    return convert


@_simple
def _followup_reminder(value: Any) -> Any:
    """How long after adoption to ask for a follow-up: a calendar duration; false or 0d: never."""
    if value is False:
        return None
    duration = parse_calendar_duration(_duration_text(value, "a duration such as 30d or 1mo, or false"),
                                       maximum=MAX_LOCK)
    return duration if duration else None


@_simple
def _rounds_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BLOCKED_ROUNDS:
        raise ValueError(f"expected a whole number of at least 1, at most {MAX_BLOCKED_ROUNDS}, "
                         f"got {_describe(value)}")
    return value


def _fraction(value: Any, expected: str) -> Fraction:
    """A share written 2/3, 0.67 or 67% (as written: 0.67 is 67/100, not a rounded 2/3)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"expected {expected}, got {_describe(value)}")
    if isinstance(value, float) and not math.isfinite(value):  # YAML's .inf and .nan, and 1.0e+400
        raise ValueError(f"{_shown(value)} is not a number: expected {expected}")
    if isinstance(value, int) and abs(value) > 10 ** MAX_SHARE_LENGTH:
        raise ValueError(f"{_shown(value)} is far too large: expected {expected}")
    text = str(value).strip()
    percent = text.endswith("%")
    number = text[:-1].strip() if percent else text
    if len(number) > MAX_SHARE_LENGTH or not _SHARE.fullmatch(number):
        raise ValueError(f"{_shown(value)} is not a number: expected {expected}")
    try:
        return Fraction(number) / 100 if percent else Fraction(number)
    except (ValueError, ZeroDivisionError, OverflowError):  # "2/0"
        raise ValueError(f"{_shown(value)} is not a number: expected {expected}") from None


@_simple
def _majority(value: Any) -> Fraction:
    share = _fraction(value, "a fraction such as 2/3, 0.67 or 67%")
    if not Fraction(1, 2) < share <= 1:
        half = ", and exactly 1/2 is not a majority" if share == Fraction(1, 2) else ""
        raise ValueError(f"must be a fraction between 1/2 and 1, e.g. 2/3 (got {_shown(value)}{half})")
    return share


@_simple
def _quorum(value: Any) -> Fraction:
    share = _fraction(value, "a share such as 1/2, 0.5 or 50%")
    if not 0 <= share <= 1:
        raise ValueError(
            f"must be a share between 0 and 1, e.g. 1/2 or 50%; 0 means no quorum (got {_shown(value)})"
        )
    return share


def _holidays(value: Any, key: str, report: _Report) -> Any:
    """(country, subdivision), both as the holidays package names them."""
    fields = _section(value, key, report, HOLIDAY_KEYS)
    if fields is None:
        return INVALID
    fields = _merge(ASSEMBLY_DEFAULTS["holidays"], fields)
    country, subdivision = fields["country"], fields["subdivision"]
    supported = holidays.list_supported_countries()
    if not isinstance(country, str):
        report.add(f"{key}.country", f"expected a country code such as FR, got {_describe(country)}")
        return INVALID
    if country.upper() not in supported:
        report.add(f"{key}.country",
                   f"{_shown(country)} is not a country code known to the holidays package, e.g. FR")
        return INVALID
    country = country.upper()
    if subdivision is None:
        return country, None
    if isinstance(subdivision, int) and not isinstance(subdivision, bool):
        subdivision = str(subdivision)  # "subdivision: 57" (Moselle) unquoted reads as a number
    # Aliases ("Moselle") are accepted as well as codes ("57"), in any case; the code is kept.
    entity = holidays.country_holidays(country)
    spellings = {code: code for code in entity.subdivisions}
    spellings.update(getattr(entity, "subdivisions_aliases", {}))
    codes = {spelling.casefold(): code for spelling, code in spellings.items()}
    if not isinstance(subdivision, str) or subdivision.casefold() not in codes:
        known = ", ".join(entity.subdivisions) or "none"
        report.add(f"{key}.subdivision",
                   f"{_shown(subdivision)} is not a subdivision of {country} (known: {known})")
        return INVALID
    return country, codes[subdivision.casefold()]


@_simple
def _name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a name in text, e.g. 'Assemblée des communs', got {_describe(value)}")
    name = " ".join(value.split())  # one line: it is a heading and a feed's title
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a name has at most {MAX_NAME_LENGTH} characters, got {len(name)}")
    if not name.isprintable():
        raise ValueError("a name cannot contain control characters")
    return name


# Every assembly key: its default as YAML would give it, and how to check and convert it.
ASSEMBLY_DEFAULTS: dict[str, Any] = {
    "language": "fr",
    "timezone": "Europe/Paris",
    "holidays": {"country": "FR", "subdivision": None},
    "working_days_only": True,
    "minimum_duration": "72h",
    "reminders": ["24h", "1h"],
    "days_between_rounds": "7d",
    "blocked_rounds_before_majority": 2,
    "majority": "2/3",
    "majority_lock": "3mo",
    "quorum": 0,
    "facilitators": [],
    "followup": [],
    "followup_reminder": "30d",
    "delegation": False,
    "name": "",
}
ASSEMBLY_CONVERTERS: dict[str, Converter] = {
    "language": _choice(LANGUAGES, str.lower),
    "timezone": _time_zone,
    "holidays": _holidays,
    "working_days_only": _boolean,
    "minimum_duration": _round_duration,
    "reminders": _reminders,
    "days_between_rounds": _between_rounds,
    "blocked_rounds_before_majority": _rounds_count,
    "majority": _majority,
    "majority_lock": _majority_lock,
    "quorum": _quorum,
    "facilitators": _members("facilitators"),
    "followup": _members("members in charge of follow-up"),
    "followup_reminder": _followup_reminder,
    "delegation": _boolean,
    "name": _name,
}


def _assembly_settings(values: Mapping[str, Any]) -> AssemblySettings:
    country, subdivision = values["holidays"]
    calendar = WorkingCalendar(
        zone=values["timezone"],
        country=country,
        subdivision=subdivision,
        working_days_only=values["working_days_only"],
    )
    code = SocialCode(
        calendar=calendar,
        minimum_duration=values["minimum_duration"],
        reminders=tuple(values["reminders"]),
        days_between_rounds=values["days_between_rounds"],
        blocked_rounds_before_majority=values["blocked_rounds_before_majority"],
        majority=values["majority"],
        majority_lock=values["majority_lock"],
        quorum=values["quorum"],
        followup_reminder=values["followup_reminder"],
    )
    return AssemblySettings(language=values["language"], code=code, facilitators=frozenset(values["facilitators"]),
                            followup=frozenset(values["followup"]), delegation=values["delegation"],
                            name=values["name"])


# --- Sections -----------------------------------------------------------------------------------


def _storage_path(value: Any, key: str, report: _Report, base_dir: Path) -> Any:
    if not isinstance(value, str) or not value.strip():
        report.add(key, f"expected a file path such as storage/consent.db, got {_describe(value)}")
        return INVALID
    if "\0" in value:  # no file name holds one: every system call would refuse it
        report.add(key, "a file path cannot contain a NUL byte (\\0)")
        return INVALID
    if is_postgres_url(value):  # not quoted: it may hold a password
        report.add(key, "a PostgreSQL URL is no file path: give it as storage.url")
        return INVALID
    try:
        return base_dir / Path(value).expanduser()  # an absolute path stays as it is
    except RuntimeError:  # "~nobody/consent.db": no such user, or no home directory
        report.add(key, f"{_shown(value)}: there is no such home directory for ~ to stand for")
        return INVALID


def _storage_url(value: Any, key: str, report: _Report) -> Any:
    """The PostgreSQL URL, or None for the SQLite file; a problem with it never shows its password."""
    if value is None:
        return None
    if not isinstance(value, str):
        report.add(key, f"expected a PostgreSQL URL such as {URL_EXAMPLE}, got {_describe(value)}")
        return INVALID
    problem = url_problem(value)
    if problem is not None:
        report.add(key, problem)
        return INVALID
    return value


def check_storage(path: Path) -> str | None:
    """Why the bot could not keep its database at ``path``, or None if it can.

    The bot creates the file, and its folder, at its first start: this proves it could, now, so that
    check-config catches a wrong path before the bot runs. It may create the folder (as the bot would)
    and writes only a temporary file there, which it removes; it never creates the database itself.
    """
    if "\0" in str(path):
        return "a file path cannot contain a NUL byte (\\0)"
    folder = path.parent
    try:
        if path.is_dir():
            example = _path_text(path / "consent.db")
            return f"{_path_text(path)} is a folder: give the database file's path, e.g. {example}"
        problem = _made_folder(folder)
        if problem is not None:
            return problem
    except OSError as error:  # e.g. under /proc or /sys, or a name too long for the file system
        return f"the folder {_path_text(folder)} cannot be created ({_reason(error)})"
    try:
        with tempfile.TemporaryFile(dir=folder):  # removed as soon as closed
            pass
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return f"the bot cannot read and write the database {_path_text(path)}"
    except OSError as error:
        return f"the bot cannot write in the folder {_path_text(folder)} ({_reason(error)})"
    return None


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _path_text(path: Path) -> str:
    """A path for an error message, cut short if it is absurdly long."""
    text = str(path)
    return text if len(text) <= 4 * _SHOWN else text[:4 * _SHOWN] + "…"


def _made_folder(folder: Path) -> str | None:
    """Make ``folder`` and its parents, as the bot would: why it cannot when a file stands in the way (an OSError
    of mkdir is the caller's to word)."""
    blocker = _file_on_the_way(folder)
    if blocker is not None:
        return f"the folder {_path_text(folder)} cannot be created: {_path_text(blocker)} is a file, not a folder"
    folder.mkdir(parents=True, exist_ok=True)
    return None


def _file_on_the_way(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (or itself) if it is not a folder: then mkdir would fail."""
    for ancestor in (folder, *folder.parents):
        if ancestor.exists():
            return None if ancestor.is_dir() else ancestor
    return None


def _rooms(
    value: Any, assembly_raw: dict[str, Any], assembly_values: dict[str, Any], report: _Report
) -> dict[str, dict[str, Any]]:
    """Each room's values: its overrides, checked under rooms.<room id>, over the assembly's."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        report.add("rooms", f"expected a mapping from room ids to settings, got {_describe(value)}")
        return {}
    rooms = {}
    for room_id, overrides in value.items():
        if not isinstance(room_id, str):
            report.add("rooms", f"the room id {_shown(room_id)} must be text: put it in quotes")
            continue
        if not room_id.strip() or len(room_id) > MAX_ID_LENGTH:
            report.add("rooms", f"the room id {_shown(room_id)} must be from 1 to {MAX_ID_LENGTH} characters")
            continue
        prefix = f"rooms.{room_id}"
        overrides = _section(overrides, prefix, report, ASSEMBLY_CONVERTERS)
        if overrides is None:
            continue
        merged = _merge(assembly_raw, overrides)
        own = {key: ASSEMBLY_CONVERTERS[key](merged[key], f"{prefix}.{key}", report) for key in overrides}
        rooms[room_id] = {**assembly_values, **own}
    return rooms


def _known_holidays(assembly_raw: dict[str, Any]) -> dict[str, Any]:
    """The assembly's settings without unknown holidays keys, for rooms to merge over: the assembly
    reports them once, and a room that overrides holidays must not report them as its own."""
    holidays_raw = assembly_raw.get("holidays")
    if not isinstance(holidays_raw, dict):
        return assembly_raw
    return {**assembly_raw, "holidays": {k: v for k, v in holidays_raw.items() if k in HOLIDAY_KEYS}}


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> bool:
    """raw["storage"]["path"] = value for "storage.path"; False if a section on the way is not a mapping."""
    *sections, name = key.split(".")
    node = raw
    for section in sections:
        if node.get(section) is None:
            node[section] = {}
        node = node[section]
        if not isinstance(node, dict):
            return False  # the file's wrong type is reported anyway
    node[name] = value
    return True


def _apply_environment(raw: dict[str, Any], environ: Mapping[str, str], report: _Report) -> set[str]:
    """Puts the environment's values into ``raw`` (they win over the file); returns the keys they set."""
    keys = set()
    for variable in ENVIRONMENT:
        value = environ.get(variable.name, "")
        if variable.secret and value:
            report.secrets.append(value)
        # Unset and empty are alike: compose files often pass empty variables.
        typed: Any = _FLAGS.get(value.strip().lower(), value) if variable.flag else value
        if value and _set_dotted(raw, variable.key, typed):
            keys.add(variable.key)
            report.env_sources[variable.key] = variable.name
    return keys


def _build(raw: Any, config_dir: Path, environ: Mapping[str, str], check_files: bool) -> Config:
    """The Config of a loaded document; ``check_files``: also prove the storage path usable."""
    report = _Report()
    top = _section(raw, "", report, TOP_LEVEL_KEYS)
    if top is None:
        raise ConfigError(report.problems)
    from_env = _apply_environment(top, environ, report)

    platform = _platform(top.get("platform", "console"), "platform", report)
    log_level = _choice(LOG_LEVELS, str.upper)(top.get("log_level", "INFO"), "log_level", report)

    storage = _section(top.get("storage"), "storage", report, STORAGE_KEYS) or {}
    storage_url = _storage_url(storage.get("url"), "storage.url", report)
    if storage_url is not None and "path" in storage:
        source = report.env_sources.get("storage.path")
        report.add("storage.url", f"storage.path is given too{f' (by {source})' if source else ''}: keep one, the "
                                  "SQLite file (path) or the PostgreSQL database (url)")
    # A relative path in the file is relative to the file; one from the environment, to where we run.
    base_dir = Path.cwd() if "storage.path" in from_env else config_dir
    path = storage.get("path", DEFAULT_STORAGE_PATH)
    storage_path = _storage_path(path, "storage.path", report, base_dir)
    if check_files and storage_path is not INVALID and path != IN_MEMORY and storage_url is None:
        problem = check_storage(storage_path)
        if problem is not None:
            report.add("storage.path", problem)

    assembly = _section(top.get("assembly"), "assembly", report, ASSEMBLY_CONVERTERS) or {}
    assembly_raw = _merge(ASSEMBLY_DEFAULTS, assembly)
    assembly_values = {
        key: convert(assembly_raw[key], f"assembly.{key}", report)
        for key, convert in ASSEMBLY_CONVERTERS.items()
    }
    rooms = _rooms(top.get("rooms"), _known_holidays(assembly_raw), assembly_values, report)
    matrix_base = Path.cwd() if "matrix.store_path" in from_env else config_dir
    matrix = _matrix(top.get("matrix"), platform, report, storage_path, matrix_base, check_files,
                     on_server=storage_url is not None)
    mattermost = _mattermost(top.get("mattermost"), platform, report)
    register = _register(top.get("register"), report)

    if report.problems:
        raise ConfigError(report.problems)
    return Config(
        platform=platform,
        storage_path=storage_path,
        assembly=_assembly_settings(assembly_values),
        rooms=MappingProxyType({room_id: _assembly_settings(values) for room_id, values in rooms.items()}),
        log_level=log_level,
        matrix=matrix,
        mattermost=mattermost,
        storage_url=storage_url,
        register=register,
    )


def _required_url(value: Any, key: str, what: str, report: _Report) -> None:
    if not isinstance(value, str) or not _is_web_address(value):
        report.add(key, f"required: {what}")


def _is_web_address(text: str) -> bool:
    try:
        parts = urlparse(text)
    except ValueError:  # "http://[::1" (an unclosed IPv6 address) and the like
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _register(value: Any, report: _Report) -> RegisterSettings:
    """The ``register:`` section, checked whatever the platform: ``consent-bot serve`` runs beside any."""
    section = _section(value, "register", report, REGISTER_KEYS) or {}
    defaults = RegisterSettings()
    values = {
        "enabled": _boolean(section.get("enabled", defaults.enabled), "register.enabled", report),
        "bind": _bind_address(section.get("bind", defaults.bind), "register.bind", report),
        "port": _port(section.get("port", defaults.port), "register.port", report),
        "public_url": _public_url(section.get("public_url", defaults.public_url), "register.public_url", report),
        "licence": _licence(section.get("licence", defaults.licence), "register.licence", report),
        "show_names": _boolean(section.get("show_names", defaults.show_names), "register.show_names", report),
    }
    if INVALID in values.values():
        return defaults  # reported: the configuration is refused anyway
    return RegisterSettings(**values)


@_simple
def _bind_address(value: Any) -> str:
    """An IP address or a host name to listen on (127.0.0.1, ::1, 0.0.0.0, localhost)."""
    expected = "an address to listen on, e.g. 127.0.0.1, 0.0.0.0 or localhost"
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected {expected}, got {_describe(value)}")
    address = value.strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        pass
    if len(address) > MAX_HOST_LENGTH or not _HOST_NAME.fullmatch(address):
        raise ValueError(f"{_shown(value)} is neither an IP address nor a host name: expected {expected}")
    return address


_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.ASCII)


@_simple
def _port(value: Any) -> int:
    """A TCP port; 0 for any free one. Digits in text are a port too: the environment gives text."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 5:
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise ValueError(f"expected a port number from 1 to 65535 (0: any free port), got {_describe(value)}")
    return value


@_simple
def _public_url(value: Any) -> str:
    """The register's public address (http or https), or empty for none; kept without its trailing slash."""
    if value is None or value == "":
        return ""
    expected = "the register's public address, e.g. https://register.example.org, or \"\" for none"
    if not isinstance(value, str):
        raise ValueError(f"expected {expected}, got {_describe(value)}")
    if len(value) > MAX_URL_LENGTH:
        raise ValueError(f"an address has at most {MAX_URL_LENGTH} characters, got {len(value)}")
    address = value.strip()
    if not _is_web_address(address) or not address.isprintable() or " " in address:
        raise ValueError(f"{_shown(value)} is not an http or https address: expected {expected}")
    parts = urlparse(address)
    if parts.query or parts.fragment:
        raise ValueError(f"{_shown(value)}: the register's address cannot have a query (?) or a fragment (#)")
    return address.rstrip("/")


@_simple
def _licence(value: Any) -> str:
    """The licence the register's data is published under: a name, an SPDX id or a URL, on one line."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a licence such as ODbL-1.0 or CC-BY-4.0, got {_describe(value)}")
    licence = value.strip()
    if len(licence) > MAX_LICENCE_LENGTH:
        raise ValueError(f"a licence has at most {MAX_LICENCE_LENGTH} characters, got {len(licence)}")
    if not licence.isprintable():
        raise ValueError("a licence is one line, without control characters")
    return licence


def _matrix(value: Any, platform: Any, report: _Report, storage_path: Any, base_dir: Path,
            check_files: bool, on_server: bool) -> MatrixSettings | None:
    """The ``matrix:`` section; required, and checked, when the platform is matrix."""
    if platform != "matrix":
        return None
    section = _section(value, "matrix", report, MATRIX_KEYS)
    if section is None:
        return None
    problems_before = len(report.problems)
    homeserver = section.get("homeserver")
    _required_url(homeserver, "matrix.homeserver", "the homeserver's URL, e.g. https://matrix.example.org", report)
    user_id = section.get("user_id")
    if not isinstance(user_id, str) or not user_id.startswith("@") or ":" not in user_id:
        report.add("matrix.user_id", "required: the bot's Matrix id, e.g. '@consent:example.org' (in quotes)")
    token, password = section.get("access_token") or "", section.get("password") or ""
    if not isinstance(token, str) or not isinstance(password, str):
        report.add("matrix.access_token", "the access token and the password must be text")
    elif not token and not password:
        report.add("matrix.access_token", "required: an access token (or CONSENT_BOT_MATRIX_ACCESS_TOKEN), "
                                          "or a password the bot logs in with once")
    device_id = section.get("device_id", "CONSENTBOT")
    if not isinstance(device_id, str) or not device_id.strip():
        report.add("matrix.device_id", f"expected a device id such as CONSENTBOT, got {_describe(device_id)}")
    inviters = section.get("allowed_inviters", [])
    if not isinstance(inviters, list) or not inviters or not all(
        isinstance(i, str) and (i.startswith(":") or (i.startswith("@") and ":" in i)) for i in inviters
    ):
        report.add("matrix.allowed_inviters", "required: a list of user ids ('@alice:example.org') or server "
                                              "suffixes (':example.org') whose invitations the bot accepts")
    level = section.get("facilitator_power_level", 50)
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 100:
        report.add("matrix.facilitator_power_level", f"expected a power level from 0 to 100, got {_describe(level)}")
    reactions = _reactions(section.get("reactions"), report, "matrix", MATRIX_DEFAULTS, normalize_emoji, "emoji")
    trust = _choice(TRUST_POLICIES, str.lower)(section.get("trust", MatrixSettings.trust), "matrix.trust", report)
    room_key_wait = _room_key_wait(section.get("room_key_wait", format_duration(DEFAULT_ROOM_KEY_WAIT)),
                                   "matrix.room_key_wait", report)
    store_path = _crypto_store_path(section.get("store_path"), report, storage_path, base_dir, on_server)
    if len(report.problems) > problems_before:
        return None
    if check_files:
        problem = check_crypto_store(store_path, user_id, device_id.strip())
        if problem is not None:
            report.add("matrix.store_path", problem)
            return None
    return MatrixSettings(homeserver.rstrip("/"), user_id, token, password, device_id.strip(), tuple(inviters),
                          level, reactions, store_path, trust, room_key_wait)


@_simple
def _room_key_wait(value: Any) -> Any:
    return parse_duration(_duration_text(value, "a duration such as 10m or 1h"), maximum=MAX_ROOM_KEY_WAIT)


def _crypto_store_path(value: Any, report: _Report, storage_path: Any, base_dir: Path, on_server: bool) -> Any:
    """matrix.store_path as given, or by default a folder beside the SQLite database: consent.db →
    consent-crypto/. With a PostgreSQL database (``on_server``) there is no folder to put it beside."""
    if value is not None:
        return _storage_path(value, "matrix.store_path", report, base_dir)
    if on_server:
        report.add("matrix.store_path", "required with storage.url (the encryption keys must outlive the bot's "
                                        "run: a folder on a disk you keep)")
        return INVALID
    if storage_path is INVALID:
        return INVALID  # reported under storage.path
    if storage_path.name == IN_MEMORY:
        report.add("matrix.store_path", "required when storage.path is :memory: (the encryption keys must outlive "
                                        "the bot's run: a folder on the data volume)")
        return INVALID
    return storage_path.parent / f"{storage_path.stem}-crypto"


CRYPTO_STORE_SUFFIX = ".db"


def crypto_store_file(user_id: str, device_id: str) -> str:
    """The name matrix-nio gives the store of one device (its default store: ``<user>_<device>.db``)."""
    return f"{user_id}_{device_id}{CRYPTO_STORE_SUFFIX}"


def check_crypto_store(path: Path, user_id: str, device_id: str) -> str | None:
    """Why the bot could not keep its end-to-end encryption store in the folder ``path``, or None if it can.

    Like check_storage, it may create the folder (as the bot would) and writes only a temporary file there.
    A folder holding the store of another account or device is refused: the bot's device must stay the same
    for the rooms' members to keep reading it, and one folder serves one device.
    """
    try:
        if path.exists() and not path.is_dir():
            return f"{_path_text(path)} is a file: give a folder for the encryption store"
        problem = _made_folder(path)
        if problem is not None:
            return problem
        with tempfile.TemporaryFile(dir=path):
            pass
        mine = crypto_store_file(user_id, device_id)
        others = sorted(entry.name for entry in path.iterdir()
                        if entry.name.endswith(CRYPTO_STORE_SUFFIX) and entry.name != mine and "_" in entry.name)
    except OSError as error:
        return f"the bot cannot keep its encryption store in {_path_text(path)} ({_reason(error)})"
    if others:
        owner = others[0].removesuffix(CRYPTO_STORE_SUFFIX)
        return (f"{_path_text(path)} holds the encryption store of another device ({_printable(owner[:_SHOWN * 2])}), "
                f"not of {user_id}'s device {device_id}: keep matrix.user_id and matrix.device_id as they were, "
                "or give a new device its own folder")
    return None


def _reactions(value: Any, report: _Report, prefix: str, defaults: Mapping[Position, tuple[str, ...]],
               normalize: Callable[[str], str], expected: str) -> Mapping[Position, tuple[str, ...]]:
    """Which emoji stand for which position; each position keeps its defaults unless the file lists its own."""
    section = _section(value, f"{prefix}.reactions", report, [p.value for p in Position]) or {}
    reactions = dict(defaults)
    for name, keys in section.items():
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k.strip() for k in keys):
            report.add(f"{prefix}.reactions.{name}", f"expected a list of {expected}, got {_describe(keys)}")
            continue
        reactions[Position(name)] = tuple(normalize(k) for k in keys)
    seen: dict[str, Position] = {}
    for position, keys in reactions.items():
        for key in keys:
            if seen.setdefault(key, position) is not position:
                report.add(f"{prefix}.reactions.{position.value}", f"{key} already stands for {seen[key].value}")
    return MappingProxyType(reactions)


_EMOJI_NAME = re.compile(r"^[a-zA-Z0-9\-+_]{1,64}$")


def _mattermost(value: Any, platform: Any, report: _Report) -> MattermostSettings | None:
    """The ``mattermost:`` section; required, and checked, when the platform is mattermost."""
    if platform != "mattermost":
        return None
    section = _section(value, "mattermost", report, MATTERMOST_KEYS)
    if section is None:
        return None
    problems_before = len(report.problems)
    url = section.get("url")
    _required_url(url, "mattermost.url", "the Mattermost server's URL, e.g. https://chat.example.org", report)
    token = section.get("token") or ""
    if not isinstance(token, str):
        report.add("mattermost.token", "the token must be text")
    elif not token.strip():
        report.add("mattermost.token", "required: the bot account's access token (or CONSENT_BOT_MATTERMOST_TOKEN)")
    teams = section.get("teams") or []
    if not isinstance(teams, list) or not all(isinstance(t, str) and t.strip() for t in teams):
        report.add("mattermost.teams", f"expected a list of team names (as in the team's URL), got {_describe(teams)}")
    elif any(len(t.strip()) > MAX_TEAM_LENGTH for t in teams):
        report.add("mattermost.teams", f"a team name has at most {MAX_TEAM_LENGTH} characters")
    reactions = _reactions(section.get("reactions"), report, "mattermost", MATTERMOST_DEFAULTS,
                           normalize_emoji_name, "emoji names such as +1 or raised_hand")
    for position, names in reactions.items():
        for name in names:
            if not _EMOJI_NAME.match(name):
                report.add(f"mattermost.reactions.{position.value}", f"{_shown(name)} is not an emoji name: "
                                                                     "write names such as +1 or raised_hand, without colons")
    if len(report.problems) > problems_before:
        return None
    return MattermostSettings(url.rstrip("/"), token.strip(), tuple(t.strip() for t in teams), reactions)


# --- Reading the file ---------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping, where YAML silently keeps the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<" merges and complex keys are left to PyYAML
            key = self.construct_object(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {_shown(key)} appears twice in the same section", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _file_error(path: Path, problem: str) -> ConfigError:
    return ConfigError([_printable(f"{path}{problem}")])


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_SIZE + 1)  # no more: --config /dev/zero must not fill the memory
    except FileNotFoundError:
        raise _file_error(path, ": no such configuration file") from None
    except OSError as error:
        raise _file_error(path, f": cannot be read ({error.strerror or type(error).__name__})") from None
    except ValueError:  # a NUL byte in the path
        raise _file_error(path, ": cannot be read (a file path cannot contain a NUL byte)") from None
    if len(data) > MAX_FILE_SIZE:
        raise _file_error(path, f": larger than {MAX_FILE_SIZE // 1_000_000} MB, not a configuration file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _file_error(path, ": not a UTF-8 text file") from None


def _read_yaml(path: Path) -> Any:
    text = _read_text(path)
    # No message quotes the document: the offending line might hold a secret.
    try:
        document = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        # Only the problem and its place.
        mark = error.problem_mark
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "position unknown"
        problem = error.problem or error.context or "syntax error"
        raise _file_error(path, f", {place}: invalid YAML: {problem}") from None
    except yaml.YAMLError:
        raise _file_error(path, ": invalid YAML") from None
    except RecursionError:  # "[[[[..." thousands deep: PyYAML composes nodes recursively
        raise _file_error(path, ": invalid YAML: nested too deeply") from None
    except (ValueError, OverflowError):
        # PyYAML converts scalars with int(), datetime()...: an integer of thousands of digits, a 30 February.
        raise _file_error(path, ": invalid YAML: a value cannot be converted (a number with thousands of "
                                "digits, an impossible date?)") from None
    except Exception as error:  # any other failure of PyYAML is still the file's fault, and must read as such
        raise _file_error(path, f": invalid YAML ({type(error).__name__})") from None
    problem = _shape_problem(document)
    if problem is not None:
        raise _file_error(path, f": invalid configuration: {problem}")
    return document


def _shape_problem(document: Any) -> str | None:
    """What makes the document unusable as a tree of settings, whatever its keys say, or None.

    YAML aliases may make a mapping that contains itself (``&a {x: *a}``), on which merging sections
    would never end; and no setting is nested deeper than a few levels. Shared but finite parts
    ("billion laughs") are fine: each container is walked once.
    """
    done: set[int] = set()
    stack: list[tuple[Any, int, bool]] = [(document, 1, False)]
    on_path: set[int] = set()
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            done.add(id(node))
            continue
        if not isinstance(node, dict | list):
            continue
        if id(node) in on_path:
            return "a YAML alias refers to a section that contains it"
        if id(node) in done:
            continue
        if depth > MAX_DEPTH:
            return f"nested more than {MAX_DEPTH} levels deep"
        on_path.add(id(node))
        stack.append((node, depth, True))
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        stack.extend((child, depth + 1, False) for child in children)
    return None


def load_config(path: Path | None, environ: Mapping[str, str] = os.environ) -> Config:
    """The configuration in ``path`` (None: the defaults), with the environment's overrides.

    Raises ConfigError listing every problem found, and nothing else, whatever the file holds.
    With a file, storage.path is proved usable (see check_storage); without one, the console runs
    on a database in memory, and default_config() touches no disk.
    """
    if path is None:
        return _build_guarded({}, Path.cwd(), environ, check_files=False, where="the defaults")
    path = Path(path)
    raw = _read_yaml(path)
    # absolute(), not resolve(): a symlinked config file (as Kubernetes mounts them) keeps its directory.
    return _build_guarded({} if raw is None else raw, path.absolute().parent, environ, check_files=True,
                          where=str(path))


def _build_guarded(raw: Any, config_dir: Path, environ: Mapping[str, str], check_files: bool, where: str) -> Config:
    """_build, with a last resort: a value no check foresaw is still a ConfigError, never a traceback.

    Each check above is meant to catch its own problems; this line is there so that check-config and
    the bot's start fail cleanly even so. The message names the error's type only: no file content.
    """
    try:
        return _build(raw, config_dir, environ, check_files)
    except ConfigError:
        raise
    except Exception as error:
        raise ConfigError([_printable(f"{where}: this configuration could not be checked "
                                      f"({type(error).__name__}); please report it as a bug")]) from error


def default_config() -> Config:
    """Every setting at its default, ignoring the environment."""
    return load_config(None, environ={})
