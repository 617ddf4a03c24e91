"""Messages in the assembly's language, from gettext catalogs (bot/locale/<lang>/LC_MESSAGES/consent_bot.po).

The .po files are the catalogs' single source: they are compiled in memory with
Babel when first used, so no compiled .mo file has to be kept in step with them.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "consent_bot"
LANGUAGES = ("fr", "en")

DATE_PATTERN = "EEEE d MMMM y, HH:mm"


def N_(message: str) -> str:
    """Mark a message for extraction where it is defined; it is translated where it is shown."""
    return message


@functools.cache
def translations(language: str) -> Translations:
    po = resources.files("bot") / "locale" / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@dataclass(frozen=True)
class Messages:
    """The translator and date formatter of one assembly (language and time zone)."""

    language: str
    zone: ZoneInfo

    def _(self, message: str, **params: object) -> str:
        text = translations(self.language).gettext(message)
        return text.format(**params) if params else text

    def n_(self, singular: str, plural: str, count: int) -> str:
        """The template for ``count`` (filled in by the caller, like a template from ``_``)."""
        return translations(self.language).ngettext(singular, plural, count)

    def when(self, moment: datetime) -> str:
        local = format_datetime(moment, DATE_PATTERN, tzinfo=self.zone, locale=self.language)
        return f"{local} ({self.zone.key})"

    def day(self, moment: datetime) -> str:
        return format_datetime(moment, "EEEE d MMMM y", tzinfo=self.zone, locale=self.language)
