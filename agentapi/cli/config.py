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
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agentapi.server.security import (
    DEFAULT_ALLOWED_HOSTS,
    DEFAULT_ALLOWED_ORIGINS,
    SecurityConfigError,
    parse_allowed_hosts,
    parse_allowed_origins,
)

DEFAULT_PORT = 3284
MIN_TERM_SIZE = 10


class UsageError(Exception):
    """A mistake on the command line; printed as one line, exit code 2."""


@dataclass
class ServerOptions:
    agent: list[str]
    agent_type: str | None = None
    port: int = DEFAULT_PORT
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
    adapter_files: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class _Flag:
    long: str
    short: str | None
    kind: str  # "str", "int", "bool", "list", "paths"
    help: str

    @property
    def dest(self) -> str:
        return self.long.replace("-", "_")

    @property
    def env(self) -> str:
        return "AGENTAPI_" + self.dest.upper()


FLAGS: tuple[_Flag, ...] = (
    _Flag("type", "t", "str", "agent type (guessed from the agent command if not given)"),
    _Flag("port", "p", "int", f"HTTP port (default {DEFAULT_PORT})"),
    _Flag("print-openapi", "P", "bool", "print the OpenAPI document and exit"),
    _Flag("chat-base-path", "c", "str", "base path of the chat page (default /chat)"),
    _Flag("term-width", "W", "int", "terminal width (default 80, at least 10)"),
    _Flag("term-height", "H", "int", "terminal height (default 1000, at least 10)"),
    _Flag("allowed-hosts", "a", "list", "allowed Host header names, or *"),
    _Flag("allowed-origins", "o", "list", "allowed CORS origins, or *"),
    _Flag("initial-prompt", "I", "str", "prompt typed once the agent is ready (default: stdin)"),
    _Flag("state-file", "s", "str", "file to save and restore the conversation"),
    _Flag("load-state", None, "bool", "restore the conversation (default: with --state-file)"),
    _Flag("save-state", None, "bool", "save the conversation (default: with --state-file)"),
    _Flag("pid-file", None, "str", "write the daemon's PID to this file"),
    _Flag("experimental-acp", None, "bool", "talk to the agent over the Agent Client Protocol"),
    _Flag("adapter", None, "paths", "load an adapter spec file (may be repeated)"),
)
_BY_LONG = {f.long: f for f in FLAGS}


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
        if flag.kind == "bool":
            parser.add_argument(*names, dest=flag.dest, action="store_const", const="true")
        elif flag.kind == "paths":
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
            if flag is not None and flag.kind == "bool":
                values[flag.dest] = value
                continue
        rest.append(token)
    return rest, values


def parse_server_args(argv: Sequence[str], environ: Mapping[str, str]) -> ServerOptions:
    tokens = list(argv)
    if "--" in tokens:
        cut = tokens.index("--")
        ours, agent_tail = tokens[:cut], tokens[cut + 1 :]
    else:
        ours, agent_tail = tokens, []
    ours, bool_values = _split_bool_assignments(ours)
    namespace = _build_parser().parse_intermixed_args(ours)
    raw: dict[str, object] = {}
    for flag in FLAGS:
        value = getattr(namespace, flag.dest)
        if flag.dest in bool_values:
            value = bool_values[flag.dest]
        if value is None:
            env_value = environ.get(flag.env, "")
            if env_value.strip():
                value = env_value if flag.kind not in ("list", "paths") else env_value.split()
                raw[flag.dest] = (value, "env")
                continue
        if value is not None:
            if flag.kind == "list" and isinstance(value, str):
                value = value.split(",")
            raw[flag.dest] = (value, "flag")
    return _build_options(list(namespace.agent) + agent_tail, raw)


def _describe(dest: str, source: str) -> str:
    flag = next(f for f in FLAGS if f.dest == dest)
    return f"--{flag.long}" if source == "flag" else flag.env


def _int(raw: dict[str, object], dest: str, default: int) -> int:
    if dest not in raw:
        return default
    value, source = raw[dest]  # type: ignore[misc]
    try:
        return int(str(value).strip())
    except ValueError:
        raise UsageError(
            f"invalid value {value!r} for {_describe(dest, source)}: expected a whole number"
        ) from None


def _bool(raw: dict[str, object], dest: str) -> bool | None:
    if dest not in raw:
        return None
    value, source = raw[dest]  # type: ignore[misc]
    return parse_bool(str(value), _describe(dest, source))


def _str(raw: dict[str, object], dest: str, default: str) -> str:
    if dest not in raw:
        return default
    value, _ = raw[dest]  # type: ignore[misc]
    return str(value)


def _build_options(agent: list[str], raw: dict[str, object]) -> ServerOptions:
    opts = ServerOptions(agent=agent)
    opts.agent_type = _str(raw, "type", "") or None
    opts.port = _int(raw, "port", DEFAULT_PORT)
    if not 0 <= opts.port <= 65535:
        raise UsageError(f"invalid port {opts.port}: must be between 0 and 65535")
    opts.print_openapi = bool(_bool(raw, "print_openapi"))
    opts.chat_base_path = _str(raw, "chat_base_path", "/chat") or "/chat"
    opts.term_width = _int(raw, "term_width", 80)
    opts.term_height = _int(raw, "term_height", 1000)
    for name, size in (("--term-width", opts.term_width), ("--term-height", opts.term_height)):
        if size < MIN_TERM_SIZE:
            raise UsageError(f"{name} must be at least {MIN_TERM_SIZE}, got {size}")
    try:
        if "allowed_hosts" in raw:
            opts.allowed_hosts = parse_allowed_hosts(list(raw["allowed_hosts"][0]))  # type: ignore[index]
        if "allowed_origins" in raw:
            opts.allowed_origins = parse_allowed_origins(list(raw["allowed_origins"][0]))  # type: ignore[index]
    except SecurityConfigError as exc:
        raise UsageError(str(exc)) from None
    opts.initial_prompt = _str(raw, "initial_prompt", "")
    state_file = _str(raw, "state_file", "")
    opts.state_file = Path(state_file) if state_file else None
    load_state = _bool(raw, "load_state")
    save_state = _bool(raw, "save_state")
    if opts.state_file is None:
        if load_state:
            raise UsageError("--load-state requires --state-file")
        if save_state:
            raise UsageError("--save-state requires --state-file")
    opts.load_state = load_state if load_state is not None else opts.state_file is not None
    opts.save_state = save_state if save_state is not None else opts.state_file is not None
    pid_file = _str(raw, "pid_file", "")
    opts.pid_file = Path(pid_file) if pid_file else None
    opts.experimental_acp = bool(_bool(raw, "experimental_acp"))
    if "adapter" in raw:
        opts.adapter_files = [Path(p) for p in raw["adapter"][0]]  # type: ignore[index]
    if opts.experimental_acp and opts.print_openapi:
        raise UsageError("--experimental-acp cannot be combined with --print-openapi")
    if opts.experimental_acp and opts.state_file is not None:
        raise UsageError("--experimental-acp cannot be combined with --state-file")
    if not opts.agent and not opts.print_openapi:
        raise UsageError("no agent command given: usage is agentapi server [flags] -- AGENT [ARGS]")
    return opts


def server_help() -> str:
    return _build_parser().format_help()


def environment() -> Mapping[str, str]:
    return os.environ
