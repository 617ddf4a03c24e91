"""The configuration's sections, immutable pydantic models: what the rest of the bot receives. Each key's default (as
written in the file) and meaning are said here once; the JSON Schema, the README's table and config.example.yaml are
checked against them."""

import ast
import functools
import inspect
import itertools
import sys
import warnings
from collections.abc import Mapping
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

import holidays
from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, create_model,
                      field_validator, model_validator)

from bot.config.networks import NetworkRoom, network_list, network_settings
from bot.config.values import (IN_MEMORY, Country, DatabaseUrl, Day, EmailAddress, Emoji, EmojiName, FilePath, Flag,
                               Inviter, ListenAddress, MatrixId, Problem, PublicUrl, Secret, Sender, Subdivision,
                               TimeZone, VariableName, WebAddress, calendar_duration, duration, identifier, listed,
                               one_of, platform_id, share, shown, text, whole)
from bot.durations import MAX_BETWEEN_ROUNDS, MAX_LOCK, MAX_ROUND
from bot.engine.calendar import WorkingCalendar
from bot.engine.model import Position, SocialCode
from bot.engine.pact import PACT_POINTS
from bot.reactions import MATRIX_DEFAULTS, MATTERMOST_DEFAULTS
from storage.disk import check_crypto_store, check_storage

PLATFORMS = ("console", "matrix", "mattermost")
MAX_MEMBERS = 1000  # facilitators, or members in charge of follow-up
ANNOUNCED = ("proposal", "round", "outcome", "fact", "statement")
"""What is announced beyond the room: a new proposal, a new round, an outcome, a fact, an official's statement."""


@functools.cache
def _docstrings(module: str) -> dict[str, dict[str, str]]:
    """The docstrings of each class's attributes in ``module``, by class and attribute (none without the source)."""
    try:
        tree = ast.parse(inspect.getsource(sys.modules[module]))
    except (OSError, TypeError):  # installed without its source: the keys go undescribed
        return {}
    classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]  # also one a function makes
    return {node.name: {key.target.id: inspect.cleandoc(doc.value.value) for key, doc in itertools.pairwise(node.body)
                        if isinstance(key, ast.AnnAssign) and isinstance(doc, ast.Expr)
                        and isinstance(doc.value, ast.Constant)} for node in classes}


