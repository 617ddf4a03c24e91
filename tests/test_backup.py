"""`consent-bot backup` and `restore` refuse what they cannot do with a clear answer (the whole cycle during a burst
of votes on a real homeserver: tests/matrix/test_backup.py)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent


def consent_bot(*arguments: str, input: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *arguments], input=input, capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def write_config(folder: Path, storage: dict) -> str:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump({"platform": "console", "storage": storage, "assembly": {"language": "en"}}))
    return str(path)


def test_a_console_register_backed_up_and_restored_over_a_damaged_one(tmp_path):
    config = write_config(tmp_path, {"path": "consent.db"})
    assert consent_bot("run", "--config", config, input="!propose Buy a kettle\n").returncode == 0
    assert consent_bot("backup", "--config", config, "--output", str(tmp_path / "b.tar")).returncode == 0
    (tmp_path / "consent.db").write_bytes(b"not a database any more")

    restored = consent_bot("restore", "--config", config, "--input", str(tmp_path / "b.tar"))
    assert restored.returncode == 0, restored.stderr
    [aside] = [path for path in tmp_path.glob("consent.db.before-restore-*") if not path.name.endswith(("wal", "shm"))]
    assert aside.read_bytes() == b"not a database any more"  # set aside, never deleted
    assert "#1 Buy a kettle: open" in consent_bot("run", "--config", config, input="!list\n").stdout


def test_what_cannot_be_backed_up_or_restored_is_said_not_crashed_on(tmp_path):
    config = write_config(tmp_path, {"path": "consent.db"})
    missing = consent_bot("backup", "--config", config, "--output", str(tmp_path / "b.tar"))
    assert (missing.returncode, missing.stderr.strip()) == (
        2, f"consent-bot backup: there is no database at {tmp_path / 'consent.db'}")

    postgres = write_config(tmp_path, {"url": "postgresql://consent:secret@db.example.org/consent"})
    refused = consent_bot("backup", "--config", postgres, "--output", str(tmp_path / "b.tar"))
    assert refused.returncode == 2 and "back it up with pg_dump" in refused.stderr and "secret" not in refused.stderr

    (tmp_path / "notes.txt").write_text("hello")
    for archive, why in ((tmp_path / "notes.txt", "is no consent-bot backup (not an archive)"),
                         (tmp_path / "nowhere.tar", "cannot read")):
        answer = consent_bot("restore", "--config", config, "--input", str(archive))
        assert answer.returncode == 2 and why in answer.stderr and "Traceback" not in answer.stderr
    with tarfile.open(tmp_path / "other.tar", "w") as other:
        other.add(tmp_path / "notes.txt", "notes.txt")
    answer = consent_bot("restore", "--config", config, "--input", str(tmp_path / "other.tar"))
    assert answer.returncode == 2 and "no readable MANIFEST.json" in answer.stderr
