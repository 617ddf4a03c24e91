"""The configuration's domain types, annotated types shared by every section and room override. Each refuses a value
in the operator's words: what was seen, what was expected."""

import difflib
import ipaddress
import re
from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from holidays.registry import EntityLoader
from pydantic import (AfterValidator, BeforeValidator, Field, HttpUrl, PlainValidator, SecretStr, Strict,
                      StringConstraints, TypeAdapter, ValidationError, ValidationInfo, WithJsonSchema, WrapValidator)

from bot.durations import parse_calendar_duration, parse_duration
from bot.reactions import normalize_emoji, normalize_emoji_name
from storage.database import IN_MEMORY
from storage.url import EXAMPLE as URL_EXAMPLE, is_postgres_url, url_problem

MAX_ID_LENGTH = 255  # a member id, a room id: Matrix ids are at most 255 bytes
SHOWN = 40  # how much of a long value a message quotes
DURATION = {"type": "string", "pattern": r"^\s*(\d+\s*(mo|[smhdjwSMHDJW])\s*)+$"}


def shown(value: Any) -> str:
    """A value as a message quotes it: a scalar cut short; a container by its kind (YAML aliases make huge ones)."""
    if isinstance(value, list | dict):
        return described(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** SHOWN:
        return f"a number of more than {SHOWN} digits"  # not str(): it refuses more than 4300 digits
    if isinstance(value, str) and len(value) > SHOWN:
        return repr(value[:SHOWN]) + "…"
    return repr(value) if len(repr(value)) <= SHOWN + 2 else repr(value)[:SHOWN] + "…"


def described(value: Any) -> str:
    """A YAML value as its author wrote it, for "expected X, got Y"."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "nothing (null)"}[value]
    if isinstance(value, int | float):
        return f"the number {shown(value)}" if abs(value) < 10 ** SHOWN else shown(value)
    if isinstance(value, str):
        return f"the text {shown(value)}"
    return {dict: "a mapping", list: "a list"}.get(type(value), f"a {type(value).__name__}")  # YAML reads dates


def printable(text: str) -> str:
    """``text`` with its control characters escaped as repr() shows them: one problem, one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def did_you_mean(word: object, candidates: Any) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1) if isinstance(word, str) and len(word) < 50 else []
    return f" (did you mean {close[0]!r}?)" if close else ""


def refuse(message: str) -> Any:
    """Raises: a check written as one expression (``value if ok else refuse(...)``) refuses in these words."""
    raise ValueError(message)


class Problem(ValueError):
    """A check of a whole section that names one of its keys (or a dotted key from the top) rather than the section."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def unexpected(value: Any, expected: str, number: str = "") -> ValueError:
    """"Expected X, got Y", with ``number`` added when a number was given."""
    hint = number if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return ValueError(f"expected {expected}, got {described(value)}{hint}")


def explained(expected: str) -> WrapValidator:
    """pydantic's own checks, refused in the operator's words."""
    def wrap(value: Any, check: Callable[[Any], Any]) -> Any:
        try:
            return check(value)
        except ValidationError:
            raise unexpected(value, expected) from None

    return WrapValidator(wrap)


def domain(python_type: Any, parse: Callable[[str], Any], expected: str, schema: dict[str, Any] | None = None,
           number: str = "") -> Any:
    """A value read from text by ``parse``, which refuses it in the operator's words; editors see ``schema``."""
    def read(value: Any) -> Any:
        if not isinstance(value, str):
            raise unexpected(value, expected, number)
        return parse(value)

    return Annotated[python_type, PlainValidator(read), WithJsonSchema({"type": "string", **(schema or {})})]


def text(expected: str, least: int, most: int, fold: bool = False, pattern: str = r"^[^\x00-\x1f\x7f]*$") -> Any:
    """One line of text without control characters (or as ``pattern`` says), stripped (or with its blanks folded,
    for a heading)."""
    tidy = BeforeValidator(lambda value: (" ".join(value.split()) if fold else value.strip())
                           if isinstance(value, str) else value)
    constraints = StringConstraints(min_length=least, max_length=most, pattern=pattern)
    return Annotated[str, tidy, Strict(), constraints, explained(expected)]


def identifier(what: str, example: str) -> Any:
    """An official's, a topic's or a webhook's id, fit for addresses and commands."""
    return text(f"{what} of at most 40 lowercase letters, digits and hyphens, e.g. {example}", 1, 40,
                pattern=r"^[a-z0-9][a-z0-9-]*$")


