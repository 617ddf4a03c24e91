"""The configuration's three references — the models, config.example.yaml and README's table — cannot drift apart:
the schema the models give is the one shipped, the example is valid against it and names every key, and the README's
table names every key with the models' own default."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import jsonschema
import pytest
import yaml
from pydantic import BaseModel

from bot.cli import main
from bot.config import Config, config_schema
from bot.config.settings import Section

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config.example.yaml"
SECTIONS = ("storage", "assembly", "matrix", "mattermost", "register", "ops")  # their keys are listed one by one


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The section a key holds (itself, or optional), not a mapping of sections (rooms)."""
    candidates = [annotation, *(get_args(annotation) if get_origin(annotation) in (Union, UnionType) else ())]
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, Section)), None)


def keys(model: type[BaseModel] = Config, prefix: str = "") -> dict[str, Any]:
    """Every key the file may hold, dotted, with its default as written in the file (leaves and sub-sections)."""
    found = {}
    for name, field in model.model_fields.items():
        found[prefix + name] = field.default
        section = model_of(field.annotation)
        if section is not None:
            found.update(keys(section, f"{prefix}{name}."))
    return found


def test_the_shipped_schema_is_the_one_the_models_give(capsys):
    main(["config-schema"])
    printed = json.loads(capsys.readouterr().out)
    assert printed == config_schema()
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed)
    shipped = json.loads((ROOT / "config.schema.json").read_text(encoding="utf-8"))
    assert shipped == printed, "config.schema.json is stale: consent-bot config-schema > config.schema.json"


def test_the_example_points_editors_at_the_schema_and_is_valid_against_it():
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=config.schema.json"
    validator = jsonschema.Draft202012Validator(config_schema())
    assert [error.message for error in validator.iter_errors(yaml.safe_load(text))] == []


@pytest.mark.parametrize("document", [
    {"platform": "slack"}, {"assembly": {"quorom": 0}}, {"assembly": {"minimum_duration": 72}},
    {"register": {"port": 70000}}, {"matrix": {"homeserver": "https://m.org", "user_id": "consent"}},
])
def test_the_schema_refuses_what_the_bot_refuses(document):
    assert list(jsonschema.Draft202012Validator(config_schema()).iter_errors(document))


def test_every_key_is_in_the_example_with_its_default_unless_marked_as_an_example():
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    written = {}  # dotted key -> (value, the line), read from the file's own indentation
    path: list[str] = []
    for line in lines:
        match = re.match(r"^( *)([a-z_]+):(.*)$", line)
        if match:
            depth = len(match[1]) // 2
            path = [*path[:depth], match[2]]
            written[".".join(path)] = (yaml.safe_load(match[3].split(" #")[0] or "null"), line)
    missing = [key for key in keys() if key not in written]
    assert missing == []
    for key, default in keys().items():
        value, line = written[key]
        if isinstance(default, str | int | list) and value is not None and value != {}:
            assert value == default or line.endswith("# example"), (key, value, default)
    marked = [key for key, (_, line) in written.items() if line.endswith("# example")]
    assert marked == ["matrix.homeserver", "matrix.user_id", "matrix.allowed_inviters", "mattermost.url"]


def test_every_key_is_described_for_editors():
    def undescribed(model: type[BaseModel], prefix: str = "") -> list[str]:
        found = []
        for name, field in model.model_fields.items():
            found += [] if field.description else [prefix + name]
            inner = [arg for arg in get_args(field.annotation) if arg is not ...]  # a list's items, a room's settings
            section = model_of(field.annotation) or (inner[-1] if inner else None)
            if isinstance(section, type) and issubclass(section, Section):
                found += undescribed(section, f"{prefix}{name}.")
        return found

    assert undescribed(Config) == []


def test_the_readme_table_names_every_key_with_its_default():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("| key | default | meaning |", 1)[1].split("\n\n")[0]
    rows = {}
    for row in table.splitlines()[2:]:  # after the header's rule
        key, default, _ = (cell.strip() for cell in row.strip("|").split("|", 2))
        rows[key.strip("`")] = default
    expected = {key: default for key, default in keys().items()
                if key.split(".")[0] not in SECTIONS or key.count(".") == 1}
    expected["rooms.<room id>"] = expected.pop("rooms")
    assert sorted(rows) == sorted(expected)
    for key, default in expected.items():
        if rows[key].startswith("`") and default is not None:
            assert yaml.safe_load(rows[key].strip("`")) == default, (key, rows[key], default)


def test_every_environment_variable_is_documented():
    from bot.config import ENVIRONMENT

    example, readme = EXAMPLE.read_text(encoding="utf-8"), (ROOT / "README.md").read_text(encoding="utf-8")
    for name, key in ENVIRONMENT.items():
        assert f"{name}" in example and f"`{name}`" in readme and key in keys()


def test_every_section_of_the_readme_that_the_example_and_the_code_point_to_is_there():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = {re.sub(r" \(.*\)$", "", heading) for heading in re.findall(r"^#+ (.+)$", readme, re.MULTILINE)}
    pointers = {}
    for path in [EXAMPLE, ROOT / "Dockerfile", ROOT / "compose.yaml", *ROOT.glob("docs/*.*"), *ROOT.glob("examples/*"),
                 *ROOT.glob("bot/**/*.py"), *ROOT.glob("storage/**/*.py")]:
        text = re.sub(r"\s*\n\s*#?\s*", " ", path.read_text(encoding="utf-8"))  # a pointer may wrap, in a comment
        for section in re.findall(r'README, \\?"([A-Z][^"\\]+)\\?"', text):
            pointers.setdefault(section, path.relative_to(ROOT))
    assert "Mattermost" in pointers and "Try it on a local Synapse" in pointers
    assert {section: path for section, path in pointers.items() if section not in headings} == {}
