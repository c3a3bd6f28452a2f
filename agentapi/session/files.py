"""Writing the files a session keeps (the state file, the pid file) so that a crash leaves
either the old file or the new one, whole, and never a half-written one."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and any missing parents with mode 0700.

    ``Path.mkdir(parents=True)`` gives the parents default permissions; a transcript may
    hold secrets, so every folder created for it is private.
    """
    missing: list[Path] = []
    probe = folder
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for item in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(item, 0o700)


def write_temp(folder: Path, name: str, data: bytes, mode: int) -> str:
    """Write ``data`` to a new temporary file beside ``name`` in ``folder``, synced to disk
    and given ``mode``; returns its path. Nothing is left behind when this fails."""
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    return temp_name


def fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        # Some file systems cannot sync a folder; the rename itself has still happened.
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so that a crash leaves the old or the new file, whole."""
    folder = path.parent
    make_private_folder(folder)
    temp_name = write_temp(folder, path.name, data, mode)
    try:
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    fsync_folder(folder)


def reason(exc: OSError) -> str:
    """An OSError's reason as the tail of a sentence: "permission denied"."""
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]
