"""What serving loads: only what it needs, the rest on demand (start-up time and memory)."""

from __future__ import annotations

import json
import subprocess
import sys

# Loaded by nothing the daemon does before its first answer.
NOT_FOR_SERVING = {
    "click",  # uvicorn's command line
    "multiprocessing",  # uvicorn's reload and worker supervisors
    "watchfiles",
    "uvicorn.main",
    # (importlib.metadata is not listed: pydantic's plugin loader imports it whatever we do;
    # agentapi.__version__ no longer does at import.)
    "agentapi.server.openapi",  # built on the first GET /openapi.json
    "agentapi.client",
    "agentapi.client.attach",
    "aiohttp",
    "httpx",
}


def _loaded_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_daemon_module_loads_nothing_serving_does_not_need() -> None:
    loaded = _loaded_after("import agentapi.cli.main, agentapi.cli.daemon")
    assert "uvicorn.server" in loaded  # the probe saw the daemon's imports
    assert loaded & NOT_FOR_SERVING == set()


def test_uvicorn_stays_whole_for_other_users_in_the_process() -> None:
    loaded = _loaded_after(
        "import agentapi.cli.daemon, uvicorn\n"
        "assert callable(uvicorn.run) and uvicorn.Config.__module__ == 'uvicorn.config'"
    )
    assert "uvicorn.main" in loaded


def test_the_version_is_still_there_when_asked() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import agentapi; print(agentapi.__version__)"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.strip() == "0.13.0"
