"""Where the register is: a SQLite file, or a PostgreSQL database named by a URL whose password is never shown.

A URL is ``postgresql://user:password@host:port/database`` (``postgres://`` too), or, for a unix socket,
``postgresql://user@/database?host=/run/postgresql``: what libpq and asyncpg read. Anything else is a file.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

SCHEMES = ("postgresql", "postgres")
EXAMPLE = "postgresql://consent@db.example.org/consent"
HIDDEN = "***"


def is_postgres_url(location: Path | str) -> bool:
    """Whether ``location`` names a PostgreSQL database (else it is a SQLite file)."""
    return isinstance(location, str) and location.split("://", 1)[0].lower() in SCHEMES and "://" in location


def redacted(url: str) -> str:
    """The URL with its password (in the address or as ``?password=``) replaced by ***: fit for logs and errors.

    A URL too malformed to find its password in is not shown at all.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a malformed URL)"
    netloc = parts.netloc
    if parts.password is not None:
        user, _, hosts = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:{HIDDEN}@{hosts}"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "password" for key, _ in query):
        query = [(key, HIDDEN if key == "password" else value) for key, value in query]
        return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/*")))
    return urlunsplit(parts._replace(netloc=netloc))


def without_password(text: str, url: str) -> str:
    """``text`` (an error's message) with the URL shown as in :func:`redacted`, and its password nowhere."""
    text = text.replace(url, redacted(url))
    # Found without urlsplit, which refuses some malformed URLs that still hold a password.
    userinfo = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0].rpartition("@")[0]
    query = url.partition("?")[2].partition("#")[0]
    secrets = [userinfo.partition(":")[2], *(value for key, value in parse_qsl(query) if key == "password")]
    for secret in {s for secret in secrets for s in (secret, unquote(secret)) if s}:
        text = text.replace(secret, HIDDEN)
    return text


def url_problem(url: object) -> str | None:
    """Why ``url`` is no PostgreSQL URL the bot can use, or None; the message shows it without its password."""
    if not isinstance(url, str) or not url.strip():
        return f"expected a PostgreSQL URL such as {EXAMPLE}"
    if any(char.isspace() or not char.isprintable() for char in url):
        return "a URL has no spaces or control characters (write a space in a password as %20)"
    if not is_postgres_url(url):
        return f"expected a PostgreSQL URL starting with postgresql:// or postgres://, such as {EXAMPLE}"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [IPv6 address
        return f"not a valid URL, e.g. {EXAMPLE}"
    for host in parts.netloc.rpartition("@")[2].split(","):  # several hosts, each with its port, are allowed
        try:
            urlsplit(f"//{host}").port  # noqa: B018 -- raises ValueError for a port that is no number to 65535
        except ValueError:
            return f"{redacted(url)}: a port is a number from 1 to 65535 after the host, e.g. db.example.org:5432"
    if parts.fragment:
        return f"{redacted(url)}: a database URL has no #fragment"
    if parts.path.count("/") > 1:
        return f"{redacted(url)}: the database name follows the address, without a slash: {EXAMPLE}"
    return None
