"""Parsing `agentapi server` flags and AGENTAPI_* variables the way the original does."""

from pathlib import Path

import pytest

from agentapi.cli.config import UsageError, parse_server_args


def parse(argv, env=None):
    return parse_server_args(argv, env or {})


def test_defaults():
    opts = parse(["--", "claude"])
    assert opts.agent == ["claude"]
    assert opts.port == 3284
    assert (opts.term_width, opts.term_height) == (80, 1000)
    assert opts.allowed_hosts == ["localhost", "127.0.0.1", "[::1]"]
    assert opts.chat_base_path == "/chat"
    assert opts.state_file is None and not opts.load_state and not opts.save_state


def test_flags_before_double_dash_belong_to_agentapi_wherever_they_stand():
    opts = parse(["claude", "--port", "4800"])
    assert opts.agent == ["claude"]
    assert opts.port == 4800


def test_everything_after_double_dash_goes_to_the_agent_untouched():
    opts = parse(["-p", "4801", "--", "aider", "--port", "9", "--model", "x"])
    assert opts.port == 4801
    assert opts.agent == ["aider", "--port", "9", "--model", "x"]


def test_short_flags_and_equals_forms():
    opts = parse(["-p4802", "-W", "120", "--term-height=50", "-t", "goose", "--", "x"])
    got = (opts.port, opts.term_width, opts.term_height, opts.agent_type)
    assert got == (4802, 120, 50, "goose")


def test_environment_variables_and_flag_precedence():
    env = {"AGENTAPI_PORT": "5000", "AGENTAPI_TERM_WIDTH": "100"}
    opts = parse(["--port", "5001", "--", "x"], env)
    assert opts.port == 5001
    assert opts.term_width == 100


def test_empty_variable_counts_as_unset():
    opts = parse(["--", "x"], {"AGENTAPI_CHAT_BASE_PATH": "", "AGENTAPI_PORT": " "})
    assert opts.chat_base_path == "/chat"
    assert opts.port == 3284


def test_list_values_commas_in_flags_spaces_in_variables():
    opts = parse(["--allowed-hosts", "a.example,b.example", "--", "x"])
    assert opts.allowed_hosts == ["a.example", "b.example"]
    opts = parse(["--", "x"], {"AGENTAPI_ALLOWED_HOSTS": "c.example d.example"})
    assert opts.allowed_hosts == ["c.example", "d.example"]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--state-file", "s.json"], (True, True)),
        (["--state-file", "s.json", "--load-state=false"], (False, True)),
        (["--state-file", "s.json", "--save-state=false", "--load-state"], (True, False)),
        (["--state-file", "s.json", "--load-state=true"], (True, True)),
    ],
)
def test_state_flags(argv, expected):
    opts = parse([*argv, "--", "x"])
    assert opts.state_file == Path("s.json")
    assert (opts.load_state, opts.save_state) == expected


@pytest.mark.parametrize(
    "argv, env, message",
    [
        (["--load-state", "--", "x"], {}, "--load-state requires --state-file"),
        (["--save-state=true", "--", "x"], {}, "--save-state requires --state-file"),
        (["--", "x"], {"AGENTAPI_LOAD_STATE": "true"}, "--load-state requires --state-file"),
        (["--port", "abc", "--", "x"], {}, "invalid value 'abc' for --port"),
        (["--", "x"], {"AGENTAPI_PORT": "abc"}, "AGENTAPI_PORT"),
        (["--term-width", "9", "--", "x"], {}, "--term-width must be at least 10"),
        (["--term-height", "3", "--", "x"], {}, "--term-height must be at least 10"),
        (["--load-state=maybe", "--state-file", "s", "--", "x"], {}, "expected true or false"),
        (["--bogus", "--", "x"], {}, "unrecognized arguments: --bogus"),
        ([], {}, "no agent command given"),
        (["--allowed-hosts", "http://x", "--", "x"], {}, "http://"),
    ],
)
def test_usage_errors(argv, env, message):
    with pytest.raises(UsageError) as info:
        parse(argv, env)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_print_openapi_needs_no_agent():
    assert parse(["--print-openapi"]).print_openapi
    assert parse(["-P"]).print_openapi


def test_adapter_files_flag_repeats():
    opts = parse(["--adapter", "a.toml", "--adapter", "b.toml", "--", "x"])
    assert opts.adapter_files == [Path("a.toml"), Path("b.toml")]


def test_ready_timeout_flag_and_variable():
    assert parse(["--", "x"]).ready_timeout == 30
    assert parse(["--ready-timeout", "5", "--", "x"]).ready_timeout == 5
    assert parse(["--", "x"], {"AGENTAPI_READY_TIMEOUT": "0"}).ready_timeout == 0
    with pytest.raises(UsageError, match="--ready-timeout must not be negative"):
        parse(["--ready-timeout=-1", "--", "x"])


def test_server_help_names_every_agent_type():
    # A client searches this text to decide which agent types the daemon supports.
    from agentapi.cli.config import server_help
    from tests.agent_types import AGENT_TYPES

    words = set(server_help().replace(",", " ").replace(";", " ").replace(")", " ").split())
    assert set(AGENT_TYPES) <= words


def test_agent_type_on_the_wire_stays_in_the_original_vocabulary():
    from agentapi.messages import wire_agent_type
    from tests.agent_types import AGENT_TYPES

    assert [wire_agent_type(t) for t in AGENT_TYPES] == list(AGENT_TYPES)
    assert wire_agent_type("demo") == "custom"
    assert wire_agent_type("my-agent") == "custom"


def test_auth_token_flags():
    from agentapi.cli.config import parse_server_args

    opts = parse_server_args(["--auth-token", "t", "--auth-open-status", "--", "x"], {})
    assert opts.auth_token == "t" and opts.auth_open_status
    assert parse_server_args(["--", "x"], {"AGENTAPI_AUTH_TOKEN": "v"}).auth_token == "v"
    assert parse_server_args(["--", "x"], {}).auth_token == ""
    with pytest.raises(UsageError, match="--auth-open-status needs --auth-token"):
        parse_server_args(["--auth-open-status", "--", "x"], {})
