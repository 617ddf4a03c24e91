"""Backups that restore: one archive holding a consistent copy of the SQLite register and of the Matrix encryption
store, taken while the bot runs, and put back in place by ``restore``.

Each SQLite file (the register, the encryption store's) is copied with SQLite's online backup API from a read-only
connection: one read transaction, so the copy is the database as it stood at one instant, and in WAL mode the bot
goes on writing meanwhile (a file copied by ``cp`` mid-write can be torn). The archive is a tar file:
``MANIFEST.json``, then ``consent.db`` and ``crypto/<store file>`` when there are such. A PostgreSQL register is
not in it: pg_dump copies it (README, "Backups").

What a restore cannot bring back is the README's to say ("Backups"); what it does here: the register replaces the
one in place (moved aside, never deleted), and the encryption store is put back only where there is none, since a
store still in place is newer than any backup and holds keys the backup lacks.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from storage.disk import CRYPTO_STORE_SUFFIX, SqliteHold, shown_path

FORMAT = 1
MANIFEST = "MANIFEST.json"
DATABASE = "consent.db"
CRYPTO = "crypto/"
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


class BackupError(Exception):
    """A backup or a restore that cannot be done, and why (the message is for the operator)."""


@dataclass(frozen=True)
class Manifest:
    taken_at: str
    schema_version: int | None
    """The register's migration; None when it holds no register (PostgreSQL)."""
    crypto_store: tuple[str, ...]
    """The encryption store's files it holds."""


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of the SQLite database ``source`` in ``target`` (a new file), while others write it."""
    if not source.is_file():
        raise BackupError(f"there is no database at {shown_path(source)}")
    reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            reading.backup(copy)  # every page in one step: one read transaction, one instant
        finally:
            copy.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"cannot copy {shown_path(source)}: {error}") from None
    finally:
        reading.close()


def _schema_version(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]


def backup(database: Path | None, crypto_store: Path | None, output: Path) -> Manifest:
    """Write the archive ``output``: the SQLite register at ``database`` (None: it is on PostgreSQL) and the files of
    the encryption store in the folder ``crypto_store`` (None: no Matrix)."""
    stores = sorted(crypto_store.glob(f"*{CRYPTO_STORE_SUFFIX}")) if crypto_store and crypto_store.is_dir() else []
    if database is None and not stores:
        raise BackupError("nothing to back up here: the register is on PostgreSQL (back it up with pg_dump, README "
                          "\"Backups\") and there is no encryption store")
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=".consent-backup-") as work:
        folder = Path(work)
        members: list[tuple[Path, str]] = []
        version = None
        if database is not None:
            sqlite_copy(database, folder / DATABASE)
            version = _schema_version(folder / DATABASE)
            members.append((folder / DATABASE, DATABASE))
        for store in stores:
            sqlite_copy(store, folder / store.name)
            members.append((folder / store.name, CRYPTO + store.name))
        manifest = Manifest(datetime.now(timezone.utc).isoformat(timespec="seconds"), version,
                            tuple(name.removeprefix(CRYPTO) for _, name in members if name.startswith(CRYPTO)))
        partial = folder / "archive.tar"
        with tarfile.open(partial, "w") as archive:
            text = json.dumps({"format": FORMAT, **manifest.__dict__}, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
            for path, name in members:
                archive.add(path, name)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, output)  # a backup is whole or absent, never half written over an older one
    return manifest


def read_manifest(archive: tarfile.TarFile, source: Path) -> Manifest:
    try:
        data = json.loads(archive.extractfile(MANIFEST).read())
        if data.get("format") != FORMAT:
            raise BackupError(f"{shown_path(source)} is a backup of another format ({data.get('format')!r})")
        return Manifest(data["taken_at"], data["schema_version"], tuple(data["crypto_store"]))
    except (KeyError, AttributeError, TypeError, ValueError):
        raise BackupError(f"{shown_path(source)} is no consent-bot backup (no readable {MANIFEST})") from None


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    database: Path | None
    """Where the register was put back (None: the archive holds none)."""
    set_aside: tuple[Path, ...]
    """The files the restore moved out of the way (the register it replaced)."""
    crypto_restored: tuple[str, ...]
    crypto_kept: tuple[str, ...]
    """Encryption store files already in place, kept rather than replaced by older ones."""


def restore(source: Path, database: Path | None, crypto_store: Path | None, newest_schema: int) -> Restored:
    """Put the archive ``source`` back: its register at ``database`` (SQLite), its encryption store in the folder
    ``crypto_store`` where that has none. Refused while a bot acts on the register (DatabaseBusy)."""
    try:
        archive = tarfile.open(source, "r")
    except tarfile.TarError:
        raise BackupError(f"{shown_path(source)} is no consent-bot backup (not an archive)") from None
    except OSError as error:
        raise BackupError(f"cannot read {shown_path(source)}: {error.strerror}") from None
    with archive:
        manifest = read_manifest(archive, source)
        if manifest.schema_version is not None and manifest.schema_version > newest_schema:
            raise BackupError(f"{shown_path(source)} was taken by a newer consent-bot (register version "
                              f"{manifest.schema_version}, this one knows {newest_schema}): restore it with that "
                              "version")
        if manifest.schema_version is not None and database is None:
            raise BackupError(f"{shown_path(source)} holds a SQLite register, but storage.url names a PostgreSQL "
                              "database: give storage.path to restore it")
        restored_at: Path | None = None
        set_aside: tuple[Path, ...] = ()
        hold = SqliteHold(database) if database is not None and manifest.schema_version is not None else None
        if hold is not None:
            hold.take()
        try:
            if hold is not None:
                set_aside = _put_database(archive, source, database)
                restored_at = database
            done, kept = _put_crypto_store(archive, manifest, crypto_store)
        finally:
            if hold is not None:
                hold.release()
    return Restored(manifest, restored_at, set_aside, done, kept)


def _extract(archive: tarfile.TarFile, name: str, target: Path) -> None:
    """One file of the archive written at ``target`` through a temporary file beside it, synced, then renamed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as out:
        try:
            out.write(archive.extractfile(name).read())
            out.flush()
            os.fsync(out.fileno())
        except BaseException:
            os.unlink(out.name)
            raise
    os.replace(out.name, target)


def _put_database(archive: tarfile.TarFile, source: Path, database: Path) -> tuple[Path, ...]:
    """The archive's register in place of ``database``, checked whole first; the files it replaces set aside."""
    with tempfile.TemporaryDirectory(dir=database.parent if database.parent.is_dir() else None) as work:
        candidate = Path(work) / DATABASE
        _extract(archive, DATABASE, candidate)
        with sqlite3.connect(candidate) as db:
            verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(f"the register in {shown_path(source)} is damaged ({verdict[:200]}): nothing was changed")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        set_aside = []
        for suffix in ("", *SQLITE_SIDE_FILES):
            present = database.with_name(database.name + suffix)
            if present.exists():
                aside = database.with_name(f"{database.name}.before-restore-{stamp}{suffix}")
                present.rename(aside)
                set_aside.append(aside)
        database.parent.mkdir(parents=True, exist_ok=True)
        os.replace(candidate, database)
    return tuple(set_aside)


def _put_crypto_store(archive: tarfile.TarFile, manifest: Manifest,
                      folder: Path | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if folder is None or not manifest.crypto_store:
        return (), ()
    restored, kept = [], []
    for name in manifest.crypto_store:
        target = folder / name
        if target.exists():
            kept.append(name)
        else:
            _extract(archive, CRYPTO + name, target)
            restored.append(name)
    return tuple(restored), tuple(kept)
