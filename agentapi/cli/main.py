"""The ``agentapi`` command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import sys
from collections.abc import Sequence

from agentapi.adapters import Adapter, default_registry
from agentapi.cli.config import ServerOptions, parse_server_args, server_help
from agentapi.errors import StartupError, UsageError
from agentapi.messages import wire_agent_type

USAGE = """usage: agentapi <command> [flags]

commands:
  server [flags] -- AGENT [ARGS...]   run AGENT under a terminal and serve its chat over HTTP
  attach [--url HOST:PORT]            show a running agent's terminal and type into it
  status [--wait stable]              print the agent's status (running or stable)
  send [--no-wait] [--raw] TEXT       send a message (or stdin) and print the reply
  messages [--follow] [--json]        print the conversation
  interrupt                           stop what the agent is doing
  mcp --url [NAME=]URL                serve MCP tools that drive agents, over stdio
  adapters                            list the known agent types
  --version                           print the version

Run 'agentapi server --help' for the server's flags, 'agentapi COMMAND --help' for the
others'. The client commands take --url (default localhost:3284)."""

CLIENT_COMMANDS = ("status", "send", "messages", "interrupt")


def _usage_error(message: str) -> int:
    print(f"agentapi: {message}", file=sys.stderr)
    return 2


def _read_piped_prompt() -> str:
    """The initial prompt from stdin, when stdin is a pipe or a file (never a terminal)."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return ""
    if not (stat.S_ISFIFO(mode) or stat.S_ISREG(mode)):
        return ""
    return sys.stdin.read().strip()


def _configure_logging() -> None:
    level = os.environ.get("AGENTAPI_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def run_server(argv: Sequence[str]) -> int:
    if any(a in ("-h", "--help") for a in argv[: argv.index("--") if "--" in argv else None]):
        print(server_help())
        return 0
    try:
        opts = parse_server_args(argv, os.environ)
        registry = default_registry(opts.adapter_files)
        if opts.mcp_file is not None:
            from agentapi.acp.mcp import load_mcp_file

            load_mcp_file(opts.mcp_file)  # checked now: a mistake is a usage error
    except UsageError as exc:  # adapter spec mistakes included
        return _usage_error(str(exc))
    if opts.print_openapi:
        from agentapi.server.openapi import build_openapi

        print(json.dumps(build_openapi(), indent=2))
        return 0
    if opts.agent_type:
        adapter = registry.lookup(opts.agent_type)
        if adapter is None:
            known = ", ".join(registry.names())
            return _usage_error(f"unknown agent type {opts.agent_type!r} (known: {known})")
    else:
        adapter = registry.guess(opts.agent[0])
    opts.initial_prompt = opts.initial_prompt.strip() or _read_piped_prompt()
    _configure_logging()
    return _run_daemon(opts, wire_agent_type(adapter.name), adapter)


def _run_daemon(opts: ServerOptions, agent_type: str, adapter: Adapter) -> int:
    from agentapi.cli.daemon import Daemon

    async def main() -> int:
        daemon = Daemon(opts, adapter, agent_type)
        return await daemon.run()

    try:
        return asyncio.run(main())
    except StartupError as exc:
        print(f"agentapi: {exc}", file=sys.stderr)
        return 1


def list_adapters() -> int:
    registry = default_registry()
    for adapter in registry.all():
        aliases = f" (aliases: {', '.join(adapter.aliases)})" if adapter.aliases else ""
        print(f"{adapter.name}{aliases}: {adapter.description}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in ("--version", "-v", "version"):
        from agentapi import __version__

        print(f"agentapi version {__version__}")
        return 0
    if command == "server":
        return run_server(rest)
    if command == "adapters":
        return list_adapters()
    if command in CLIENT_COMMANDS:
        from agentapi.client.commands import run_command

        return run_command(command, rest)
    if command == "mcp":
        from agentapi.mcp.server import run_mcp

        return run_mcp(rest)
    if command == "attach":
        from agentapi.client.attach import run_attach

        return run_attach(rest)
    return _usage_error(f"unknown command {command!r}; run 'agentapi --help'")
