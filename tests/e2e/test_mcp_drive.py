"""One agent driving another, offline: Claude Code uses ``agentapi mcp`` to talk to a
second daemon that runs the demo agent.

The fake LLM is scripted to make Claude call the ``send_message`` tool (the MCP server is
registered under the harness's name ``coder``, so the tool is ``mcp__coder__send_message``)
and then to answer. What is checked is what each side sees: the second daemon's
transcript holds the message Claude sent and the demo agent's reply; the tool's result,
which carries that reply, reaches the model on Claude's next request; and the first
daemon's transcript ends with Claude's answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.agents import installed, prepare
from tests.fakes.fake_llm import FakeLLM, Reply, ToolCall
from tests.http_helpers import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not installed("claude"), reason="claude not installed: run scripts/install-agents.sh"
    ),
]

ASK = "Ask the worker agent to say hello."
SENT = "hello from claude"
WORKER_REPLY = "● You said: hello from claude"
FINAL = "The worker agent answered: You said: hello from claude"


class Daemon:
    def __init__(self, argv: list[str], port: int, log: Path, **popen: object) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,  # type: ignore[call-overload]
        )
        self.http = httpx.Client(base_url=self.url, timeout=90)

    def wait_stable(self, timeout: float) -> None:
        """Through the status long-poll; retried while the daemon is not listening yet."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                answer = self.http.get("/status", params={"wait_for": "stable", "timeout": 5})
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if answer.json()["status"] == "stable":
                return
        raise AssertionError(f"not stable:\n{self.log()}")

    def messages(self) -> list[dict]:
        return list(self.http.get("/messages").json()["messages"])

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        self.http.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[tuple[FakeLLM, Daemon, Daemon]]:
    started: list[Daemon] = []
    llm = FakeLLM().start()
    try:
        port = free_port()
        demo = [sys.executable, "-m", "agentapi.demo_agent", "--think", "0.2"]
        server = [sys.executable, "-m", "agentapi", "server", "--port", str(port), "--"]
        worker = Daemon([*server, *demo], port, tmp_path / "worker.log")
        started.append(worker)
        mcp = [sys.executable, "-m", "agentapi", "mcp", "--url", f"worker={worker.url}"]
        launch = prepare("claude", llm.url, tmp_path / "claude", mcp_server=mcp)
        port = free_port()
        driver = Daemon(
            launch.daemon_argv(sys.executable, port),
            port,
            tmp_path / "driver.log",
            cwd=launch.cwd,
            env={**launch.env, "AGENTAPI_LOG_LEVEL": "DEBUG"},
        )
        started.append(driver)
        yield llm, driver, worker
    finally:
        for daemon in started:
            daemon.close()
        llm.stop()


def tool_names(body: dict) -> set[str]:
    return {str(t.get("name")) for t in body.get("tools") or [] if isinstance(t, dict)}


def wait_for_the_mcp_tools(llm: FakeLLM, driver: Daemon) -> None:
    """Claude Code starts its MCP servers in the background (ours imports for ~2 s): warm-up
    turns until a request to the model lists our tools, so the real turn can use them."""
    for attempt in range(5):
        before = len(llm.main_requests())
        llm.push(Reply("Ready."))
        sent = driver.http.post("/message", json={"content": f"warm up {attempt}", "type": "user"})
        assert sent.status_code == 200, sent.text
        request = llm.wait_for_main_requests(before + 1, timeout=60)[before]
        driver.wait_stable(60)
        if "mcp__coder__send_message" in tool_names(request.body):
            return
        time.sleep(1)
    raise AssertionError(f"the MCP tools never reached the model:\n{driver.log()}")


def test_claude_code_drives_the_demo_agent_through_the_mcp_server(daemons) -> None:
    llm, driver, worker = daemons
    worker.wait_stable(30)
    driver.wait_stable(90)
    wait_for_the_mcp_tools(llm, driver)
    before = len(llm.main_requests())
    call = ToolCall("send_message", {"content": SENT, "agent": "worker"})
    llm.push(Reply(tool_calls=[call]), Reply(FINAL))
    sent = driver.http.post("/message", json={"content": ASK, "type": "user"})
    assert sent.status_code == 200, sent.text
    mains = llm.wait_for_main_requests(before + 2, timeout=90)
    driver.wait_stable(90)

    # The second agent got the message and answered it.
    assert [m["content"] for m in worker.messages()[1:]] == [SENT, WORKER_REPLY]
    # The tool's result, with that answer, went back to the model.
    result = json.dumps(mains[before + 1].body, ensure_ascii=False)
    assert WORKER_REPLY in result, mains[before + 1].summary()
    # And the first daemon's transcript ends with Claude's answer.
    driver_messages = driver.messages()
    assert driver_messages[-2]["content"] == ASK
    assert driver_messages[-1]["content"] == f"● {FINAL}", driver_messages[-1]
