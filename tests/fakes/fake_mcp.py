"""A stdio MCP server with one tool, ``coder_report_task``, like the one agents get from Coder.

Agents start it as a child process and speak newline-delimited JSON-RPC 2.0 on its stdin
and stdout. Each tool call is appended as one JSON line to the file named by ``--log``, so a
test can check what the agent reported.

    python -m tests.fakes.fake_mcp --log calls.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

SERVER_NAME = "coder"
TOOL_NAME = "coder_report_task"
DEFAULT_PROTOCOL = "2025-06-18"

REPORT_TASK_TOOL = {
    "name": TOOL_NAME,
    "description": (
        "Report the status of your current task to the user: call it when you start, "
        "finish or get stuck."
    ),
    "inputSchema": {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "description": "A short summary of the task state."},
            "link": {"type": "string", "description": "A link to relevant work, if any."},
            "state": {"type": "string", "enum": ["working", "complete", "failure"]},
        },
        "required": ["summary", "state"],
    },
}


def _result(request_id: Any, result: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


def handle(message: dict[str, Any], log: Path | None) -> dict[str, Any] | None:
    """The answer to one JSON-RPC message (None for notifications)."""
    method = message.get("method")
    request_id = message.get("id")
    params = message.get("params") or {}
    if request_id is None:
        return None
    if method == "initialize":
        return _result(
            request_id,
            {
                "protocolVersion": params.get("protocolVersion", DEFAULT_PROTOCOL),
                "capabilities": {"tools": {"listChanged": False}},
                "serverInfo": {"name": SERVER_NAME, "version": "1.0.0"},
            },
        )
    if method == "ping":
        return _result(request_id, {})
    if method == "tools/list":
        return _result(request_id, {"tools": [REPORT_TASK_TOOL]})
    if method == "tools/call":
        if params.get("name") != TOOL_NAME:
            return _error(request_id, -32602, f"unknown tool {params.get('name')!r}")
        arguments = params.get("arguments") or {}
        if log is not None:
            with log.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"tool": TOOL_NAME, "arguments": arguments}) + "\n")
        return _result(
            request_id,
            {"content": [{"type": "text", "text": "Thanks, reported."}], "isError": False},
        )
    if method in ("resources/list", "prompts/list"):
        key = method.split("/", 1)[0]
        return _result(request_id, {key: []})
    return _error(request_id, -32601, f"method not found: {method}")


def serve(stdin: TextIO, stdout: TextIO, log: Path | None) -> None:
    for line in stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            answer: dict[str, Any] | None = _error(None, -32700, "parse error")
        else:
            answer = handle(message, log) if isinstance(message, dict) else None
        if answer is not None:
            stdout.write(json.dumps(answer) + "\n")
            stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fake_mcp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--log", type=Path, help="append each tool call to this file")
    args = parser.parse_args(argv)
    serve(sys.stdin, sys.stdout, args.log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