def whole(least: int, most: int, expected: str) -> Any:
    return Annotated[int, Strict(), Field(ge=least, le=most), explained(expected)]


def one_of(*options: str, normalize: Callable[[str], str] = str.lower) -> Any:
    listing = ", ".join(options)
    return domain(str, lambda value: normalize(value) if normalize(value) in options else refuse(
        f"{shown(value)} is not one of {listing}{did_you_mean(value, options)}"), f"one of {listing}",
                  {"enum": [*options, *(option.swapcase() for option in options)]})


def listed(item: Any, what: str, most: int, container: Any = tuple, counted: str = "", least: int = 0) -> Any:
    """A list of ``item``, from ``least`` to ``most`` long (``counted`` names them in that message)."""
    def check(value: Any) -> Any:
        if not isinstance(value, list) or len(value) < least:
            raise ValueError(f"expected a list of {what}, got {described(value)}")
        if len(value) > most:
            raise ValueError(f"at most {most} {counted or what}, got {len(value)}")
        return value

    items = container[item] if container is frozenset else container[item, ...]
    return Annotated[items, BeforeValidator(check), Field(json_schema_extra={"maxItems": most, "minItems": least})]


Flag = Annotated[bool, Strict(), explained("true or false")]
Day = Annotated[date, explained("a date such as 2026-03-22")]
VariableName = text("the name of an environment variable, e.g. CONSENT_BOT_WIKI_SECRET", 1, 100,
                    pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
Secret = Annotated[SecretStr, WithJsonSchema({"type": "string", "writeOnly": True}), PlainValidator(
    lambda value: SecretStr(value.strip()) if isinstance(value, str) else refuse(  # not "got the number 1234"
        "expected text (in quotes if it looks like a number); a secret's value is never shown"))]


def duration(maximum: timedelta, positive: bool = False) -> Any:
    def parse(value: str) -> timedelta:
        length = parse_duration(value, maximum=maximum)
        if positive and not length:
            raise ValueError(f"{shown(value)} must be longer than zero")
        return length

    return domain(timedelta, parse, "a duration such as 72h or 7d", DURATION, " (a unit is missing)")


def calendar_duration(maximum: Any, never: bool = False) -> Any:
    """A duration that may count months (3mo); with ``never``, false or 0d is None: never."""
    if not never:
        return domain(Any, lambda value: parse_calendar_duration(value, maximum=maximum),
                      "a duration such as 3mo or 90d", DURATION, " (a unit is missing)")
    read = domain(Any, lambda value: parse_calendar_duration(value, maximum=maximum) or None,
                  "a duration such as 30d or 1mo, or false", DURATION, " (a unit is missing)")
    return Annotated[read, WrapValidator(lambda value, then: None if value is False else then(value)),
                     WithJsonSchema({"anyOf": [DURATION, {"const": False}]})]


# A share as Fraction reads it, with at most 3 digits of exponent: Fraction("1e999999999") would compute
# 10**999999999 for minutes. Floats, written back by str(), never have more (1e-05, 1e+300).
_SHARE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d{1,3})?|[-+]?\d+/0*[1-9]\d*", re.IGNORECASE | re.ASCII)


def share(least: Fraction, most: Fraction, expected: str, bounds: str) -> Any:
    """A share written 2/3, 0.67 or 67% (0.67 is 67/100, not a rounded 2/3), from ``least`` (excluded if 1/2)."""
    def parse(value: Any) -> Fraction:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise unexpected(value, expected)
        written = str(value).strip() if not isinstance(value, int) or abs(value) < 10 ** 30 else "a huge number"
        number = written.removesuffix("%").strip()
        if len(number) > 30 or not _SHARE.fullmatch(number):  # also .inf, .nan, 1.0e+400 and 2/0
            raise ValueError(f"{shown(value)} is not a number: expected {expected}")
        fraction = Fraction(number) / (100 if written.endswith("%") else 1)
        half = fraction == least == Fraction(1, 2)
        if not least <= fraction <= most or half:
            raise ValueError(f"must be {bounds} (got {shown(value)}{', and exactly 1/2 is not a majority' * half})")
        return fraction

    schema = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^[\d\s./e+%-]+$"}]}
    return Annotated[Fraction, PlainValidator(parse), WithJsonSchema(schema)]


