"""The kernel settings the daemon asks for: subreaper, and death of the agent with it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import ctypes, os, signal, sys
from agentapi.terminal.procs import become_subreaper, die_with_parent
libc = ctypes.CDLL(None, use_errno=True)
value = ctypes.c_int(0)
assert become_subreaper()
libc.prctl(37, ctypes.byref(value), 0, 0, 0)  # PR_GET_CHILD_SUBREAPER
print("subreaper", value.value)
parent = os.getpid()
pid = os.fork()
if pid == 0:
    die_with_parent(parent)
    libc.prctl(2, ctypes.byref(value), 0, 0, 0)  # PR_GET_PDEATHSIG
    print("pdeathsig", value.value, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
print("ldconfig-free", "ctypes.util" not in sys.modules)
"""


def test_the_daemon_adopts_orphans_and_its_agent_dies_with_it() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], check=True, capture_output=True, text=True, timeout=30
    ).stdout.split("\n")
    assert "subreaper 1" in out
    assert "pdeathsig 9" in out  # SIGKILL
    # find_library would have run ldconfig in a subprocess (twice per start).
    assert "ldconfig-free True" in out
