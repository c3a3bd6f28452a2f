"""Finding every process the agent started, so that none outlives the daemon.

A process group is not enough: an agent's helper may call ``setsid`` (Codex's app-server
does), which takes it out of the agent's group and session, and once the agent has exited
its orphans are re-parented away from it. So the daemon:

- marks itself a *child subreaper* (Linux ``PR_SET_CHILD_SUBREAPER``): orphans of the agent
  are re-parented to the daemon instead of to init, and stay findable as its descendants;
- reads ``/proc`` for the agent's process tree (by parent) and its session (by session id);
- asks the kernel to SIGKILL the agent if the daemon itself dies (``PR_SET_PDEATHSIG``), as
  a daemon killed with SIGKILL has no chance to stop it.

Linux only; elsewhere these are no-ops and the process group is all there is.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("agentapi.terminal.procs")

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


@functools.cache
def _libc() -> ctypes.CDLL | None:
    # The C library the interpreter already runs on (dlopen(NULL)). ctypes.util.find_library
    # runs ldconfig in a subprocess: twice per start, once of them in the agent's preexec.
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _prctl(option: int, value: int) -> bool:
    libc = _libc()
    try:
        return libc is not None and int(libc.prctl(option, value, 0, 0, 0)) == 0
    except AttributeError:
        return False


def become_subreaper() -> bool:
    """Adopt the orphans of our descendants (True when the kernel agreed)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def die_with_parent(parent_pid: int) -> None:
    """In a forked child before exec: SIGKILL when the parent dies (even by SIGKILL)."""
    _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    # The parent may have died between fork and prctl: then nobody would signal us.
    if os.getppid() != parent_pid:
        os._exit(1)


@dataclass(frozen=True)
class ProcInfo:
    pid: int
    ppid: int
    session: int
    state: str


def process_table() -> dict[int, ProcInfo]:
    """Every process we can see, from ``/proc/PID/stat``."""
    table: dict[int, ProcInfo] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return table
    for name in entries:
        if not name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{name}/stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue  # gone meanwhile
        # The command name is in parentheses and may hold spaces or parentheses.
        fields = raw[raw.rfind(")") + 2 :].split()
        if len(fields) < 4:
            continue
        table[int(name)] = ProcInfo(int(name), int(fields[1]), int(fields[3]), fields[0])
    return table


def descendants(roots: set[int], table: dict[int, ProcInfo]) -> set[int]:
    """Every process below ``roots`` in the parent tree (the roots excluded)."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: set[int] = set()
    todo = list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found and child not in roots:
                found.add(child)
                todo.append(child)
    return found


class ProcessTree:
    """The agent's processes: its session, its descendants and the orphans we adopted."""

    def __init__(self, agent_pid: int, *, adopted_ok: bool) -> None:
        self.agent_pid = agent_pid
        self._me = os.getpid()
        # Our children from before the agent started are not the agent's.
        self._ours_before = (
            {p.pid for p in process_table().values() if p.ppid == self._me} if adopted_ok else None
        )

    def members(self) -> set[int]:
        """Live processes that belong to the agent (the agent itself included if alive)."""
        table = process_table()
        roots = {self.agent_pid}
        if self._ours_before is not None:
            # Orphans re-parented to us (subreaper) are the agent's leftovers.
            roots |= {
                p.pid
                for p in table.values()
                if p.ppid == self._me and p.pid not in self._ours_before
            }
        found = roots | descendants(roots, table)
        found |= {p.pid for p in table.values() if p.session == self.agent_pid}
        found.discard(self._me)
        return {pid for pid in found if pid in table and table[pid].state not in ("Z", "X")}

    def signal_all(self, sig: signal.Signals) -> set[int]:
        """Send ``sig`` to every live member but the agent; returns their pids."""
        alive = self.members() - {self.agent_pid}
        for pid in alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        return alive

    def kill_all(self, wait_s: float = 1.0) -> set[int]:
        """SIGKILL every member but the agent, again while new ones appear (a fork racing
        the kill), until none is left or ``wait_s`` has passed; returns the pids killed."""
        killed: set[int] = set()
        deadline = time.monotonic() + wait_s
        while True:
            alive = self.signal_all(signal.SIGKILL)
            killed |= alive
            if not alive or time.monotonic() >= deadline:
                break
            time.sleep(0.01)
        self.reap_adopted()
        if killed:
            log.info("killed %d process(es) the agent left behind", len(killed))
        return killed

    def reap_adopted(self) -> None:
        """Collect exit statuses of adopted orphans, so none stays a zombie of ours."""
        if self._ours_before is None:
            return
        for info in process_table().values():
            if (
                info.ppid == self._me
                and info.pid != self.agent_pid
                and info.pid not in self._ours_before
                and info.state in ("Z", "X")
            ):
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(info.pid, os.WNOHANG)