def _time_zone(name: str) -> ZoneInfo:
    try:  # ZoneInfo reads a file named after the key: what no zone is called is refused before it tries
        if len(name) <= 100 and "\0" not in name:
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # a path ("../x"), a folder ("Europe"), a file no zone
        pass
    raise ValueError(f"{shown(name)} is not a known time zone" + did_you_mean(name, available_timezones()))


TimeZone = domain(ZoneInfo, _time_zone, "a time zone name such as Europe/Paris", {"examples": ["Europe/Paris"]})
Country = domain(str, lambda code: code.upper() if code.upper() in EntityLoader.get_country_codes() else refuse(
    f"{shown(code)} is not a country code known to the holidays package, e.g. FR"), "a country code such as FR")
Subdivision = Annotated[Annotated[str, Strict()] | None, WithJsonSchema({"type": ["string", "integer", "null"]}),
                        BeforeValidator(lambda value: str(value) if type(value) is int else value),  # 57: Moselle
                        explained("a subdivision's code or name such as \"57\" or Moselle")]

_SERVER = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?"
MATRIX_ID = re.compile(rf"@[\x21-\x39\x3b-\x7e]+:{_SERVER}", re.ASCII)
MATRIX_HOW = "a Matrix id starts with @ and has a server part, e.g. '@alice:example.org' (in quotes)"
_IDS = {  # per platform, a member's id and a room's: their pattern, and how to write one
    # A room id has a server part, except from room version 12 on: then it is the create event's hash (43 characters).
    "matrix": ((MATRIX_ID, MATRIX_HOW), (re.compile(rf"!(?:[\x21-\x39\x3b-\x7e]+:{_SERVER}|[A-Za-z0-9_-]{{43}})",
                                                    re.ASCII),
                                         "a Matrix room id starts with ! and has a server part (or, from room version "
                                         "12, is ! and 43 letters, digits, - and _), in quotes")),
    "mattermost": ((re.compile("[a-z0-9]{26}"), "a Mattermost user id is 26 letters and digits (System Console > "
                                                "Users), not a @username"),
                   (re.compile("[a-z0-9]{26}"), "a Mattermost channel id is 26 letters and digits (View Info)")),
}


def id_problem(value: str, kind: int, platform: str | None) -> str | None:
    """Why ``value`` is no member id (kind 0) or room id (kind 1) of ``platform``; None when it may be one."""
    pattern, how = _IDS.get(platform, ((None, ""),) * 2)[kind]
    if pattern is not None and not pattern.fullmatch(value):
        return f"{shown(value)} can match no one: {how}"
    return None


_OTHER_PLATFORM = {"matrix": "mattermost", "mattermost": "matrix"}


def platform_id(kind: int, what: str, example: str, either_platform: bool = False) -> Any:
    """A member's id (kind 0) or a room's (kind 1), as the platform configured writes them (or, with
    ``either_platform``, as the other chat platform does: a room of a network served by that platform's process)."""
    def parse(value: str, info: ValidationInfo) -> str:
        if len(value) > MAX_ID_LENGTH:
            raise ValueError(f"{what} has at most {MAX_ID_LENGTH} characters, got {len(value)}")
        platform = (info.context or {}).get("platform")
        problem = id_problem(value, kind, platform)
        other = _OTHER_PLATFORM.get(platform) if either_platform else None
        if problem is not None and (other is None or id_problem(value, kind, other) is not None):
            raise ValueError(problem)
        return value

    return Annotated[str, BeforeValidator(lambda value: value.strip() if isinstance(value, str) else value), Strict(),
                     StringConstraints(min_length=1), explained(f"{what} such as {example}"), AfterValidator(parse),
                     WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH})]


MatrixId = domain(str, lambda value: value if len(value) <= MAX_ID_LENGTH and MATRIX_ID.fullmatch(value) else refuse(
    f"{shown(value)} is not a Matrix id: {MATRIX_HOW}"), "a Matrix id such as '@consent:example.org'",
                  {"pattern": f"^{MATRIX_ID.pattern}$", "maxLength": MAX_ID_LENGTH})
Inviter = domain(str, lambda value: value if len(value) <= MAX_ID_LENGTH and re.fullmatch(
    f"{MATRIX_ID.pattern}|:{_SERVER}", value, re.ASCII) else refuse(f"{shown(value)} is not a Matrix id: {MATRIX_HOW}, "
                                                                     "or a server suffix such as ':example.org'"),
                 "a Matrix id or a server suffix such as ':example.org'",
                 {"pattern": f"^(@[^:]+)?:{_SERVER}$", "maxLength": MAX_ID_LENGTH})
