"""``agentapi mcp``'s arguments, and the promise that nothing else imports the mcp package."""

import json
import subprocess
import sys

import pytest

from agentapi.errors import UsageError
from agentapi.mcp.tools import AgentTools, Daemon, UnknownAgent, parse_daemon


def test_daemons_are_named_by_name_or_by_host_and_port():
    assert parse_daemon("worker=localhost:3284") == Daemon("worker", "http://localhost:3284")
    assert parse_daemon("http://127.0.0.1:4000/") == Daemon(
        "127.0.0.1:4000", "http://127.0.0.1:4000"
    )
    # An = inside a URL is not a name.
    assert parse_daemon("http://h:1/?a=b").name == "h:1"
    with pytest.raises(UsageError, match="unsupported URL scheme"):
        parse_daemon("x=ftp://h")


async def test_the_agent_argument_picks_a_daemon_and_an_unknown_one_is_named():
    one = AgentTools([Daemon("solo", "http://127.0.0.1:1")])
    assert one._client("").base_url == "http://127.0.0.1:1"
    two = AgentTools([Daemon("a", "http://127.0.0.1:1"), Daemon("b", "http://127.0.0.1:2")])
    assert two._client("b").base_url == "http://127.0.0.1:2"
    with pytest.raises(UnknownAgent, match="the agents are 'a', 'b'"):
        two._client("")
    with pytest.raises(UnknownAgent, match="unknown agent 'c'"):
        two._client("c")
    await one.close()
    await two.close()


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "give at least one --url"),
        (["--url"], "--url needs a value"),
        (["--port", "1"], "unexpected argument '--port'"),
        (["--url", "a=h:1", "--url", "a=h:2"], "two daemons are named 'a'"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args, fragment):
    result = subprocess.run(
        [sys.executable, "-m", "agentapi", "mcp", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"agentapi mcp: {fragment}" or (
        result.stderr.startswith("agentapi mcp: ") and fragment in result.stderr
    )
    assert len(result.stderr.splitlines()) == 1


def test_the_daemon_and_the_client_commands_do_not_import_mcp():
    code = (
        "import sys, json; import agentapi.cli.main, agentapi.cli.daemon, "
        "agentapi.client.commands; print(json.dumps('mcp' in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) is False
