"""Fixtures for the real-agent end-to-end tests.

Each agent costs a start-up of several seconds, so one daemon per agent (and per xdist
worker) is shared by all checks of that agent: ``agent_run`` is module-scoped and
parametrised, so pytest runs one agent's checks together. Every check only assumes that
the daemon was started with the initial prompt; if an earlier check stopped it (the
shutdown check) or it crashed, the next check starts a fresh one in the same HOME.

Under pytest-xdist, each worker starts the agents it receives checks for (plain ``-n 2``
may split one agent's checks over both workers: correct, just more start-ups);
``--dist loadscope`` keeps the whole file, and so each agent, on one worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e._harness import INITIAL_PROMPT, INITIAL_REPLY, AgentRun
from tests.e2e.agents import AGENT_NAMES, installed


def agent_params() -> list[pytest.ParameterSet]:
    return [
        pytest.param(
            name,
            id=name,
            marks=pytest.mark.skipif(
                not installed(name),
                reason=f"{name} CLI not installed: run scripts/install-agents.sh {name}",
            ),
        )
        for name in AGENT_NAMES
    ]


@pytest.fixture(scope="module", params=agent_params())
def agent_run(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AgentRun]:
    name = str(request.param)
    run = AgentRun(name, tmp_path_factory.mktemp(f"e2e-{name}"), INITIAL_PROMPT, INITIAL_REPLY)
    try:
        yield run
    finally:
        run.close()


@pytest.fixture
def agent(agent_run: AgentRun) -> AgentRun:
    """The shared daemon for this agent, (re)started and settled."""
    return agent_run.ensure_started()