_URL = TypeAdapter(HttpUrl)


def _web_address(value: str, query: bool = True) -> str:
    """An http(s) URL, kept without its trailing slash (with ``query`` false, and without a query or fragment)."""
    if len(value) > 2000:  # what browsers and servers all take
        raise ValueError(f"an address has at most 2000 characters, got {len(value)}")
    try:
        address = str(_URL.validate_python(value.strip())).rstrip("/")
    except ValidationError as error:
        found = error.errors()[0]
        if "without a base" in str(found.get("ctx", {}).get("error")):
            raise ValueError(f"{shown(value)} is not a URL: a URL needs http:// or https://, e.g. https://{value}")
        why = "it needs http:// or https://" if found["type"] == "url_scheme" else found["ctx"]["error"]
        raise ValueError(f"{shown(value)} is not a valid address: {why}") from None
    if not query and (urlsplit(address).query or urlsplit(address).fragment):
        raise ValueError(f"{shown(value)}: the register's address cannot have a query (?) or a fragment (#)")
    return address


WebAddress = domain(str, _web_address, "an http:// or https:// address", {"format": "uri", "pattern": "^https?://"})
PublicUrl = domain(str, lambda value: value and _web_address(value, query=False), "an http:// or https:// address",
                   {"pattern": "^(https?://.*)?$"})
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"


def _listen_address(value: str) -> str:
    """An IP address or a host name to listen on (127.0.0.1, ::1, 0.0.0.0, localhost)."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        if re.fullmatch(rf"{_LABEL}(?:\.{_LABEL})*", value, re.ASCII):
            return value
    raise ValueError(f"{shown(value)} is neither an IP address nor a host name: expected an address to listen on, "
                     "e.g. 127.0.0.1, 0.0.0.0 or localhost")


def _file_path(value: str) -> Path:
    """A path as written (the sections anchor relative ones); ~ stands for a home directory."""
    if not value.strip():
        raise unexpected(value, "a file path such as storage/consent.db")
    if "\0" in value:  # no file name holds one: every system call would refuse it
        raise ValueError("a file path cannot contain a NUL byte (\\0)")
    if is_postgres_url(value):  # not quoted: it may hold a password
        raise ValueError("a PostgreSQL URL is no file path: give it as storage.url")
    try:
        return Path(value) if value == IN_MEMORY else Path(value).expanduser()
    except RuntimeError:  # "~nobody/consent.db": no such user, or no home directory
        raise ValueError(f"{shown(value)}: there is no such home directory for ~ to stand for") from None


ListenAddress = Annotated[text("an address to listen on, e.g. 127.0.0.1, 0.0.0.0 or localhost", 1, 253),
                          AfterValidator(_listen_address)]
FilePath = domain(Path, _file_path, "a file path such as storage/consent.db", {"minLength": 1})
DatabaseUrl = domain(str, lambda url: refuse(url_problem(url)) if url_problem(url) else url,  # its password unshown
                     f"a PostgreSQL URL such as {URL_EXAMPLE}", {"pattern": "^postgres(ql)?://"})


Emoji = Annotated[text("an emoji such as 👍", 1, 30), AfterValidator(normalize_emoji)]
EmojiName = domain(str, lambda value: normalize_emoji_name(value) if re.fullmatch(
    r"[a-z0-9\-+_]{1,64}", normalize_emoji_name(value), re.ASCII) else refuse(
    f"{shown(value)} is not an emoji name: write names such as +1 or raised_hand, without colons"),
                   "an emoji name such as +1", {"pattern": "^:?[a-zA-Z0-9_+-]+:?$"})


def _email_address(value: str, named: bool = False) -> str:
    """An email address (with a display name, "Assemblée <bot@example.org>", when ``named``), checked by
    email-validator (imported only when an address is configured: it costs the start otherwise)."""
    from email.utils import formataddr, parseaddr

    from email_validator import EmailNotValidError, validate_email

    display, address = parseaddr(value.strip()) if named else ("", value.strip())
    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"{shown(value)} is not an email address: {error}") from None
    return formataddr((display, address)) if display else address


EMAIL = "an email address such as assembly@lists.example.org"
EmailAddress = domain(str, _email_address, EMAIL, {"format": "email"})
Sender = domain(str, lambda value: _email_address(value, named=True), EMAIL)
