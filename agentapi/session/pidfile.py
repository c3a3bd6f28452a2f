"""The pid file: names the running daemon, and keeps a second one from using the same file."""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

from agentapi.errors import PidFileError, PidFileUnwritable
from agentapi.session.files import reason as _reason
from agentapi.session.files import write_temp


def _read_pid(path: Path) -> int | None:
    """The pid the file names, or None when its content is not a pid.

    Raises FileNotFoundError when the file has gone.
    """
    raw = path.read_bytes()
    # A pid file is small; anything large is not one of ours.
    if len(raw) > 64:
        return None
    text = raw.decode("ascii", errors="replace").strip()
    if not text.isdigit():
        return None
    pid = int(text)
    return pid if pid > 0 else None


def _is_zombie(pid: int) -> bool:
    # A zombie still answers kill(pid, 0) but will never use the file again.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # The state letter follows the command name, which is in parentheses and may hold spaces.
    tail = stat.rpartition(")")[2].split()
    return bool(tail) and tail[0] in ("Z", "X")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        # Exists, owned by someone else.
        return True
    return not _is_zombie(pid)


_NO_LINK_ERRNOS = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK})


def _create_exclusive(path: Path, temp_name: str) -> None:
    """Create ``path`` with the temp file's content; FileExistsError if it exists."""
    try:
        # A hard link appears whole and fails if the file exists: an atomic, exclusive
        # create that never shows a half-written pid.
        os.link(temp_name, path)
        return
    except OSError as exc:
        if exc.errno not in _NO_LINK_ERRNOS:
            raise
    # No hard links on this file system: exclusive create, then write (a short pid fits
    # in one write, so a reader sees at most an empty file for an instant).
    content = Path(temp_name).read_bytes()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class PidFile:
    path: Path
    pid: int
    # Set when a stale file was replaced: the dead process it named, or 0 when the file
    # held no pid at all (empty or garbage), so the caller can warn.
    stale_pid: int | None = None
    _released: bool = field(default=False, init=False, repr=False)

    @classmethod
    def acquire(cls, path: Path) -> PidFile:
        """Write our pid to ``path``, refusing when the file names another live process.

        The file's own pid counts as stale: in a restarted container the previous daemon
        often had the same pid as this one, and no other process can be this process.
        """
        path = Path(os.path.abspath(path))
        pid = os.getpid()
        content = f"{pid}\n".encode("ascii")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PidFileUnwritable(
                f"pid file {path}: cannot create its folder: {_reason(exc)}"
            ) from exc
        try:
            temp_name = write_temp(path.parent, path.name, content, 0o644)
        except OSError as exc:
            raise PidFileUnwritable(f"pid file {path} cannot be written: {_reason(exc)}") from exc
        try:
            stale = cls._place(path, temp_name, pid)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp_name)
        return cls(path=path, pid=pid, stale_pid=stale)

    @staticmethod
    def _place(path: Path, temp_name: str, pid: int) -> int | None:
        stale: int | None = None
        # A few rounds: another starter may create or remove the file between our steps.
        for _ in range(10):
            try:
                _create_exclusive(path, temp_name)
                return stale
            except FileExistsError:
                pass
            except OSError as exc:
                raise PidFileUnwritable(
                    f"pid file {path} cannot be written: {_reason(exc)}"
                ) from exc
            try:
                owner = _read_pid(path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise PidFileError(f"pid file {path} cannot be read: {_reason(exc)}") from exc
            if owner is not None and owner != pid and process_alive(owner):
                raise PidFileError(
                    f"pid file {path} names a running process ({owner}): "
                    "another agentapi is using it"
                )
            # Stale: remove it only if it still holds what we judged, then retry the
            # exclusive create, so two starters replacing the same stale file cannot both win.
            try:
                if _read_pid(path) != owner:
                    continue
                os.unlink(path)
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise PidFileUnwritable(
                    f"pid file {path} is stale but cannot be removed: {_reason(exc)}"
                ) from exc
            stale = owner if owner is not None else 0
        raise PidFileError(f"pid file {path} keeps changing: another agentapi is starting")

    def release(self) -> None:
        """Remove the file if it still names this process; safe to call more than once."""
        if self._released:
            return
        self._released = True
        try:
            if _read_pid(self.path) == self.pid:
                self.path.unlink()
        except OSError:
            # Already gone, or no longer ours to remove.
            pass
