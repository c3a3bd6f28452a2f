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
    # The wire bodies and adapter specs are plain dataclasses (agentapi.records): the schema
    # library costs ~10 MiB and ~100 ms and is loaded only for the OpenAPI document.
    "pydantic",
    "pydantic_core",
    "importlib.metadata",  # pydantic's plugin loader and the version lookup
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


# What a daemon does up to its first answers: choose an adapter, answer /status, take a
# message, send an event, save and restore the transcript.
SERVING = """
import agentapi.cli.main, agentapi.cli.daemon
from agentapi.adapters import default_registry
from agentapi.messages import *
from agentapi.session.statefile import decode_state, encode_state
from datetime import datetime, UTC
adapter = default_registry().lookup("claude")
identity = AgentIdentity(agent_type="claude", adapter="claude", agent_name="Claude Code")
identity.status_body(AgentStatus.STABLE).to_json()
MessageRequestBody.from_wire({"content": "hi", "type": "user"})
message = Message(id=0, content="hi", role=ConversationRole.USER, time=datetime.now(UTC))
MessageUpdateBody.of(message).to_json()
"""


def test_the_daemon_module_loads_nothing_serving_does_not_need() -> None:
    loaded = _loaded_after(SERVING)
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
