"""The pid file: written atomically, refused when a live process owns it, stale ones replaced."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentapi.session import pidfile
from agentapi.session.pidfile import PidFile, PidFileError


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(["sleep", "30"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_acquire_writes_our_pid_and_a_newline(tmp_path: Path) -> None:
    path = tmp_path / "run" / "deep" / "agentapi.pid"
    pid_file = PidFile.acquire(path)
    assert path.read_bytes() == f"{os.getpid()}\n".encode()
    assert pid_file.path == path
    assert pid_file.stale_pid is None
    assert sorted(p.name for p in path.parent.iterdir()) == ["agentapi.pid"]
    pid_file.release()
    assert not path.exists()
    pid_file.release()  # idempotent


def test_a_live_process_keeps_the_file(tmp_path: Path, sleeper: subprocess.Popen[bytes]) -> None:
    path = tmp_path / "agentapi.pid"
    path.write_text(f"{sleeper.pid}\n")
    with pytest.raises(PidFileError) as info:
        PidFile.acquire(path)
    assert str(info.value) == (
        f"pid file {path} names a running process ({sleeper.pid}): another agentapi is using it"
    )
    assert path.read_text() == f"{sleeper.pid}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agentapi.pid"]


def test_a_process_we_may_not_signal_counts_as_alive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def eperm(pid: int, sig: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(pidfile.os, "kill", eperm)
    path = tmp_path / "agentapi.pid"
    path.write_text("424242\n")
    with pytest.raises(PidFileError, match="names a running process"):
        PidFile.acquire(path)


def test_a_dead_pid_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "agentapi.pid"
    gone = dead_pid()
    path.write_text(f"{gone}\n")
    pid_file = PidFile.acquire(path)
    assert pid_file.stale_pid == gone
    assert path.read_text() == f"{os.getpid()}\n"
    pid_file.release()


@pytest.mark.parametrize("content", [b"", b"garbage\n", b"-5\n", b"0\n", b"\x00\xff" * 100])
def test_garbage_is_replaced(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "agentapi.pid"
    path.write_bytes(content)
    pid_file = PidFile.acquire(path)
    assert pid_file.stale_pid == 0
    assert path.read_text() == f"{os.getpid()}\n"


def test_our_own_pid_is_stale(tmp_path: Path) -> None:
    # A restarted container can give the new daemon the old one's pid.
    path = tmp_path / "agentapi.pid"
    path.write_text(f"{os.getpid()}")
    pid_file = PidFile.acquire(path)
    assert pid_file.stale_pid == os.getpid()
    assert path.read_text() == f"{os.getpid()}\n"


def test_release_leaves_someone_elses_file(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    path = tmp_path / "agentapi.pid"
    pid_file = PidFile.acquire(path)
    # Another daemon took the file over (after ours was removed by hand, say).
    path.write_text(f"{sleeper.pid}\n")
    pid_file.release()
    assert path.read_text() == f"{sleeper.pid}\n"


def test_release_when_the_file_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "agentapi.pid"
    pid_file = PidFile.acquire(path)
    path.unlink()
    pid_file.release()
    assert not path.exists()


def test_works_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(1, "Operation not permitted")

    monkeypatch.setattr(pidfile.os, "link", no_links)
    path = tmp_path / "agentapi.pid"
    path.write_text(f"{dead_pid()}\n")
    pid_file = PidFile.acquire(path)
    assert path.read_text() == f"{os.getpid()}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["agentapi.pid"]
    pid_file.release()
    assert not path.exists()


def test_a_zombie_is_not_alive() -> None:
    proc = subprocess.Popen(["true"])
    # Not reaped yet: a zombie, which still answers kill(pid, 0).
    os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
    try:
        if not Path(f"/proc/{proc.pid}/stat").exists():
            pytest.skip("no /proc to tell zombies apart")
        assert pidfile.process_alive(proc.pid) is False
    finally:
        proc.wait()


def test_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(PidFileError) as info:
        PidFile.acquire(blocker / "agentapi.pid")
    assert str(info.value).startswith(f"pid file {blocker / 'agentapi.pid'}: cannot create")
