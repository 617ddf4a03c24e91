"""The gettext catalogs (bot/locale) are complete, translated, and used by the bot.

When a message is added, changed or removed in bot/*.py, regenerate the
template and update both catalogs, from the project root:

    .venv/bin/pybabel extract -F babel.cfg -k _ -k N_ -k fail -k n_:1,2 --no-wrap --sort-by-file \
        --project consent-bot --version 0.1.0 -o bot/locale/consent_bot.pot .
    .venv/bin/pybabel update -D consent_bot -i bot/locale/consent_bot.pot -d bot/locale -l fr --no-wrap --ignore-obsolete
    .venv/bin/pybabel update -D consent_bot -i bot/locale/consent_bot.pot -d bot/locale -l en --no-wrap --ignore-obsolete

then translate the new French entries (and check those `pybabel update` marked
fuzzy: its guess is often wrong, and a fuzzy entry is not used). The English
catalog keeps empty msgstr: the English msgid is then used as is.
"""

from __future__ import annotations

import re
import string
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages import frontend
from babel.messages.catalog import Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from bot.messages.i18n import DOMAIN, LANGUAGES, Messages

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "bot" / "locale"
KEYWORDS = {**DEFAULT_KEYWORDS, **frontend.parse_keywords(["_", "N_", "fail", "n_:1,2"])}
UPDATE_HINT = "the catalogs are out of date: run the extract and update commands in the docstring of " + __file__


def source_msgids() -> set[str | tuple[str, ...]]:
    """The message ids in the source, extracted as `pybabel extract -F babel.cfg` does."""
    parse_mapping = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping(config)
    found = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message)
    return found


def load(language: str):
    with open(LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po", "rb") as po:
        return read_po(po, locale=language, domain=DOMAIN)


def entries(language: str) -> list[Message]:
    return [message for message in load(language) if message.id]


def forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def placeholders(text: str) -> set[str] | str:
    """The names of the str.format fields in ``text``, or why ``text`` is not a valid format string."""
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as error:
        return f"invalid format string: {error}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalog_has_exactly_the_messages_of_the_source(language: str) -> None:
    in_source = source_msgids()
    assert in_source, "no message extracted from bot/: check babel.cfg and the keywords"
    in_catalog = {message.id for message in entries(language)}
    missing = sorted(map(str, in_source - in_catalog))
    stale = sorted(map(str, in_catalog - in_source))
    assert not missing and not stale, f"{language}.po: {UPDATE_HINT}\nmissing: {missing}\nstale: {stale}"


def test_template_has_exactly_the_messages_of_the_source() -> None:
    with open(LOCALE / f"{DOMAIN}.pot", "rb") as pot:
        template = {message.id for message in read_po(pot) if message.id}
    in_source = source_msgids()
    missing = sorted(map(str, in_source - template))
    stale = sorted(map(str, template - in_source))
    assert not missing and not stale, f"consent_bot.pot: {UPDATE_HINT}\nmissing: {missing}\nstale: {stale}"


def test_every_french_message_is_translated_and_not_fuzzy() -> None:
    untranslated = [m.id for m in entries("fr") if not all(s.strip() for s in forms(m.string))]
    fuzzy = [m.id for m in entries("fr") if m.fuzzy]
    assert not untranslated and not fuzzy, (
        f"fr.po: translate these messages: {untranslated}\n"
        f"review these fuzzy translations, then remove their fuzzy flag: {fuzzy}"
    )


def test_english_catalog_uses_the_msgids() -> None:
    """An empty English msgstr means the msgid is shown; a fuzzy entry would be silently ignored."""
    assert not [m.id for m in entries("en") if m.fuzzy]


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders(language: str) -> None:
    wrong = []
    for message in entries(language):
        expected = set().union(*(placeholders(i) for i in forms(message.id)))
        for translation in filter(None, forms(message.string)):
            found = placeholders(translation)
            if found != expected:
                wrong.append((message.id, translation, found))
    assert not wrong, f"{language}.po: placeholders differ from the msgid: {wrong}"


def test_french_command_names_are_french_aliases_of_the_same_command() -> None:
    """A `!verb` in a French message is a French alias the bot knows, for the command the English names."""
    from bot.app.handlers import COMMANDS

    command_word = re.compile(r"!(\w+)")
    wrong = []
    for message in entries("fr"):
        # Plural entries hold their forms in tuples: their first forms carry the same commands.
        source, translation = (m[0] if isinstance(m, tuple) else m for m in (message.id, message.string))
        english = [COMMANDS.find(word) for word in command_word.findall(source)]
        french = [COMMANDS.find(word) for word in command_word.findall(translation)]
        if french != english:
            wrong.append((message.id, message.string))
        for word in command_word.findall(translation):
            command = COMMANDS.find(word)
            if command is not None and word not in command.aliases:
                wrong.append((message.id, message.string))
    assert not wrong, f"fr.po: use the French alias of the same command: {wrong}"


def test_messages_are_translated_through_the_loader() -> None:
    paris = ZoneInfo("Europe/Paris")
    assert Messages("fr", paris)._("Deadline: {deadline}.", deadline="x") == "Date limite : x."
    assert Messages("en", paris)._("Deadline: {deadline}.", deadline="x") == "Deadline: x."
    assert Messages("fr", paris)._("rejected") == "rejetée"
    assert Messages("en", paris)._("rejected") == "rejected"


def test_dates_are_written_in_the_assembly_language() -> None:
    paris = ZoneInfo("Europe/Paris")
    moment = datetime(2027, 4, 1, 16, 30, tzinfo=timezone.utc)
    assert Messages("fr", paris).when(moment) == "jeudi 1 avril 2027, 18:30 (Europe/Paris)"
    assert Messages("fr", paris).day(moment) == "jeudi 1 avril 2027"
    assert Messages("en", paris).when(moment) == "Thursday 1 April 2027, 18:30 (Europe/Paris)"
