"""The adapter's interrupt keys and the OpenAPI description of POST /interrupt."""

import pytest

from agentapi.adapters import AdapterError, Keystrokes, adapter_from_spec, default_registry
from agentapi.server.openapi import build_openapi

ESC, CTRL_C = b"\x1b", b"\x03"


def test_every_builtin_has_its_interrupt_key():
    keys = {a.name: [k.data for k in a.interrupt_keys()] for a in default_registry().all()}
    assert keys == {
        "aider": [CTRL_C],
        "amazonq": [CTRL_C],
        "amp": [ESC],
        "auggie": [ESC],
        "claude": [ESC],
        "codex": [ESC],
        "copilot": [CTRL_C],
        "cursor": [CTRL_C],
        "custom": [ESC],
        "demo": [ESC],
        "gemini": [ESC],
        "goose": [CTRL_C],
        "opencode": [ESC, ESC, ESC],
    }


def test_interrupt_is_a_string_or_a_list_with_a_pause_after_each():
    one = adapter_from_spec({"name": "a", "input": {"interrupt": "\x03"}}, "a.toml")
    assert one.interrupt_keys() == [Keystrokes(CTRL_C, 100)]
    two = adapter_from_spec(
        {"name": "b", "input": {"interrupt": ["\x1b", "\x1b"], "interrupt_settle_ms": 300}},
        "b.toml",
    )
    assert two.interrupt_keys() == [Keystrokes(ESC, 300), Keystrokes(ESC, 300)]


@pytest.mark.parametrize(
    "value, fragment",
    [([], "input.interrupt"), (5, "input.interrupt"), (["\x1b", 3], "input.interrupt[1]")],
)
def test_bad_interrupt_keys_are_named(value, fragment):
    with pytest.raises(AdapterError) as caught:
        adapter_from_spec({"name": "c", "input": {"interrupt": value}}, "c.toml")
    assert str(caught.value).startswith(f"c.toml: {fragment}")


def test_openapi_documents_the_interrupt_answer():
    doc = build_openapi()
    operation = doc["paths"]["/interrupt"]["post"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/InterruptResponseBody"}
    body = doc["components"]["schemas"]["InterruptResponseBody"]
    assert set(body["required"]) == {"ok", "interrupted", "status"}
    assert body["properties"]["status"]["$ref"].endswith("AgentStatus")


def test_interrupt_clear_erases_every_line_of_the_interrupted_message():
    claude = default_registry().lookup("claude")
    assert claude is not None
    clear = claude.interrupt_clear_keys("line one\nline two")
    # Two Ctrl-U per line (its text, then the line break), and a pair more.
    assert clear == Keystrokes(b"\x15\x15" * 3)
    demo = default_registry().lookup("demo")
    assert demo is not None and demo.interrupt_clear_keys("anything") is None
