"""Command-line flags and AGENTAPI_* variables for ``agentapi server``.

Compatible with the original's parser: every flag before ``--`` belongs to
agentapi wherever it stands; everything after ``--`` goes to the agent
untouched; a flag given on the command line wins over its variable; a
variable that is set but empty counts as unset; list values are
comma-separated in flags and space-separated in variables; boolean flags
accept ``--flag``, ``--flag=true`` and ``--flag=false``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from agentapi.cli.bind import DEFAULT_BIND, parse_bind
from agentapi.errors import UsageError
from agentapi.hosts import (
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_ALLOWED_ORIGINS,
    parse_allowed_hosts,
    parse_allowed_origins,
)
from agentapi.messages import ORIGINAL_AGENT_TYPES

DEFAULT_PORT = 3284
MIN_TERM_SIZE = 10
DEFAULT_READY_TIMEOUT_S = 30

__all__ = ["FLAGS", "ServerOptions", "UsageError", "parse_server_args", "server_help"]


@dataclass
class ServerOptions:
    agent: list[str]
    agent_type: str | None = None
    port: int = DEFAULT_PORT
    bind: str = DEFAULT_BIND
    auth_token: str = ""
    auth_open_status: bool = False
    print_openapi: bool = False
    chat_base_path: str = "/chat"
    term_width: int = 80
    term_height: int = 1000
    allowed_hosts: list[str] = field(default_factory=lambda: list(DEFAULT_ALLOWED_HOSTS))
    allowed_origins: list[str] = field(default_factory=lambda: list(DEFAULT_ALLOWED_ORIGINS))
    initial_prompt: str = ""
    state_file: Path | None = None
    load_state: bool = False
    save_state: bool = False
    pid_file: Path | None = None
    experimental_acp: bool = False
    mcp: bool = False
    acp_permissions: str = "allow"
    acp_permission_timeout: float = 300.0
    acp_start_timeout: float = 60.0
    mcp_file: Path | None = None
    adapter_files: list[Path] = field(default_factory=list)
    ready_timeout: int = DEFAULT_READY_TIMEOUT_S


class Kind(Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOL = "bool"
    LIST = "list"  # comma-separated in a flag, space-separated in a variable
    PATHS = "paths"  # a repeatable flag; space-separated in a variable


@dataclass(frozen=True)
class Flag:
    long: str
    short: str | None
    kind: Kind
    help: str

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    @property
    def env(self) -> str:
        return "AGENTAPI_" + self.dest.upper()


FLAGS: tuple[Flag, ...] = (
    Flag(
        "type",
        "t",
        Kind.TEXT,
        f"override the agent type (one of: {', '.join(ORIGINAL_AGENT_TYPES)}; or demo, or the"
        " name of an --adapter spec; guessed from the agent command if not given)",
    ),
    Flag("port", "p", Kind.NUMBER, f"HTTP port (default {DEFAULT_PORT})"),
    Flag("bind", None, Kind.TEXT, "address to listen on: localhost (default), * or an IP"),
    Flag("auth-token", None, Kind.TEXT, "require this token (Bearer header or chat-page cookie)"),
    Flag("auth-open-status", None, Kind.BOOL, "let GET /status answer without the token"),
    Flag("print-openapi", "P", Kind.BOOL, "print the OpenAPI document and exit"),
    Flag("chat-base-path", "c", Kind.TEXT, "base path of the chat page (default /chat)"),
    Flag("term-width", "W", Kind.NUMBER, "terminal width (default 80, at least 10)"),
    Flag("term-height", "H", Kind.NUMBER, "terminal height (default 1000, at least 10)"),
    Flag("allowed-hosts", "a", Kind.LIST, "allowed Host header names, or *"),
    Flag("allowed-origins", "o", Kind.LIST, "allowed CORS origins, or *"),
    Flag("initial-prompt", "I", Kind.TEXT, "prompt typed once the agent is ready (default: stdin)"),
    Flag("state-file", "s", Kind.TEXT, "file to save and restore the conversation"),
    Flag("load-state", None, Kind.BOOL, "restore the conversation (default: with --state-file)"),
    Flag("save-state", None, Kind.BOOL, "save the conversation (default: with --state-file)"),
    Flag("pid-file", None, Kind.TEXT, "write the daemon's PID to this file"),
    Flag("experimental-acp", None, Kind.BOOL, "talk to the agent over the Agent Client Protocol"),
    Flag("adapter", None, Kind.PATHS, "load an adapter spec file (may be repeated)"),
    Flag(
        "ready-timeout",
        None,
        Kind.NUMBER,
        "seconds of a settled screen without the agent's input box before the status is"
        f" 'stable' anyway, with a warning (default {DEFAULT_READY_TIMEOUT_S})",
    ),
    Flag("acp-permissions", None, Kind.TEXT, "ACP: answer permission requests allow|deny|ask"),
    Flag(
        "acp-permission-timeout",
        None,
        Kind.TEXT,
        "ACP: seconds an asked permission waits for an answer before it is refused (300)",
    ),
    Flag(
        "acp-start-timeout",
        None,
        Kind.TEXT,
        "ACP: seconds the agent has to answer initialize and session/new (60)",
    ),
    Flag("mcp-file", None, Kind.TEXT, "ACP: JSON file with mcpServers to give the agent"),
    Flag("mcp", None, Kind.BOOL, "also serve MCP tools for this agent at /mcp (streamable HTTP)"),
)
ACP_PERMISSIONS = ("allow", "deny", "ask")
_BY_LONG = {f.long: f for f in FLAGS}


@dataclass(frozen=True)
class Given:
    """A value as given, and where: the flag or the variable, for error messages."""

    value: str | list[str]
    source: str


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def parse_bool(text: str, what: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "t", "true", "yes", "y", "on"}:
        return True
    if value in {"0", "f", "false", "no", "n", "off"}:
        return False
    raise UsageError(f"invalid value {text!r} for {what}: expected true or false")


def _build_parser() -> _Parser:
    parser = _Parser(prog="agentapi server", add_help=True, allow_abbrev=False)
    for flag in FLAGS:
        names = [f"--{flag.long}"] + ([f"-{flag.short}"] if flag.short else [])
        if flag.kind is Kind.BOOL:
            parser.add_argument(*names, dest=flag.dest, action="store_const", const="true")
        elif flag.kind is Kind.PATHS:
            parser.add_argument(*names, dest=flag.dest, action="append", help=flag.help)
        else:
            parser.add_argument(*names, dest=flag.dest, help=flag.help)
    parser.add_argument("agent", nargs="*")
    return parser


def _split_bool_assignments(tokens: list[str]) -> tuple[list[str], dict[str, str]]:
    """Pull ``--flag=value`` out for boolean flags, which argparse would not accept."""
    rest: list[str] = []
    values: dict[str, str] = {}
    for token in tokens:
        if token.startswith("--") and "=" in token:
            name, value = token[2:].split("=", 1)
            flag = _BY_LONG.get(name)
            if flag is not None and flag.kind is Kind.BOOL:
                values[flag.dest] = value
                continue
        rest.append(token)
    return rest, values


def _from_flag(flag: Flag, value: str | list[str]) -> Given:
    if flag.kind is Kind.LIST and isinstance(value, str):
        value = value.split(",")
    return Given(value, f"--{flag.long}")


def _from_env(flag: Flag, text: str) -> Given:
    value: str | list[str] = text.split() if flag.kind in (Kind.LIST, Kind.PATHS) else text
    return Given(value, flag.env)


def parse_server_args(argv: Sequence[str], environ: Mapping[str, str]) -> ServerOptions:
    tokens = list(argv)
    if "--" in tokens:
        cut = tokens.index("--")
        ours, agent_tail = tokens[:cut], tokens[cut + 1 :]
    else:
        ours, agent_tail = tokens, []
    ours, bool_values = _split_bool_assignments(ours)
    namespace = _build_parser().parse_intermixed_args(ours)
    given: dict[str, Given] = {}
    for flag in FLAGS:
        value = bool_values.get(flag.dest, getattr(namespace, flag.dest))
        if value is not None:
            given[flag.dest] = _from_flag(flag, value)
        elif environ.get(flag.env, "").strip():
            given[flag.dest] = _from_env(flag, environ[flag.env])
    return _build_options(list(namespace.agent) + agent_tail, _Values(given))


class _Values:
    """Typed reads of what was given; every bad value is a UsageError naming its source."""

    def __init__(self, given: dict[str, Given]) -> None:
        self._given = given

    def text(self, dest: str, default: str = "") -> str:
        given = self._given.get(dest)
        return default if given is None else str(given.value)

    def number(self, dest: str, default: int) -> int:
        given = self._given.get(dest)
        if given is None:
            return default
        try:
            return int(str(given.value).strip())
        except ValueError:
            raise UsageError(
                f"invalid value {given.value!r} for {given.source}: expected a whole number"
            ) from None

    def seconds(self, dest: str, default: float) -> float:
        given = self._given.get(dest)
        if given is None:
            return default
        try:
            value = float(str(given.value).strip())
        except ValueError:
            value = -1.0
        if not 0 < value < float("inf"):
            raise UsageError(
                f"invalid value {given.value!r} for {given.source}: expected a number of seconds"
            )
        return value

    def boolean(self, dest: str) -> bool | None:
        given = self._given.get(dest)
        return None if given is None else parse_bool(str(given.value), given.source)

    def items(self, dest: str) -> list[str] | None:
        given = self._given.get(dest)
        if given is None:
            return None
        return [given.value] if isinstance(given.value, str) else list(given.value)

    def path(self, dest: str) -> Path | None:
        text = self.text(dest)
        return Path(text) if text else None


def _build_options(agent: list[str], values: _Values) -> ServerOptions:
    opts = ServerOptions(agent=agent)
    opts.agent_type = values.text("type") or None
    opts.port = values.number("port", DEFAULT_PORT)
    if not 0 <= opts.port <= 65535:
        raise UsageError(f"invalid port {opts.port}: must be between 0 and 65535")
    opts.bind = parse_bind(values.text("bind") or DEFAULT_BIND)
    opts.auth_token = values.text("auth_token").strip()
    opts.auth_open_status = bool(values.boolean("auth_open_status"))
    if opts.auth_open_status and not opts.auth_token:
        raise UsageError("--auth-open-status needs --auth-token")
    opts.print_openapi = bool(values.boolean("print_openapi"))
    opts.chat_base_path = values.text("chat_base_path") or "/chat"
    opts.term_width = values.number("term_width", 80)
    opts.term_height = values.number("term_height", 1000)
    for name, size in (("--term-width", opts.term_width), ("--term-height", opts.term_height)):
        if size < MIN_TERM_SIZE:
            raise UsageError(f"{name} must be at least {MIN_TERM_SIZE}, got {size}")
    hosts = values.items("allowed_hosts")
    if hosts is not None:
        opts.allowed_hosts = parse_allowed_hosts(hosts)
    origins = values.items("allowed_origins")
    if origins is not None:
        opts.allowed_origins = parse_allowed_origins(origins)
    opts.initial_prompt = values.text("initial_prompt")
    opts.state_file = values.path("state_file")
    load_state = values.boolean("load_state")
    save_state = values.boolean("save_state")
    if opts.state_file is None:
        if load_state:
            raise UsageError("--load-state requires --state-file")
        if save_state:
            raise UsageError("--save-state requires --state-file")
    opts.load_state = load_state if load_state is not None else opts.state_file is not None
    opts.save_state = save_state if save_state is not None else opts.state_file is not None
    opts.pid_file = values.path("pid_file")
    opts.experimental_acp = bool(values.boolean("experimental_acp"))
    opts.mcp = bool(values.boolean("mcp"))
    opts.adapter_files = [Path(p) for p in values.items("adapter") or []]
    opts.ready_timeout = values.number("ready_timeout", DEFAULT_READY_TIMEOUT_S)
    if opts.ready_timeout < 0:
        raise UsageError(f"--ready-timeout must not be negative, got {opts.ready_timeout}")
    opts.acp_permissions = (values.text("acp_permissions") or "allow").strip().lower()
    if opts.acp_permissions not in ACP_PERMISSIONS:
        raise UsageError(
            f"invalid value {values.text('acp_permissions')!r} for --acp-permissions: "
            "expected allow, deny or ask"
        )
    opts.acp_permission_timeout = values.seconds("acp_permission_timeout", 300.0)
    opts.acp_start_timeout = values.seconds("acp_start_timeout", 60.0)
    opts.mcp_file = values.path("mcp_file")
    if opts.experimental_acp and opts.print_openapi:
        raise UsageError("--experimental-acp cannot be combined with --print-openapi")
    if not opts.agent and not opts.print_openapi:
        raise UsageError("no agent command given: usage is agentapi server [flags] -- AGENT [ARGS]")
    return opts


def server_help() -> str:
    return _build_parser().format_help()
