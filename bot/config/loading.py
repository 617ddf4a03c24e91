"""Loading: the YAML file, the environment over it, the models, and every problem at once in the operator's words,
each named by its dotted key (with the variable that set it): "rooms.!abc:x.org.majority: …". No message quotes the
file's text (a line of it may hold a secret), and a value is quoted by its own key's problem only, a secret's never."""

import os
from collections.abc import Mapping
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from bot.config.settings import PLATFORMS, Config
from bot.config.values import SHOWN, Problem, described, did_you_mean, printable, shown

# Each sets the key it is named after, and wins over the file; empty counts as unset (as compose files pass them).
ENVIRONMENT = {f"CONSENT_BOT_{key.upper().replace('.', '_').removeprefix('ASSEMBLY_')}": key for key in (
    "storage.path", "storage.url", "log_level", "log_format", "matrix.access_token", "matrix.password", "matrix.device_id",
    "matrix.store_path", "mattermost.token", "register.enabled", "register.bind", "register.port",
    "register.public_url", "ops.enabled", "ops.bind", "ops.port", "assembly.email.password")}
FLAGS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
MAX_FILE_SIZE = 1_000_000  # bytes; a configuration is a few kilobytes, /dev/zero is endless


class ConfigError(Exception):
    """The configuration is unusable; ``errors`` lists every problem as "dotted.key: problem"."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def load_config(path: Path | None, environ: Mapping[str, str] = os.environ) -> Config:
    """The configuration in ``path`` (None: the defaults), with the environment's overrides; ConfigError lists every
    problem, whatever the file holds. With a file, the database's folder (and on Matrix the encryption store's) is
    made and proved writable, as the bot would at its start; without one, the disk is not touched."""
    try:
        raw = {} if path is None else _read(Path(path))
        return _validated({} if raw is None else raw, environ, path)
    except ConfigError:
        raise
    except Exception as error:  # a value no check foresaw is still a ConfigError, never a traceback
        raise ConfigError([f"{path or 'the defaults'}: this configuration could not be checked "
                           f"({type(error).__name__}); please report it as a bug"]) from error


def default_config() -> Config:
    """Every setting at its default, ignoring the environment."""
    return load_config(None, environ={})


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the configuration file, for editors and the tests."""
    schema = Config.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "consent-bot configuration"}


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key written twice in one mapping, where YAML silently keeps the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":  # "<<": PyYAML's
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {shown(key)} appears twice in the same section", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read(path: Path) -> Any:
    def refused(problem: str) -> ConfigError:
        return ConfigError([printable(f"{path}{problem}")])

    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_SIZE + 1)  # no more: --config /dev/zero must not fill the memory
    except FileNotFoundError:
        raise refused(": no such configuration file") from None
    except (OSError, ValueError) as error:  # ValueError: a NUL byte in the path
        why = getattr(error, "strerror", None) or ("a file path cannot contain a NUL byte" if isinstance(
            error, ValueError) else type(error).__name__)
        raise refused(f": cannot be read ({why})") from None
    if len(data) > MAX_FILE_SIZE:
        raise refused(": larger than 1 MB, not a configuration file")
    try:
        return yaml.load(data.decode("utf-8"), Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        mark, problem = error.problem_mark, error.problem or error.context or "syntax error"
        if "for the tag '!" in problem:  # a Matrix room id written as a key without quotes
            problem += " (a room id starts with !, which YAML reads as a tag: put it in quotes, \"!abc:example.org\")"
        place = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "position unknown"
        raise refused(f", {place}: invalid YAML: {problem}") from None
    except Exception as error:  # any other failure of PyYAML's is still the file's fault, and must read as such
        raise refused(": not a UTF-8 text file" if isinstance(error, UnicodeDecodeError) else
                      ": invalid YAML: nested too deeply" if isinstance(error, RecursionError) else  # "[[[[…" deep
                      ": invalid YAML: a value cannot be converted (a number with thousands of digits, an impossible "
                      "date?)" if isinstance(error, ValueError | OverflowError) else  # PyYAML's int() or datetime()
                      f": invalid YAML ({type(error).__name__})") from None


def _validated(raw: Any, environ: Mapping[str, str], path: Path | None) -> Config:
    document, sources = _with_environment(raw, environ)
    platform = str(document.get("platform", "console")).lower() if isinstance(document, dict) else None
    if platform in ("matrix", "mattermost") and document.get(platform) is None:
        document[platform] = {}  # the platform's section is required: its required keys say what is missing
    # absolute(), not resolve(): a symlinked config file (as Kubernetes mounts them) keeps its folder.
    context = {"platform": platform if platform in PLATFORMS else None, "sources": sources, "check_files": bool(path),
               "environ": environ, "folder": Path(path).absolute().parent if path else Path.cwd(),
               "assembly": document.get("assembly") if isinstance(document, dict) else None}
    try:
        return Config.model_validate(document, context=context)
    except ValidationError as error:
        raise ConfigError([_problem(found, document, sources) for found in error.errors(include_url=False)]) from None


def _with_environment(raw: Any, environ: Mapping[str, str]) -> tuple[Any, dict[str, str]]:
    """A copy of the document with the environment's values in it, and which variable set which key."""
    if not isinstance(raw, dict):
        return raw, {}
    document, sources = dict(raw), {}
    for name, key in ENVIRONMENT.items():
        value, (*sections, field) = environ.get(name, ""), key.split(".")
        if not value:
            continue
        node = document
        for section in sections:  # each section on the way copied (the file's document is left as it was)
            if not isinstance(node.get(section), dict | None):
                break  # a section that is no mapping: reported anyway
            node[section] = dict(node.get(section) or {})
            node = node[section]
        else:
            default = _model_at(sections).model_fields[field].default  # the environment gives text: a flag, a port
            number = isinstance(default, int) and value.strip().isdigit() and len(value) < 10
            node[field] = FLAGS.get(value.strip().lower(), value) if isinstance(default, bool) else (
                int(value) if number else value)
            sources[key] = name
    return document, sources


def _problem(found: Any, document: Any, sources: dict[str, str]) -> str:
    kind, loc, value = found["type"], list(found["loc"]), found.get("input")
    cause = found.get("ctx", {}).get("error")
    if kind == "value_error":
        problem = str(cause)
        loc += [cause.key] if isinstance(cause, Problem) else []
    elif kind == "extra_forbidden":
        problem = "unknown key" + did_you_mean(loc[-1], getattr(_model_at(loc[:-1]), "model_fields", ()))
    elif kind == "missing":
        description = _model_at(loc[:-1]).model_fields[loc[-1]].description or "a value"
        problem = f"required: {description[:1].lower()}{description[1:].rstrip('.')}"
    elif kind == "invalid_key":  # a key YAML read as a number, a date or null
        problem = "a key is a name: put it in quotes if it is meant to be one"
    elif kind in ("model_type", "dict_type", "mapping_type"):
        problem = f"expected {'a mapping from room ids to' if loc == ['rooms'] else 'a mapping of'} settings, got " \
                  f"{described(value)}"
    else:  # nothing of ours foresaw it: pydantic's words
        problem = f"{found['msg'][:1].lower()}{found['msg'][1:]}, got {described(value)}"
    if loc[-1:] == ["[key]"]:  # a key that is none: a room's id, a point of the pact
        key, loc = loc[-2], loc[:-2]
        if loc == ["rooms"]:
            problem = f"the room id {shown(key)}: {problem}" if isinstance(key, str) else \
                f"the room id {shown(key)} must be text: put it in quotes"
    key = _dotted(loc, document)
    return printable(f"{key} (from {sources[key]}): {problem}" if key in sources else f"{key}: {problem}")


def _model_at(loc: list[Any]) -> type[BaseModel] | None:
    """The section the key ``loc`` names, walking the models' annotations (a room's, a list's items...)."""
    node: Any = Config
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            node = node.model_fields[part].annotation if part in node.model_fields else None
        else:
            # a mapping's values, a list's items, or a tuple's (tuple[X, ...])
            node = ([arg for arg in get_args(node) if arg is not Ellipsis] or [None])[-1]
        if get_origin(node) in (Union, UnionType):  # X | None
            node = get_args(node)[0]
    return node if isinstance(node, type) and issubclass(node, BaseModel) else None


def _dotted(loc: list[Any], document: Any) -> str:
    """The key as the file writes it: sections joined by dots, list items by their index."""
    text, node = "", document
    for part in loc:
        name = shown(part) if isinstance(part, int) and abs(part) >= 10 ** SHOWN else str(part)
        name = name if len(name) <= 2 * SHOWN else name[:2 * SHOWN] + "…"
        text += f"[{part}]" if isinstance(node, list) else f".{name}" if text else name
        node = node[part] if isinstance(node, list) and isinstance(part, int) and part < len(node) else \
            node.get(part) if isinstance(node, dict) else None
    return text or "(top level)"
