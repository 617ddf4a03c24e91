"""What the bot keeps on disk, proved usable before it starts: the SQLite database's folder and, on Matrix, the
encryption store's. Each check makes the folder as the bot would, and writes only a temporary file there."""

from __future__ import annotations

import fcntl
import os
import socket
import tempfile
from datetime import datetime, timezone
from pathlib import Path

CRYPTO_STORE_SUFFIX = ".db"


def shown_path(path: Path) -> str:
    """A path for a message, cut short if it is absurdly long."""
    return f"{str(path)[:160]}…" if len(str(path)) > 160 else str(path)


def check_storage(path: Path) -> str | None:
    """Why the bot could not keep its database at ``path``, or None if it can.

    The bot creates the file, and its folder, at its first start: this proves it could, now, so that check-config
    catches a wrong path before the bot runs. It may create the folder (as the bot would) and writes only a
    temporary file there, which it removes; it never creates the database itself.
    """
    folder = path.parent
    try:
        if path.is_dir():
            return f"{shown_path(path)} is a folder: give the database file's path, e.g. {shown_path(path / 'consent.db')}"
        problem = _made_folder(folder)
        if problem is not None:
            return problem
    except OSError as error:  # e.g. under /proc or /sys, or a name too long for the file system
        return f"the folder {shown_path(folder)} cannot be created ({error.strerror or type(error).__name__})"
    try:
        with tempfile.TemporaryFile(dir=folder):  # removed as soon as closed
            pass
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            return f"the bot cannot read and write the database {shown_path(path)}"
    except OSError as error:
        return f"the bot cannot write in the folder {shown_path(folder)} ({error.strerror or type(error).__name__})"
    return None


def crypto_store_file(user_id: str, device_id: str) -> str:
    """The name matrix-nio gives the store of one device (its default store: ``<user>_<device>.db``)."""
    return f"{user_id}_{device_id}{CRYPTO_STORE_SUFFIX}"


def check_crypto_store(path: Path, user_id: str, device_id: str) -> str | None:
    """Why the bot could not keep its end-to-end encryption store in the folder ``path``, or None if it can.

    Like check_storage, it may create the folder (as the bot would) and writes only a temporary file there. A
    folder holding the store of another account or device is refused: the bot's device must stay the same for the
    rooms' members to keep reading it, and one folder serves one device.
    """
    try:
        if path.exists() and not path.is_dir():
            return f"{shown_path(path)} is a file: give a folder for the encryption store"
        problem = _made_folder(path)
        if problem is not None:
            return problem
        with tempfile.TemporaryFile(dir=path):
            pass
        mine = crypto_store_file(user_id, device_id)
        others = sorted(entry.name for entry in path.iterdir()
                        if entry.name.endswith(CRYPTO_STORE_SUFFIX) and entry.name != mine and "_" in entry.name)
    except OSError as error:
        return f"the bot cannot keep its encryption store in {shown_path(path)} ({error.strerror or type(error).__name__})"
    if others:
        owner = others[0].removesuffix(CRYPTO_STORE_SUFFIX)[:80].encode("unicode_escape").decode()
        return (f"{shown_path(path)} holds the encryption store of another device ({owner}), not of "
                f"{user_id}'s device {device_id}: keep matrix.user_id and matrix.device_id as they were, or give a new "
                "device its own folder")
    return None


def _made_folder(folder: Path) -> str | None:
    """Make ``folder`` and its parents, as the bot would: why it cannot when a file stands in the way (an OSError
    of mkdir is the caller's to word)."""
    for ancestor in (folder, *folder.parents):  # the nearest that exists must be a folder
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"the folder {shown_path(folder)} cannot be created: {shown_path(ancestor)} is a file, not a folder"
            break
    folder.mkdir(parents=True, exist_ok=True)
    return None


class DatabaseBusy(Exception):
    """Another process acts on this SQLite database (its message says which)."""


class SqliteHold:
    """The one process that acts on a SQLite database: an exclusive lock (``flock``) on ``<database>.lock`` beside
    it, held while the process lives. The kernel lets go of it when the process dies, however it dies (kill -9
    included), so a crash never leaves a stale lock. Who holds it (process, host, since when) is written inside,
    for the refusal of the next one. Readers (``serve``, ``export``, ``backup``) take no hold.

    A file of its own, not a lock on the database file: SQLite's own locks are POSIX locks on that file, which
    closing any other descriptor of it in this process would release."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._file = None

    def take(self) -> None:
        """Hold the database, or raise DatabaseBusy naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        file = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 -- held open for the process's life
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read(200).strip() or "a process that did not say which"
            file.close()
            raise DatabaseBusy(
                f"another consent-bot acts on {shown_path(self.database)}: {holder}. One process per SQLite "
                "database: stop it first (a standby that takes over needs PostgreSQL: README, \"Which database\")"
            ) from None
        file.seek(0)
        file.truncate()
        file.write(f"process {os.getpid()} on {socket.gethostname()}, since "
                   f"{datetime.now(timezone.utc).isoformat(timespec='seconds')}\n")
        file.flush()
        self._file = file

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # the lock goes with the descriptor; the file stays, for the next one to take
            self._file = None
