"""Each failure of a client command has its own exit code, distinct from the others."""

from agentapi.client import (
    AgentBusy,
    AgentDidNotReact,
    AgentExited,
    ConnectionFailed,
    ProblemError,
    WaitTimeout,
)
from agentapi.client.commands import (
    AGENT_DOWN,
    BUSY,
    FAILED,
    TIMED_OUT,
    UNREACHABLE,
    USAGE,
    exit_code_for,
)


def test_exit_codes_are_distinct_and_each_error_has_its_own():
    assert len({FAILED, USAGE, UNREACHABLE, BUSY, TIMED_OUT, AGENT_DOWN, 0}) == 7
    assert exit_code_for(AgentBusy(409, "Agent busy", "")) == BUSY
    assert exit_code_for(ConnectionFailed("cannot reach")) == UNREACHABLE
    assert exit_code_for(WaitTimeout("not stable")) == TIMED_OUT
    assert exit_code_for(AgentDidNotReact(504, "Agent did not react", "")) == AGENT_DOWN
    assert exit_code_for(AgentExited(503, "Agent not running", "")) == AGENT_DOWN
    assert exit_code_for(ProblemError(503, "Agent not running", "")) == AGENT_DOWN
    assert exit_code_for(ProblemError(422, "Unprocessable Entity", "")) == FAILED
