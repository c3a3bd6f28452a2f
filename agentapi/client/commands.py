"""The client commands: ``agentapi status``, ``send``, ``messages`` and ``interrupt``.

For scripts and people at a shell, built on ``agentapi.client``. Errors are one plain line
on stderr, and the exit code says what went wrong, so a script can test it::

    agentapi send "run the tests" || case $? in 4) echo busy;; 3) echo down;; esac
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, NoReturn, TextIO

from agentapi.client.api import (
    DEFAULT_URL,
    LONG_POLL_S,
    AgentBusy,
    AgentDidNotReact,
    AsyncClient,
    ConnectionFailed,
    Message,
    ProblemError,
    WaitTimeout,
    normalize_url,
)
from agentapi.errors import AgentApiError

# Exit codes, each a case a script may want to tell apart.
OK = 0
FAILED = 1  # the daemon refused the request (a problem document) or answered nonsense
USAGE = 2
UNREACHABLE = 3
BUSY = 4
TIMED_OUT = 5
AGENT_DOWN = 6  # the agent exited or never reacted to the message

EXIT_CODES_HELP = (
    "exit codes: 0 ok, 1 refused by the daemon, 2 usage error, 3 daemon unreachable, "
    "4 agent busy, 5 timed out, 6 agent not running or did not react"
)
URL_ENV = "AGENTAPI_URL"
DEFAULT_SEND_TIMEOUT_S = 600.0


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one plain line (and exit code 2) instead of a page."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def _parser(command: str, description: str) -> _Parser:
    parser = _Parser(prog=f"agentapi {command}", description=description, epilog=EXIT_CODES_HELP)
    parser.add_argument(
        "-u",
        "--url",
        default=os.environ.get(URL_ENV) or DEFAULT_URL.removeprefix("http://"),
        help=f"the daemon, HOST:PORT or a URL (default ${URL_ENV} or localhost:3284)",
    )
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


# -- the commands ---------------------------------------------------------------------------


def _status_parser() -> _Parser:
    parser = _parser("status", "Print the agent's status: running or stable.")
    parser.add_argument(
        "--wait",
        choices=["stable", "running"],
        help="first wait until the agent has this status (exit 5 if it does not in time)",
    )
    parser.add_argument("--timeout", type=_seconds, default=300.0, help="for --wait (s)")
    parser.add_argument("--json", action="store_true", help="print the whole status as JSON")
    return parser


async def _status(client: AsyncClient, args: argparse.Namespace, out: TextIO) -> int:
    if args.wait:
        status = await _wait_for_status(client, args.wait, args.timeout)
    else:
        status = await client.status()
    print(status.to_json().decode() if args.json else status.status.value, file=out)
    if args.wait and status.status != args.wait:
        raise WaitTimeout(f"the agent was not {args.wait} within {args.timeout:g} s")
    return OK


async def _wait_for_status(client: AsyncClient, wanted: str, timeout: float) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        left = deadline - loop.time()
        status = await client.status(wait_for=wanted, timeout=max(0.0, min(LONG_POLL_S, left)))
        if status.status == wanted or loop.time() >= deadline - 0.01:
            return status


def _send_parser() -> _Parser:
    parser = _parser(
        "send",
        "Send a message (TEXT, or stdin when no TEXT is given) and print the agent's reply.",
    )
    parser.add_argument("text", nargs="*", metavar="TEXT", help="the message (words joined)")
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="return once the agent has started on the message; print nothing",
    )
    parser.add_argument(
        "--raw",
        action="store_true",
        help="type TEXT as keystrokes (not recorded; escapes such as \\r are not decoded)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_SEND_TIMEOUT_S,
        help=f"for the reply (s, default {DEFAULT_SEND_TIMEOUT_S:g})",
    )
    return parser


async def _send(client: AsyncClient, args: argparse.Namespace, out: TextIO) -> int:
    text = " ".join(args.text)
    if args.raw:
        await client.send_raw(text)
    elif args.no_wait:
        await client.send(text)
    else:
        reply = await client.ask(text, timeout=args.timeout)
        print(reply.content, file=out)
    return OK


def _messages_parser() -> _Parser:
    parser = _parser("messages", "Print the conversation.")
    parser.add_argument(
        "-f",
        "--follow",
        action="store_true",
        help="keep printing messages as they come (a message is printed once it is complete)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line; with --follow, every update of a message",
    )
    return parser


def _format(message: Message, as_json: bool) -> str:
    if as_json:
        return message.to_json().decode()
    return f"{message.role.value}: {message.content}"


async def _messages(client: AsyncClient, args: argparse.Namespace, out: TextIO) -> int:
    if not args.follow:
        for message in await client.messages():
            print(_format(message, args.json), file=out)
        return OK
    await _follow(client, args.json, out)
    return OK


async def _follow(client: AsyncClient, as_json: bool, out: TextIO) -> None:
    """Follow the transcript through long-polls (they pass proxies that buffer SSE).

    In text mode a message is printed once, when it is complete: a later message exists,
    or the agent is stable. JSON lines carry every update, the same id again.
    """
    printed: dict[int, str] = {}
    # Every daemon's transcript has changed at least once (message 0): the first poll
    # answers at once.
    revision: int | None = 0
    after: int | None = None
    while True:
        transcript = await client.poll_messages(after=after, revision=revision)
        if transcript.revision is None:
            # A daemon without long-polls (the original) answers at once: ask once a second.
            await asyncio.sleep(1.0)
        revision = transcript.revision
        messages = transcript.messages
        if not messages:
            continue
        stable = as_json or (await client.status()).status == "stable"
        for i, message in enumerate(messages):
            complete = i < len(messages) - 1 or stable
            if printed.get(message.id) == message.content or not complete:
                continue
            if not as_json and message.id in printed:
                continue  # text mode prints a message once
            printed[message.id] = message.content
            print(_format(message, as_json), file=out, flush=True)
        # The last message may still change: ask again from the one before it.
        after = messages[-1].id - 1


def _interrupt_parser() -> _Parser:
    return _parser(
        "interrupt",
        "Stop what the agent is doing (its Esc or Ctrl-C) and wait for it to settle.",
    )


async def _interrupt(client: AsyncClient, args: argparse.Namespace, out: TextIO) -> int:
    answer = await client.interrupt()
    if answer.interrupted:
        print(f"interrupted; the agent is {answer.status.value}", file=out)
    else:
        print(f"nothing to interrupt; the agent is {answer.status.value}", file=out)
    return OK


Runner = Callable[[AsyncClient, argparse.Namespace, TextIO], Coroutine[Any, Any, int]]
COMMANDS: dict[str, tuple[Callable[[], _Parser], Runner]] = {
    "status": (_status_parser, _status),
    "send": (_send_parser, _send),
    "messages": (_messages_parser, _messages),
    "interrupt": (_interrupt_parser, _interrupt),
}


# -- running one ----------------------------------------------------------------------------


def _fail(command: str, message: str, code: int) -> int:
    print(f"agentapi {command}: {message}", file=sys.stderr)
    return code


def exit_code_for(exc: AgentApiError) -> int:
    if isinstance(exc, AgentBusy):
        return BUSY
    if isinstance(exc, AgentDidNotReact):
        return AGENT_DOWN
    if isinstance(exc, WaitTimeout):
        return TIMED_OUT
    if isinstance(exc, ConnectionFailed):
        return UNREACHABLE
    if isinstance(exc, ProblemError) and exc.status == 503:
        return AGENT_DOWN
    return FAILED


def _read_stdin() -> str:
    if sys.stdin is None or sys.stdin.isatty():
        return ""
    return sys.stdin.read()


def run_command(command: str, argv: Sequence[str], out: TextIO | None = None) -> int:
    make_parser, run = COMMANDS[command]
    try:
        args = make_parser().parse_args(list(argv))
        url = normalize_url(args.url)
        if command == "send" and not args.text:
            piped = _read_stdin()
            if not piped.strip():
                raise _UsageError("no message: give TEXT or pipe it on stdin")
            args.text = [piped.rstrip("\n") if args.raw else piped.strip()]
    except (_UsageError, ValueError) as exc:
        return _fail(command, str(exc), USAGE)

    async def main() -> int:
        async with AsyncClient(url) as client:
            return await run(client, args, out or sys.stdout)

    try:
        return asyncio.run(main())
    except AgentApiError as exc:
        return _fail(command, str(exc), exit_code_for(exc))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `agentapi messages --follow | head` ends the follow quietly.
        return OK
