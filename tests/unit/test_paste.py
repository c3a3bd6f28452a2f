"""What of a user message reaches the agent's terminal."""

import pytest

from agentapi.adapters.paste import user_text
from agentapi.adapters.registry import default_registry


@pytest.mark.parametrize(
    ("text", "typed"),
    [
        ("hello\x1b[201~\r/exit 7\r", "hello\n/exit 7\n"),  # the paste breakout of the issue
        ("\x1b[2Jcleared?", "cleared?"),
        ("\x1b[31mError\x1b[0m: disk full", "Error: disk full"),
        ("\x1b]0;new title\x07x", "x"),
        ("\x1b]8;;http://a.example\x1b\\link\x1b]8;;\x1b\\", "link"),
        ("\x1bP\x1b[201~ y", " y"),  # an unterminated string sequence loses only its ESC P
        ("a\x00b\x03c\x04d\x7fe\x9b201~f\x1b", "abcde201~f"),
        ("line 1\r\nline 2\rline 3\n\ttab", "line 1\nline 2\nline 3\n\ttab"),
        ("héllo 😀 — ünïcode stays", "héllo 😀 — ünïcode stays"),
    ],
)
def test_only_text_line_breaks_and_tabs_remain(text, typed):
    assert user_text(text) == typed


def test_nothing_but_tab_and_line_feed_survives_among_controls():
    every = "".join(chr(c) for c in range(0x00, 0xA0))
    # (\r counts as a line feed.)
    assert user_text(every) == "\t\n\n" + "".join(chr(c) for c in range(0x20, 0x7F))


@pytest.mark.parametrize("adapter", default_registry().all(), ids=lambda a: a.name)
def test_every_adapter_types_the_message_without_its_escapes(adapter):
    writes = adapter.encode_message("x\x1b[201~\x1b[200~y\x1b\r")
    text = writes[-1].data  # the earlier write, if any, is the adapter's own type_first
    if adapter.spec.input.bracketed_paste:
        assert text == b"\x1b[200~xy\n\x1b[201~"
    else:
        assert text == b"xy\n"


def test_the_openapi_document_says_a_user_message_may_not_be_empty():
    import jsonschema

    from agentapi.server.openapi import build_openapi

    doc = build_openapi()
    schema = {**doc["components"]["schemas"]["MessageRequestBody"], "components": doc["components"]}
    validator = jsonschema.Draft202012Validator(schema)
    assert not validator.is_valid({"content": "", "type": "user"})
    assert validator.is_valid({"content": "", "type": "raw"})
    assert validator.is_valid({"content": "hi", "type": "user"})
    assert "control characters" in schema["properties"]["content"]["description"]
