"""The layout's promises: what each layer may import."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import agentapi

PACKAGE = Path(agentapi.__file__).parent

# The conversation is pure rules: screens and times in, events out. No I/O of any kind.
IO_MODULES = {
    "asyncio",
    "os",
    "socket",
    "selectors",
    "subprocess",
    "threading",
    "pty",
    "starlette",
    "uvicorn",
    "aiohttp",
    "httpx",
    "logging.handlers",
}


def imported_by(module: str) -> set[str]:
    """Modules that importing ``module`` adds to the package root, the wire vocabulary and
    logging (which every layer may use, with what they load: logging brings threading in
    for its locks), in a fresh interpreter."""
    code = (
        "import sys, json, logging, agentapi, agentapi.messages; before = set(sys.modules); "
        f"import {module}; print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out))


def test_the_conversation_imports_no_io() -> None:
    added = imported_by("agentapi.conversation")
    assert "agentapi.conversation.machine" in added  # the probe saw the import
    leaked = {m for m in added if m in IO_MODULES or m.split(".")[0] in IO_MODULES - {"logging"}}
    assert leaked == set()


def test_the_conversation_sources_name_no_io_module() -> None:
    # Catches an import the interpreter already had loaded (so the probe above cannot see it).
    for source in (PACKAGE / "conversation").glob("*.py"):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name not in IO_MODULES and name.split(".")[0] not in IO_MODULES - {
                    "logging"
                }, f"{source.name} imports {name}"


def test_nothing_outside_the_server_imports_from_it() -> None:
    for source in PACKAGE.rglob("*.py"):
        relative = source.relative_to(PACKAGE)
        if relative.parts[0] in ("server", "cli"):
            continue  # the server itself, and the wiring that builds it
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("agentapi.server"), (
                    f"{relative} imports {node.module}"
                )
