"""Small real file systems for disk-fault tests: a tmpfs that can be filled or made read-only.

Mounting needs root (or CAP_SYS_ADMIN); where it is not allowed the test is skipped with
the reason, never faked.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)


class SmallDisk:
    """A tmpfs of ``size`` mounted at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / ".filler"

    def read_only(self) -> None:
        self._remount("ro")

    def writable(self) -> None:
        self._remount("rw")

    def _remount(self, mode: str) -> None:
        result = _run("mount", "-o", f"remount,{mode}", str(self.path))
        assert result.returncode == 0, result.stderr

    def fill(self) -> None:
        """Write until the disk is full (ENOSPC): nothing more fits, not even a small file."""
        with open(self._filler, "ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 1024)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc
        # tmpfs counts inodes too; a small file may still fit in a partly used page.
        for n in range(64):
            try:
                (self.path / f".filler-{n}").write_bytes(b"\0" * 64)
            except OSError:
                break

    def free(self) -> None:
        for item in self.path.glob(".filler*"):
            item.unlink()


@contextlib.contextmanager
def small_disk(path: Path, size: str = "64k") -> Iterator[SmallDisk]:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    result = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path))
    if result.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {result.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        # Lazy: a daemon that is still being stopped may hold the folder open.
        _run("umount", "-l", str(path))
