"""Messages in the assembly's language, from gettext catalogs (bot/locale/<lang>/LC_MESSAGES/consent_bot.po).

The .po files are the catalogs' single source: they are compiled in memory with
Babel when first used, so no compiled .mo file has to be kept in step with them.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "consent_bot"
LANGUAGES = ("fr", "en")

DATE_PATTERN = "EEEE d MMMM y, HH:mm"
DAY_PATTERN = "EEEE d MMMM y"


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
    network: str = ""
    """The network whose joint decision the messages are about: its id is written with the proposal's number
    (a template's "#{number}" reads #metropole-3); "" for a room's own proposals."""

    def _(self, message: str, **params: object) -> str:
        text = translations(self.language).gettext(message)
        if self.network:  # templates are filled in here or by Text.line: the network goes in the template
            text = text.replace("#{number}", f"#{self.network}-{{number}}")
        return text.format(**params) if params else text

    def n_(self, singular: str, plural: str, count: int) -> str:
        """The template for ``count`` (filled in by the caller, like a template from ``_``)."""
        return translations(self.language).ngettext(singular, plural, count)

    def when(self, moment: datetime) -> str:
        """A date and time as people read it, in the assembly's zone. Midnight is written as the end of the
        day before ("Wednesday 21 April 2027, 24:00"): a deadline "Thursday 00:00" reads as a day too late."""
        local = moment.astimezone(self.zone)
        if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
            day = format_date(local.date() - timedelta(days=1), DAY_PATTERN, locale=self.language)
            return f"{day}, 24:00 ({self.zone.key})"
        shown = format_datetime(moment, DATE_PATTERN, tzinfo=self.zone, locale=self.language)
        return f"{shown} ({self.zone.key})"

    def day(self, moment: datetime) -> str:
        return format_datetime(moment, DAY_PATTERN, tzinfo=self.zone, locale=self.language)

    def date(self, day: date) -> str:
        """A calendar day (a mandate's start, the day an opinion is needed by), with no time zone to convert."""
        return format_date(day, DAY_PATTERN, locale=self.language)
