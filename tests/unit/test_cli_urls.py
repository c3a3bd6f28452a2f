"""``--url`` as ``agentapi attach`` (one daemon) and ``agentapi mcp`` (several) read it."""

from __future__ import annotations

import pytest

from agentapi.cli.urls import parse_url_args
from agentapi.client.attach import parse_args as attach_args
from agentapi.errors import UsageError
from agentapi.mcp.server import parse_args as mcp_args


def test_every_spelling_of_the_flag_is_read_in_order() -> None:
    argv = ["--url", "a=h:1", "-u", "h:2", "--url=b=http://h:3/"]
    assert parse_url_args(argv, prog="p", metavar="M", repeatable=True) == [
        "a=h:1",
        "h:2",
        "b=http://h:3/",
    ]
    assert parse_url_args([], prog="p", metavar="M", repeatable=False) == []


def test_help_wins_wherever_it_stands() -> None:
    assert (
        parse_url_args(["--url", "h:1", "--help"], prog="p", metavar="M", repeatable=True) is None
    )
    assert parse_url_args(["-h", "--bogus"], prog="p", metavar="M", repeatable=False) is None


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--url"], "flag --url needs a value (M)"),
        (["-u"], "flag -u needs a value (M)"),
        (["--bogus"], "unexpected argument '--bogus' (unknown flag '--bogus'); run 'p --help'"),
        (["h:1"], "unexpected argument 'h:1'; run 'p --help'"),
    ],
)
def test_mistakes_are_named(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_url_args(argv, prog="p", metavar="M", repeatable=True)
    assert str(caught.value) == message


def test_the_single_form_refuses_a_second_url() -> None:
    with pytest.raises(UsageError, match=r"--url given twice \('h:1' and 'h:2'\)"):
        parse_url_args(["--url", "h:1", "--url=h:2"], prog="p", metavar="M", repeatable=False)
    # attach used to take the last one silently: which daemon was meant is a guess.
    with pytest.raises(UsageError, match="given twice"):
        attach_args(["-u", "127.0.0.1:1", "-u", "127.0.0.1:2"])


def test_the_commands_keep_their_own_rules_on_top() -> None:
    assert attach_args([]) == "http://localhost:3284"
    assert attach_args(["--url=h:9/"]) == "http://h:9"
    assert mcp_args(["--url", "w=h:1", "--url", "h:2"]) == ["w=h:1", "h:2"]
    with pytest.raises(UsageError, match="give at least one --url"):
        mcp_args([])
    assert mcp_args(["--help"]) is None
