"""The adapter registry, spec loading and the engine's rules, with plain strings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from agentapi.adapters import (
    BRACKETED_PASTE_END,
    BRACKETED_PASTE_START,
    AdapterError,
    Keystrokes,
    adapter_from_spec,
    default_registry,
    load_adapter_file,
)
from agentapi.cli import run_server
from tests.agent_types import AGENT_TYPES


@pytest.fixture(scope="module")
def registry():
    return default_registry()


# -- registry ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", AGENT_TYPES)
def test_every_agent_type_has_a_built_in_adapter(registry, name):
    adapter = registry.lookup(name)
    assert adapter is not None
    assert adapter.name == name
    assert adapter.description


@pytest.mark.parametrize(
    ("alias", "name"),
    [("cursor-agent", "cursor"), ("q", "amazonq"), ("Claude", "claude"), (" aider ", "aider")],
)
def test_lookup_by_alias_and_any_case(registry, alias, name):
    assert registry.lookup(alias).name == name


def test_unknown_type_is_not_found(registry):
    assert registry.lookup("no-such-agent") is None


def test_unknown_type_on_the_command_line_is_a_usage_error(capsys):
    code = run_server(["--type", "no-such-agent", "--", "true"])
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown agent type 'no-such-agent'" in err
    assert "claude" in err


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("/usr/local/bin/claude", "claude"),
        ("claude", "claude"),
        ("/opt/bin/cursor-agent", "cursor"),
        ("q", "amazonq"),
        ("codex", "codex"),
        ("/home/me/.local/bin/aider", "aider"),
        ("GEMINI", "gemini"),
        ("opencode", "opencode"),
        ("agentapi-demo", "demo"),
    ],
)
def test_guess_from_the_agent_command(registry, command, name):
    assert registry.guess(command).name == name


def test_guess_falls_back_to_custom(registry):
    assert registry.guess("/usr/bin/my-own-agent").name == "custom"


def test_adapter_file_overrides_a_built_in(tmp_path):
    spec = tmp_path / "my-claude.toml"
    spec.write_text(
        'name = "claude"\n'
        'description = "patched Claude"\n'
        'aliases = ["cc"]\n'
        "[input_box]\n"
        "prompt = '^»'\n",
        encoding="utf-8",
    )
    registry = default_registry([spec])
    adapter = registry.lookup("claude")
    assert adapter.description == "patched Claude"
    assert registry.lookup("cc") is adapter
    assert adapter.source == str(spec)
    # The other built-ins are still there.
    assert registry.lookup("codex").name == "codex"


def test_adapter_file_adds_a_new_agent(tmp_path):
    spec = tmp_path / "newbot.toml"
    spec.write_text('name = "newbot"\ncommands = ["newbot-cli"]\n', encoding="utf-8")
    registry = default_registry([spec])
    assert registry.guess("/usr/bin/newbot-cli").name == "newbot"


# -- bad spec files ---------------------------------------------------------------------


def _load(tmp_path: Path, text: str) -> tuple[Path, AdapterError]:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AdapterError) as info:
        load_adapter_file(path)
    return path, info.value


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('name = "x"\n[reply\n', "not a valid TOML file"),
        ('name = "x"\ncolour = "blue"\n', "unknown key(s) in the top level: colour"),
        ('name = "x"\n[reply]\nechos = true\n', "unknown key(s) in [reply]: echos"),
        ('name = "x"\n[input]\npaste = true\n', "unknown key(s) in [input]: paste"),
        ("name = \"x\"\n[input_box]\nprompt = '(['\n", "input_box.prompt is not a valid"),
        ("name = \"x\"\n[input_box]\nabove = ['ok', '(']\n", "input_box.above[1] is not a"),
        ('name = "x"\n[[noise]]\nstart = "["\n', "noise[0].start is not a valid"),
        ('name = "x"\n[[noise]]\nend = "x"\n', "noise[0] needs at least a 'start'"),
        ('name = "x"\n[[noise]]\nstart = "a"\nfinish = "b"\n', "unknown key(s) in noise[0]"),
        ('description = "no name"\n', "name must be"),
        ('name = "Has Spaces"\n', "name must be"),
        ('name = "x"\n[input_box]\nready = "(?P<"\n', "input_box.ready[0] is not a valid"),
        ('name = "x"\n[ready]\npatterns = []\n', "unknown key(s) in the top level: ready"),
        ('name = "x"\n[input_box]\nsearch_lines = 0\n', "input_box.search_lines must be"),
        ('name = "x"\n[reply]\nhook = "no_colon"\n', "reply.hook must look like"),
        ('name = "x"\n[input]\ntype_first_settle_ms = "50"\n', "type_first_settle_ms must be a"),
        ('name = "x"\n[reply]\nskip_header_lines = -1\n', "must not be negative"),
        ('name = "x"\n[reply]\necho = "no"\n', "reply.echo must be true or false"),
        ('name = "x"\n[[noise]]\nstart = "a"\nmax_lines = true\n', "noise[0].max_lines must"),
        ('name = "x"\n[reply]\nhook = "agentapi.nowhere:f"\n', "cannot load hook"),
    ],
)
def test_bad_spec_names_the_file_and_the_problem(tmp_path, text, problem):
    path, error = _load(tmp_path, text)
    assert str(path) in str(error)
    assert problem in str(error)


def test_missing_spec_file_is_an_adapter_error(tmp_path):
    with pytest.raises(AdapterError, match="cannot read adapter spec"):
        load_adapter_file(tmp_path / "absent.toml")


def test_bad_adapter_file_on_the_command_line_is_a_usage_error(tmp_path, capsys):
    spec = tmp_path / "broken.toml"
    spec.write_text("name = 3\n", encoding="utf-8")
    assert run_server(["--adapter", str(spec), "--", "true"]) == 2
    assert str(spec) in capsys.readouterr().err


def test_hook_gets_the_cleaned_text_and_the_user_input():
    # operator.add(text, user_input) shows what the hook is given.
    spec = {"name": "hooked", "input_box": {"prompt": "^>"}, "reply": {"hook": "operator:add"}}
    adapter = adapter_from_spec(spec, "inline")
    assert adapter.format_message("> hi\nhello\n>", "hi") == ("hellohi", [])


# -- typing -----------------------------------------------------------------------------


def test_claude_types_and_erases_a_character_before_pasting(registry):
    writes = registry.lookup("claude").encode_message("fix the bug\nplease")
    assert len(writes) == 3
    typed, erased, paste = writes
    # One key per write: Claude Code 1.0 keeps the x when "x\x7f" arrives in one chunk.
    assert (typed.data, erased.data) == (b"x", b"\x7f")
    assert typed.settle_ms > 0 and erased.settle_ms > 0
    assert paste == Keystrokes(
        f"{BRACKETED_PASTE_START}fix the bug\nplease{BRACKETED_PASTE_END}".encode()
    )


@pytest.mark.parametrize("name", [n for n in AGENT_TYPES if n not in ("claude", "amp")])
def test_other_agents_get_a_plain_bracketed_paste(registry, name):
    assert registry.lookup(name).encode_message("hi") == [Keystrokes(b"\x1b[200~hi\x1b[201~")]


def test_amp_gets_a_key_at_start_up_to_stop_its_animation(registry):
    amp = registry.lookup("amp")
    assert amp.on_start == " \b"
    assert [w.data for w in amp.encode_message("hi")[:2]] == [b" ", b"\b"]


def test_submit_is_carriage_return(registry):
    assert {registry.lookup(n).submit for n in AGENT_TYPES} == {"\r"}


# -- readiness --------------------------------------------------------------------------


def test_claude_is_ready_only_once_its_input_box_is_drawn(registry):
    claude = registry.lookup("claude")
    rule = "─" * 80
    assert not claude.is_ready(" ▐▛███▜▌   Claude Code v2.1.197\n")
    assert claude.is_ready(f"banner\n\n{rule}\n❯\u00a0\n{rule}\n  ? for shortcuts")
    # The daemon's screen text has right-stripped rows: the NO-BREAK SPACE is gone.
    assert claude.is_ready(f"banner\n\n{rule}\n❯\n{rule}\n  ? for shortcuts")


def test_amp_is_not_ready_while_only_its_logo_is_drawn(registry):
    amp = registry.lookup("amp")
    assert not amp.is_ready("   ..::--==++==--::..     Welcome to Amp\n")
    assert amp.is_ready("╭─smart─────╮\n│           │\n╰──~/p (main)─╯\n")


def test_the_generic_adapter_is_ready_only_once_a_prompt_box_is_drawn(registry):
    custom = registry.lookup("custom")
    assert not custom.is_ready("")
    assert not custom.is_ready("loading...")
    assert custom.is_ready(f"Welcome\n\n{'─' * 40}\n> \n{'─' * 40}\n  ? for help")
    # An empty prompt on the last line is a box even without a rule above it.
    assert custom.is_ready("Welcome\n\n❯")


def test_an_adapter_with_an_empty_ready_list_is_ready_once_settled():
    assert _adapter({"prompt": "^>", "ready": []}).is_ready("")


# -- engine rules -----------------------------------------------------------------------


def _adapter(box=None, **reply):
    spec = {"name": "t", "reply": reply, "input_box": box or {}}
    return adapter_from_spec(spec, "test")


GENERIC_BOX = {"prompt": r"^\s*[>❯›]", "rule": r"^\s*[─━═]{8,}\s*$"}


def test_input_box_is_found_across_blank_rows_of_a_tall_screen():
    adapter = _adapter({"edge": "^›", "search_lines": 3})
    screen = "• answer\n" + "\n" * 500 + "› Ask me anything\n\n  footer"
    assert adapter.format_message(screen, "")[0] == "• answer"


def test_trailing_chrome_above_the_input_box_is_cut():
    adapter = _adapter({**GENERIC_BOX, "above": [r"\? for shortcuts", "^Tip:"]})
    rule = "─" * 20
    screen = f"answer\n\nTip: use /help\n   ? for shortcuts\n{rule}\n> \n{rule}"
    assert adapter.format_message(screen, "")[0] == "answer"


def test_echo_prefix_and_echo_frame():
    adapter = _adapter(echo_prefix=r"^\( O\)> ", echo_frame=r"^\s*┃")
    section = "( O)> do it\n┃ me · 10:02\n┃\n\nDone."
    assert adapter.format_message(section, "do it")[0] == "Done."


def test_dedent_removes_the_shared_indentation():
    adapter = _adapter(dedent=True)
    assert adapter.format_message("     one\n       two\n", "")[0] == "one\n  two"


def test_rules_at_the_edges_of_a_message_are_trimmed():
    adapter = _adapter()
    section = "─" * 30 + "\nBanner v1\n" + "━" * 30 + "\n\n"
    assert adapter.format_message(section, "")[0] == "Banner v1"


def _noisy(**block):
    return adapter_from_spec({"name": "t", "noise": [block]}, "test")


def test_noise_block_is_cut_with_the_gap_after_it():
    adapter = _noisy(name="report", start="^● report", end="^  done$")
    section = "first\n\n● report(x)\n  done\n\nsecond"
    text, removed = adapter.format_message(section, "")
    assert text == "first\n\nsecond"
    assert removed == ["● report(x)\n  done"]


def test_a_block_still_being_drawn_is_cut_but_not_reported():
    adapter = _noisy(name="report", start="^● report", end="^  done$")
    text, removed = adapter.format_message("first\n\n● report(x\n  still typing", "")
    assert text == "first"
    assert removed == []


def test_a_block_announced_over_two_lines_needs_both():
    adapter = _noisy(name="report", start="^• Called$", next="report_task", end="Thanks")
    kept = "• Called\n  └ search(x)\n    3 results"
    cut = "• Called\n  └ coder.report_task()\n    Thanks"
    text, removed = adapter.format_message(f"{cut}\n\n{kept}", "")
    assert text == kept
    assert removed == [cut]


def test_an_unreported_block_is_cut_silently():
    adapter = _noisy(name="spinner", start="^✻ .*…", report=False)
    assert adapter.format_message("answer\n\n✻ Pondering…\n  tip\n", "") == ("answer", [])


def test_trailing_chrome_stops_at_a_blank_line():
    # A reply drawn in the same style as the box (an error in a "┃" block) is kept.
    adapter = _adapter({"edge": r"^\s*╹▀", "above": [r"^\s*┃"]}, unframe=r"^\s*┃")
    section = "  ┃\n  ┃  Error: no model\n  ┃\n\n\n  ┃\n  ┃  Build · model\n  ╹▀▀▀▀▀▀▀▀\n  footer"
    assert adapter.format_message(section, "")[0] == "     Error: no model"


def test_echo_re_rendered_as_markdown_is_still_recognised():
    adapter = _adapter()
    section = "› Please review:\n\n  • first item\n  • second item\n\n• Both look fine."
    text, _ = adapter.format_message(section, "Please review:\n- first item\n- second item")
    assert text == "• Both look fine."


def test_a_block_can_run_on_past_its_end_line():
    adapter = _noisy(name="report", start="^• Called x", end="Thanks", tail_to_blank=True)
    section = "• Called x()\n  └ Thanks\n    + Show details\n\n• Done."
    assert adapter.format_message(section, "") == (
        "• Done.",
        ["• Called x()\n  └ Thanks\n    + Show details"],
    )


def test_the_spec_reference_in_the_adapters_readme_is_a_valid_spec():
    readme = (Path(__file__).parents[2] / "adapters" / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    adapter = adapter_from_spec(tomllib.loads(block), "adapters/README.md")
    assert adapter.name == "my-agent"
    assert adapter.format_message("> hello\n● hi there\n" + "─" * 20 + "\n> ", "hello")[0] == (
        "● hi there"
    )


def test_long_runs_of_blank_rows_become_one_blank_line():
    adapter = _adapter()
    text, _ = adapter.format_message("banner\n" + "\n" * 500 + "notice\n\n\nend", "")
    assert text == "banner\n\nnotice\n\n\nend"


@pytest.mark.parametrize(
    "screen",
    [
        # Claude Code 1.0: a box with corners, NO-BREAK SPACEs around the prompt.
        f'banner\n╭{"─" * 78}╮\n│\u00a0>\u00a0Try "fix lint errors"{" " * 50}│\n╰{"─" * 78}╯\n'
        "  ? for shortcuts",
        # A dashed box.
        f"banner\n{'╌' * 80}\n❯\n{'╌' * 80}",
    ],
    ids=["1.0 box", "dashed"],
)
def test_claude_box_of_other_versions_is_recognised_and_cut(registry, screen):
    claude = registry.lookup("claude")
    assert claude.is_ready(screen)
    assert claude.format_message(screen, "")[0] == "banner"


@pytest.mark.parametrize("case", ["copilot/trust_dialog_v1.0.102", "auggie/login_v0.36.0"])
def test_a_real_login_or_trust_screen_is_not_the_input_box(registry, case):
    # Captured from the npm packages without an account: status stays running over them
    # until --ready-timeout, then stable with a warning, so a person can answer raw.
    screens = Path(__file__).resolve().parents[1] / "fixtures" / "screens"
    screen = (screens / case / "screen.txt").read_text(encoding="utf-8")
    assert not registry.lookup(case.split("/")[0]).is_ready(screen)


def test_only_the_chosen_built_in_spec_is_built(monkeypatch):
    # A daemon runs one agent: the other specs' patterns are not compiled at start.
    from agentapi.adapters import registry as registry_module

    built: list[str] = []
    real = registry_module.parse_spec

    def counting(data, source):
        built.append(source)
        return real(data, source)

    monkeypatch.setattr(registry_module, "parse_spec", counting)
    registry = default_registry()
    assert built == []
    assert registry.guess("/usr/bin/claude").name == "claude"
    assert registry.lookup("q").name == "amazonq"
    assert sorted(built) == ["adapters/amazonq.toml", "adapters/claude.toml"]
    assert len(registry.all()) == len(registry.names()) and len(built) == len(registry.names())
