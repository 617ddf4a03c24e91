"""`consent-bot backup` and `consent-bot restore`: what the operator is told (storage.backup does the work)."""

from __future__ import annotations

from pathlib import Path

from bot.config import Config
from storage.backup import backup, restore
from storage.repository import migrations
from storage.url import redacted


def _sqlite_database(config: Config) -> Path | None:
    return None if config.storage.url else Path(config.database)


def _crypto_store(config: Config) -> Path | None:
    return config.matrix.store_path if config.platform == "matrix" and config.matrix else None


def run_backup(config: Config, output: Path) -> None:
    """Raises BackupError, or OSError when the archive cannot be written."""
    manifest = backup(_sqlite_database(config), _crypto_store(config), output)
    held = ["the register"] if manifest.schema_version is not None else []
    if manifest.crypto_store:
        held.append(f"the encryption store ({', '.join(manifest.crypto_store)})")
    print(f"{output}: {' and '.join(held)}, as of {manifest.taken_at}.")
    if config.storage.url:
        print(f"The register is on PostgreSQL: back it up with pg_dump --format=custom --file=consent.dump "
              f"'{redacted(config.storage.url)}' (README, \"Backups\").")


def run_restore(config: Config, source: Path) -> None:
    """Raises BackupError, DatabaseBusy while a bot acts on the register, or OSError."""
    done = restore(source, _sqlite_database(config), _crypto_store(config), migrations("sqlite")[-1][0])
    if done.database is not None:
        print(f"{done.database}: the register as of {done.manifest.taken_at}.")
    for aside in done.set_aside:
        print(f"  the register it replaced: {aside}")
    if done.crypto_restored:
        print(f"The encryption store put back: {', '.join(done.crypto_restored)}.")
    if done.crypto_kept:
        print(f"The encryption store in place was kept (newer than the backup): {', '.join(done.crypto_kept)}.")
    print("At its next start the bot reads again, from the platform, everything that happened since the backup "
          "(README, \"Backups\", says what cannot come back).")
