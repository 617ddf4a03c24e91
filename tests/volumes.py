"""A small volume that fills up, for the tests of a database whose disk is full (the tests run as root, as CI does)."""

from __future__ import annotations

import contextlib
import errno
import subprocess
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def small_volume(folder: Path, size: str = "8m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``folder``, unmounted afterwards."""
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def fill(volume: Path) -> Path:
    """Fill the volume to its last byte; the file that does it (remove it to free the volume)."""
    filler = volume / "filler"
    with open(filler, "wb", buffering=0) as out:  # unbuffered: nothing left to write when it is closed
        for size in (65536, 512):  # then the last few bytes a smaller write still takes
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
    return filler