class Section(BaseModel):
    """A mapping of settings: an unknown key is an error (typos show), null is empty, a default is written as in the
    file and read like it, and nothing changes once read."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, defer_build=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Each key's docstring made its description (the JSON Schema's, "required: …"), before the model is built
        (defer_build), from one parse a module: pydantic's use_attribute_docstrings parses it once a class (45 ms of
        each start)."""
        for key, description in _docstrings(cls.__module__).get(cls.__name__, {}).items():
            cls.model_fields[key].description = description

    @model_validator(mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copied = super().model_copy(update=update, deep=deep)
        for derived in set(copied.__dict__) - set(type(self).model_fields):  # a cached_property of the old values
            del copied.__dict__[derived]
        return copied


def anchored(path: Path, key: str, context: Mapping[str, Any]) -> Path:
    """A relative path is taken from the configuration file's folder, or from the current one if the environment
    gave it."""
    if path.name == IN_MEMORY:
        return path
    return (Path.cwd() if key in context.get("sources", {}) else context.get("folder", Path.cwd())) / path


def distinct(what: str, *keys: tuple[str, str]) -> AfterValidator:
    """No two items share the value of a key, or one of a list's values (``keys``: the key, and how to say it)."""
    def check(items: tuple[Any, ...]) -> tuple[Any, ...]:
        for key, word in keys:
            values = [getattr(item, key) for item in items]
            values = [one for value in values for one in value] if values and isinstance(values[0], tuple) else values
            twice = next((value for index, value in enumerate(values) if value in values[:index]), None)
            if twice is not None:
                raise ValueError(f"two {what} have the {word} {shown(twice)}")
        return items

    return AfterValidator(check)


def _from_environment(secret: SecretStr, variable: str | None, info: ValidationInfo) -> SecretStr:
    """A secret written in the file, or read from the environment variable named beside it."""
    return SecretStr(((info.context or {}).get("environ") or {}).get(variable, "").strip()) if variable else secret


class HolidaysSettings(Section):
    country: Country = "FR"
    """A country code known to the Python `holidays` package: FR, BE, CH, DE..."""
    subdivision: Subdivision = None
    """One of the country's regions, by code or name ("57", Moselle), or null for the national holidays only."""

    @field_validator("subdivision")
    @classmethod
    def _of_the_country(cls, subdivision: str | None, info: ValidationInfo) -> str | None:
        if subdivision is None or "country" not in info.data:
            return subdivision
        entity = holidays.country_holidays(info.data["country"])  # aliases ("Moselle") in any case; the code is kept
        spellings = {code: code for code in entity.subdivisions} | dict(getattr(entity, "subdivisions_aliases", {}))
        code = {spelling.casefold(): code for spelling, code in spellings.items()}.get(subdivision.casefold())
        if code is None:
            raise ValueError(f"{shown(subdivision)} is not a subdivision of {info.data['country']} "
                             f"(known: {', '.join(entity.subdivisions) or 'none'})")
        return code


RoundDuration = duration(MAX_ROUND, positive=True)
MemberId = platform_id(0, "a member id", "'@alice:example.org'")


class OfficialSettings(Section):
    id: identifier("an id", "martine-dupont")
    """A stable id, as commands name the official (!fact #3 martine-dupont …) and the register's addresses."""
    name: text("a name of at most 200 characters, on one line", 1, 200, fold=True)
    """The official's name, as the room and the register show it."""
    role: text("a role of at most 200 characters, on one line", 0, 200, fold=True) = ""
    """Their role or mandate, e.g. "adjointe au numérique"."""
    mandate_start: Day
    """The first day of the mandate."""
    mandate_end: Day | None = None
    """The last day of the mandate; null: not set."""
    pact: Mapping[one_of(*PACT_POINTS), Day] = {}
    """The points of the pact they signed, each with the day: refer, respect, record, no_self_assessment."""
    accounts: listed(MemberId, "member ids", 10) = []
    """Their chat accounts, if any: from these they refer questions and make statements, and are mentioned."""

    @field_validator("mandate_end")
    @classmethod
    def _after_the_start(cls, end: Any, info: ValidationInfo) -> Any:
        if end is not None and end < info.data.get("mandate_start", end):
            raise ValueError(f"the mandate ends ({end}) before it starts ({info.data['mandate_start']})")
        return end


class TopicSettings(Section):
    id: identifier("an id", "transport")
    """A stable id, as commands name the topic (!propose topic transport …) and the register's addresses."""
    names: Mapping[one_of("fr", "en"), text("a name of at most 100 characters, on one line", 1, 100, fold=True)] = {}
    """Its name in each language, e.g. {fr: Mobilités, en: Transport}; a language without one shows the id."""

    def name(self, language: str) -> str:
        return self.names.get(language, self.id)


class MailSettings(Section):
    lists: listed(EmailAddress, "email addresses", 20) = []
    """The list addresses each announcement is mailed to; empty: no email."""
    sender: Sender | None = None
    """Who the mails come from, e.g. "Assemblée des communs <consent-bot@example.org>" (required with lists)."""
    host: text("a host name such as smtp.example.org", 0, 253) = ""
    """The SMTP server (required with lists)."""
    port: whole(1, 65535, "a port number from 1 to 65535") = 587
    """Its port: 587 with starttls, 465 with tls, 25 with none."""
    security: one_of("starttls", "tls", "none") = "starttls"
    """starttls, tls (the connection is TLS from the start) or none (a server on this machine only)."""
    user: text("a user name of at most 200 characters", 0, 200) = ""
    """The SMTP account, if the server asks for one."""
    password: Secret = ""
    """Its password: better in CONSENT_BOT_EMAIL_PASSWORD (the assembly's), or in the variable password_from names."""
    password_from: VariableName | None = None
    """The environment variable holding the password (a room's own server)."""
    chat_address: PublicUrl = ""
    """Where members answer, said in each mail; on Matrix a matrix.to link to the room unless given."""
    per_minute: whole(1, 600, "a number of mails from 1 to 600") = 30
    """At most this many mails a minute: the list server is not flooded."""
    give_up_after: duration(timedelta(days=30), positive=True) = "2d"
    """A mail the server still refuses this long after it was queued is given up (logged); at most 30d."""

    @field_validator("sender", "host")
    @classmethod
    def _required_with_lists(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("lists") and not value:
            what = "the SMTP server" if info.field_name == "host" else "who the mails come from"
            raise ValueError(f"required with lists: {what}")
        return value

    @model_validator(mode="after")
    def _password(self, info: ValidationInfo) -> Self:
        return self.model_copy(update={"password": _from_environment(self.password, self.password_from, info)})


class WebhookSettings(Section):
    name: identifier("a name", "wiki")
    """A name for the logs and the delivery ids."""
    url: WebAddress
    """Where to POST: https (http only to this machine)."""
    secret: Secret = ""
    """The key of the HMAC-SHA256 signature, or:"""
    secret_from: VariableName | None = None
    """the environment variable holding it."""
    events: listed(one_of(*ANNOUNCED), "events: proposal, round, outcome, fact, statement", 5) = list(ANNOUNCED)
    """The announcements it wants."""

    @field_validator("url")
    @classmethod
    def _over_https(cls, url: str) -> str:
        if urlsplit(url).scheme != "https" and urlsplit(url).hostname not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"{shown(url)}: a webhook is called over https (http only to this machine)")
        return url

    @model_validator(mode="after")
    def _signed(self, info: ValidationInfo) -> Self:
        if not self.secret and not self.secret_from:
            raise Problem("secret", "required: the key the calls are signed with (or secret_from)")
        return self.model_copy(update={"secret": _from_environment(self.secret, self.secret_from, info)})


class AssemblySettings(Section):
    language: one_of("fr", "en") = "fr"
    """The language of everything the bot says: fr (French) or en (English)."""
    timezone: TimeZone = "Europe/Paris"
    """The time zone of deadlines and of the dates the bot shows (an IANA name)."""
    holidays: HolidaysSettings = {}
    """Public holidays, which are not working days."""
    working_days_only: Flag = True
    """true: a round's minimum duration counts only working days; false: every day counts."""
    minimum_duration: RoundDuration = "72h"
    """The shortest a round lasts, in working time: more than zero, at most 60d."""
    reminders: Annotated[listed(RoundDuration, "durations such as [24h, 1h]", 10, counted="reminders"),
                         AfterValidator(lambda offsets: tuple(sorted(set(offsets), reverse=True)))] = ["24h", "1h"]
    """When to remind members who have not answered, as times before the deadline: at most 10, earliest first."""
    days_between_rounds: duration(MAX_BETWEEN_ROUNDS) = "7d"
    """The least time from a postponed round's opening to the next round's: at most 365d."""
    blocked_rounds_before_majority: whole(1, 100, "a whole number of at least 1, at most 100") = 2
    """After this many postponed rounds, the next round may be decided by majority."""
    majority: share(Fraction(1, 2), Fraction(1), "a fraction such as 2/3, 0.67 or 67%",
                    "a fraction between 1/2 and 1, e.g. 2/3") = "2/3"
    """The majority of a majority round (agree against agree, disagree and block): more than 1/2, at most 1."""
    majority_lock: calendar_duration(MAX_LOCK) = "3mo"
    """No challenge or new vote after a majority decision for this long: months allowed, at most 60mo."""
    quorum: share(Fraction(0), Fraction(1), "a share such as 1/2, 0.5 or 50%",
                  "a share between 0 and 1, e.g. 1/2 or 50%; 0 means no quorum") = 0
    """The share of members who must answer for a round to decide, from 0 (no quorum) to 1."""
    facilitators: listed(MemberId, "member ids", MAX_MEMBERS, frozenset, "facilitators") = []
    """Members who may extend rounds, open the next round and withdraw proposals, by their platform id."""
    officials: Annotated[listed(OfficialSettings, "officials", 100),
                         distinct("officials", ("id", "id"), ("accounts", "account"))] = []
    """The elected officials bound by the pact to apply the assembly's decisions (README, "The pact")."""
    followup: listed(MemberId, "member ids", MAX_MEMBERS, frozenset) = Field([], json_schema_extra={"deprecated": True})
    """No longer used: the officials above replace the members who gave follow-ups (check-config says so)."""
    followup_reminder: calendar_duration(MAX_LOCK, never=True) = "30d"
    """An adopted decision with no fact recorded on its application this long after is brought up once; false: never."""
    delegation: Flag = False
    """Whether members may entrust their vote to another member (!delegate, liquid democracy)."""
    name: text("a name of at most 200 characters, on one line", 0, 200, fold=True) = ""
    """What the public register calls the assembly (or the room); empty: the room's id."""
    topics: Annotated[listed(TopicSettings, "topics", 100), distinct("topics", ("id", "id"))] = []
    """The subjects proposals may be on (each an id and its names): !list, the register and delegations go by them."""
    email: MailSettings = {}
    """Announcements mailed to the assembly's list."""
    webhooks: Annotated[listed(WebhookSettings, "webhooks", 20), distinct("webhooks", ("name", "name"))] = []
    """Announcements POSTed, signed, to other sites (a wiki, a website, a social-media bridge)."""

    def topic(self, named: str) -> TopicSettings | None:
        """The topic with this id, or this name in any language (case ignored)."""
        wanted = named.strip().casefold()
        return next((t for t in self.topics if wanted in (t.id, *(n.casefold() for n in t.names.values()))), None)

    def official(self, named: str) -> OfficialSettings | None:
        """The official with this id, or this chat account."""
        return next((o for o in self.officials if named in (o.id, *o.accounts)), None)

    @functools.cached_property
    def code(self) -> SocialCode:
        calendar = WorkingCalendar(zone=self.timezone, country=self.holidays.country,
                                   subdivision=self.holidays.subdivision, working_days_only=self.working_days_only)
        return SocialCode(calendar=calendar, minimum_duration=self.minimum_duration, reminders=self.reminders,
                          days_between_rounds=self.days_between_rounds, majority=self.majority,
                          blocked_rounds_before_majority=self.blocked_rounds_before_majority,
                          majority_lock=self.majority_lock, quorum=self.quorum, followup_reminder=self.followup_reminder)


NetworkSettings = network_settings(AssemblySettings)


class StorageSettings(Section):
    path: FilePath = "storage/consent.db"
    """The SQLite database, created if missing; relative to the configuration file's folder."""
    url: DatabaseUrl | None = Field(None, repr=False)
    """A PostgreSQL database instead (postgresql://user:password@host:5432/db): give path or url, not both."""

    @model_validator(mode="after")
    def _settled(self, info: ValidationInfo) -> Self:
        """One database, its file anchored; with a configuration file, proved usable (its folder made)."""
        context = info.context or {}
        if self.url is not None and "path" in self.model_fields_set:
            source = context.get("sources", {}).get("storage.path")
            raise Problem("url", f"storage.path is given too{f' (by {source})' if source else ''}: keep one, the "
                                 "SQLite file (path) or the PostgreSQL database (url)")
        path = anchored(self.path, "storage.path", context)
        if context.get("check_files") and self.url is None and path.name != IN_MEMORY and check_storage(path):
            raise Problem("path", check_storage(path))
        return self.model_copy(update={"path": path})


class Reactions(Section):
    @field_validator("*")
    @classmethod
    def _once(cls, names: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        for other, taken in info.data.items():
            if set(names) & set(taken):
                raise ValueError(f"{min(set(names) & set(taken))} already stands for {other}")
        return names

    @functools.cached_property
    def by_position(self) -> Mapping[Position, tuple[str, ...]]:
        return MappingProxyType({position: getattr(self, position.value) for position in Position})


def reactions(name: str, emoji: Any, what: str, defaults: Mapping[Position, tuple[str, ...]]) -> type[Reactions]:
    """Which reactions on a ballot stand for which position; a position left out keeps its defaults."""
    return create_model(name, __base__=Reactions, __doc__=reactions.__doc__, **{position.value: (listed(
        emoji, what, 20, least=1), Field(list(defaults[position]), description=f"The reactions that say {position}."))
        for position in Position})


MatrixReactions = reactions("MatrixReactions", Emoji, "emoji", MATRIX_DEFAULTS)
MattermostReactions = reactions("MattermostReactions", EmojiName, "emoji names such as +1 or raised_hand",
                                MATTERMOST_DEFAULTS)


class MatrixSettings(Section):
    homeserver: WebAddress
    """The homeserver's client URL, e.g. https://matrix.example.org."""
    user_id: MatrixId
    """The bot's own Matrix id, e.g. '@consent:example.org' (in quotes: it starts with @)."""
    access_token: Secret = ""
    """The bot account's access token: better in CONSENT_BOT_MATRIX_ACCESS_TOKEN."""
    password: Secret = ""
    """Or the account's password, which the bot logs in with once (CONSENT_BOT_MATRIX_PASSWORD)."""
    device_id: text("a device id such as CONSENTBOT", 1, 255) = "CONSENTBOT"
    """The bot's device; keep it fixed: a new device id is a new login."""
    allowed_inviters: listed(Inviter, "user ids ('@alice:example.org') or server suffixes (':example.org')", 1000,
                             least=1)
    """Whose invitations the bot accepts: user ids ('@alice:example.org'), or ':example.org' for a whole server."""
    facilitator_power_level: whole(0, 100, "a power level from 0 to 100") = 50
    """Members with at least this power level in a room are its facilitators."""
    reactions: MatrixReactions = {}
    """Which reactions on a ballot stand for which position; a position left out keeps its defaults."""
    store_path: FilePath | None = None
    """The folder of the bot's encryption keys; null: beside storage.path (consent.db → consent-crypto)."""
    trust: one_of("tofu", "all") = "tofu"
    """Whose devices get the keys of what the bot posts in encrypted rooms: tofu or all."""
    room_key_wait: duration(timedelta(days=1)) = "10m"
    """How long a message the bot cannot decrypt yet waits for its key (a closing round too): at most 1d."""

    def may_invite(self, user_id: str) -> bool:
        return any(user_id == allowed or (allowed.startswith(":") and user_id.endswith(allowed))
                   for allowed in self.allowed_inviters)


class MattermostSettings(Section):
    url: WebAddress
    """The Mattermost server's URL, as in the browser (without /api/v4)."""
    token: Secret = ""
    """The bot account's access token: better in CONSENT_BOT_MATTERMOST_TOKEN."""
    teams: listed(text("a team name of at most 64 characters", 1, 64), "team names (as in the team's URL)", 1000) = []
    """Team names (as in the team's URL) the bot answers in; empty: every team it belongs to."""
    reactions: MattermostReactions = {}
    """Which reactions on a ballot stand for which position, by emoji name; a position left out keeps its defaults."""


class RegisterSettings(Section):
    enabled: Flag = False
    """true: the bot serves it from its own process (`consent-bot serve` serves it alone in any case)."""
    bind: ListenAddress = "127.0.0.1"
    """The address it listens on: 127.0.0.1 (this machine only), 0.0.0.0 (every interface)..."""
    port: whole(0, 65535, "a port number from 1 to 65535 (0: any free port)") = 8080
    """The TCP port; 0: any free port (the log says which)."""
    public_url: PublicUrl = ""
    """The address people reach it at (http or https, no query) for links, feeds and outcome messages; "": none."""
    licence: text("a licence of at most 200 characters on one line, e.g. ODbL-1.0", 1, 200) = "ODbL-1.0"
    """The licence the data is published under: a name, an SPDX id or a URL."""
    show_names: Flag = True
    """false: members' ids are published nowhere (counts, reasons and arguments still are)."""


class OpsSettings(Section):
    enabled: Flag = False
    """true: `consent-bot run` serves /healthz, /readyz and /metrics (on Matrix or Mattermost; the Docker image does)."""
    bind: ListenAddress = "127.0.0.1"
    """The address it listens on: 127.0.0.1 (this machine only) unless a scraper elsewhere reads it."""
    port: whole(1, 65535, "a port number from 1 to 65535") = 8081
    """The TCP port (`consent-bot health` asks it there)."""
    stale_after: duration(timedelta(days=1), positive=True) = "2m"
    """/readyz says not ready once the platform, the outbox or due work has stalled this long: above 0, at most 1d."""


# Config.register hides BaseModel.register (ABCMeta's, for virtual subclasses), which nothing calls on it.
warnings.filterwarnings("ignore", 'Field name "register" in "Config" shadows', UserWarning)


class Config(Section):
    """The whole configuration file."""

    platform: one_of(*PLATFORMS) = "console"
    """Where the bot talks: console (a local room in the terminal), matrix or mattermost."""
    storage: StorageSettings = {}
    """Where the register of decisions is kept: a SQLite file, or a PostgreSQL database."""
    log_level: one_of("DEBUG", "INFO", "WARNING", "ERROR", normalize=str.upper) = "INFO"
    """How much the bot logs: DEBUG, INFO, WARNING or ERROR."""
    log_format: one_of("text", "json") = "text"
    """text: a line for people; json: one JSON object a line (time, level, logger, message, room, proposal)."""
    assembly: AssemblySettings = {}
    """The assembly's social code, every room's unless overridden."""
    rooms: Annotated[Mapping[NetworkRoom, AssemblySettings], AfterValidator(MappingProxyType)] = {}
    """Settings for single rooms, by room id: any assembly key, which replaces the assembly's there. A room of the
    other chat platform too (a network's): its language, for the joint decisions this process closes."""
    networks: network_list(NetworkSettings) = []
    """Rooms that take some decisions together (joint proposals, one tally): each an id, its rooms and the rules of its
    joint decisions that differ from the assembly's (README, "Linked assemblies")."""
    matrix: MatrixSettings | None = None
    """The Matrix account the bot uses: read when platform is matrix (then required)."""
    mattermost: MattermostSettings | None = None
    """The Mattermost bot account: read when platform is mattermost (then required)."""
    register: RegisterSettings = {}
    """The public register: web pages, open data and feeds of every decision."""
    ops: OpsSettings = {}
    """The operations listener: health and metrics for Docker, systemd, load balancers and Prometheus, on a port of
    its own, apart from the public register so that it is never published with it."""

    @field_validator("rooms", mode="before")
    @classmethod
    def _over_the_assembly(cls, rooms: Any, info: ValidationInfo) -> Any:
        """Each room's own keys over the assembly's (inside a section, key by key), once the assembly is valid: a
        problem of the assembly's is told once, under assembly."""
        assembly = (info.context or {}).get("assembly")
        if "assembly" not in info.data or not isinstance(assembly, dict) or not isinstance(rooms, dict):
            return rooms

        def merged(own: dict[str, Any]) -> dict[str, Any]:
            both = {key for key in own if isinstance(own[key], dict) and isinstance(assembly.get(key), dict)}
            return {**assembly, **own, **{key: {**assembly[key], **own[key]} for key in both}}

        return {room: merged(own or {}) if isinstance(own, dict | None) else own for room, own in rooms.items()}

    @field_validator("networks", mode="before")
    @classmethod
    def _sections_over_the_assembly(cls, networks: Any, info: ValidationInfo) -> Any:
        """A network's email over the assembly's, key by key, as a room's: a network names its list, and sends through
        the assembly's mail server (its calendar, though, is its own as a whole: one for all its rooms)."""
        assembly = (info.context or {}).get("assembly")
        if "assembly" not in info.data or not isinstance(assembly, dict) or not isinstance(networks, list):
            return networks
        return [{**network, "email": {**assembly["email"], **network["email"]}}
                if isinstance(network, dict) and isinstance(network.get("email"), dict)
                and isinstance(assembly.get("email"), dict) else network for network in networks]

    @model_validator(mode="after")
    def _ports_apart(self) -> Self:
        if self.ops.enabled and self.register.enabled and self.ops.port == self.register.port:
            raise Problem("ops.port", f"the public register listens on port {self.register.port}: give the "
                                      "operations listener a port of its own")
        return self

    @model_validator(mode="after")
    def _encryption_store(self, info: ValidationInfo) -> Self:
        """matrix.store_path anchored, by default beside the SQLite database; on Matrix with a configuration file,
        proved usable by the bot's device."""
        context, database, matrix = info.context or {}, self.storage.path, self.matrix
        if matrix is None:
            return self
        if matrix.store_path is None and (self.storage.url or database.name == IN_MEMORY):
            where = "with storage.url" if self.storage.url else "when storage.path is :memory:"
            raise Problem("matrix.store_path", f"required {where}: the encryption keys must outlive the bot's run, in "
                                               "a folder on a disk you keep")
        store = (anchored(matrix.store_path, "matrix.store_path", context) if matrix.store_path else
                 database.parent / f"{database.stem}-crypto")
        problem = context.get("check_files") and self.platform == "matrix" and check_crypto_store(
            store, matrix.user_id, matrix.device_id)
        if problem:
            raise Problem("matrix.store_path", problem)
        return self.model_copy(update={"matrix": matrix.model_copy(update={"store_path": store})})

    @property
    def database(self) -> str:
        """Where the register is, as Repository.open takes it: the PostgreSQL URL, else the SQLite file."""
        return self.storage.url or str(self.storage.path)

    def announces(self) -> bool:
        """Whether some assembly announces beyond its room (a mailing list, webhooks)."""
        return any(s.email.lists or s.webhooks for s in (self.assembly, *self.rooms.values(), *self.networks))

    def for_room(self, room_id: str) -> AssemblySettings:
        return self.rooms.get(room_id, self.assembly)

    @functools.cached_property
    def joint_settings(self) -> dict[str, tuple[NetworkSettings, dict[str, AssemblySettings]]]:
        """Each network's scope → the network, and each of its rooms with the settings its joint decisions run by as
        said there: asked at every event on a joint decision, so made once."""
        return {network.scope: (network, {room: network.rules_over(self.assembly, self.for_room(room))
                                          for room in network.rooms}) for network in self.networks}

    def deprecated(self) -> list[str]:
        """Keys still read but no longer used: check-config warns of them."""
        rooms = {f"rooms.{room}": settings for room, settings in self.rooms.items()
                 if settings.followup != self.assembly.followup}  # not those that only inherit the assembly's
        return [f"{key}.followup: no longer used: declare the elected officials under {key}.officials (README, "
                "\"The pact\")" for key, settings in {"assembly": self.assembly, **rooms}.items() if settings.followup]

    def missing_secrets(self) -> list[str]:
        """What the platform needs to connect and is not given: `run` refuses to start, check-config warns."""
        if self.platform == "matrix" and self.matrix and not (self.matrix.access_token or self.matrix.password):
            return ["matrix.access_token: not set: export CONSENT_BOT_MATRIX_ACCESS_TOKEN=<the bot's token> (or "
                    "CONSENT_BOT_MATRIX_PASSWORD=<its password>, for the bot to log in once)"]
        if self.platform == "mattermost" and self.mattermost and not self.mattermost.token:
            return ["mattermost.token: not set: export CONSENT_BOT_MATTERMOST_TOKEN=<the bot account's token>"]
        return []
