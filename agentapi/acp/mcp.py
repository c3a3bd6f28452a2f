"""``--mcp-file``: the ``mcpServers`` JSON agents already use, as ACP ``session/new`` wants it.

Accepted, per server name: ``{"command", "args", "env": {NAME: VALUE}}`` (stdio),
``{"type": "http" | "sse", "url", "headers": {NAME: VALUE}}``, or Gemini's
``{"httpUrl"}``. The result is the protocol's JSON (lists of name/value pairs).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentapi.errors import UsageError


def _pairs(value: Any, where: str) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise UsageError(f"{where} must be an object of strings")
    return [{"name": str(k), "value": v} for k, v in value.items()]


def _server(name: str, spec: Any, source: Path) -> dict[str, Any]:
    where = f"{source}: mcpServers.{name}"
    if not isinstance(spec, dict):
        raise UsageError(f"{where} must be an object")
    if "command" in spec:
        args = spec.get("args", [])
        if not isinstance(spec["command"], str) or not isinstance(args, list):
            raise UsageError(f"{where}: command must be a string and args a list")
        return {
            "name": name,
            "command": spec["command"],
            "args": [str(a) for a in args],
            "env": _pairs(spec.get("env"), f"{where}.env"),
        }
    url = spec.get("httpUrl") or spec.get("url")
    if not isinstance(url, str) or not url:
        raise UsageError(f"{where} needs a command (stdio) or a url (http, sse)")
    kind = "http" if "httpUrl" in spec else str(spec.get("type", "http"))
    if kind not in ("http", "sse"):
        raise UsageError(f"{where}: type must be http or sse, not {kind!r}")
    return {
        "type": kind,
        "name": name,
        "url": url,
        "headers": _pairs(spec.get("headers"), f"{where}.headers"),
    }


def load_mcp_file(path: Path) -> list[dict[str, Any]]:
    """The servers in ``path``; a UsageError naming the file and the key if it is wrong."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read the MCP file {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"the MCP file {path} is not valid JSON: {exc}") from None
    servers = document.get("mcpServers") if isinstance(document, dict) else None
    if not isinstance(servers, dict):
        raise UsageError(f"the MCP file {path} has no mcpServers object")
    return [_server(str(name), spec, path) for name, spec in servers.items()]
