"""What the bot keeps on disk, proved usable before it starts: the SQLite database's folder and, on Matrix, the
encryption store's. Each check makes the folder as the bot would, and writes only a temporary file there."""

from __future__ import annotations

import os
import tempfile
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
