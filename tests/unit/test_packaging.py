"""A plain ``pip install .`` (not editable) ships and finds everything the daemon reads.

Built with the venv's own setuptools and no index, so the test needs no network.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted(p.name for p in (REPO / "adapters").glob("*.toml"))
STATIC = REPO / "agentapi" / "server" / "static"

PROBE = """
import json, sys
sys.path[:0] = {paths!r}
from importlib import resources
import agentapi
from agentapi.adapters.registry import builtin_adapters
from agentapi.server.openapi import build_openapi
print(json.dumps({{
    "package": agentapi.__file__,
    "adapters": sorted(a.source for a in builtin_adapters()),
    "chat": resources.files("agentapi.server.static").joinpath("chat.html").is_file(),
    "paths": sorted(build_openapi()["paths"]),
}}))
"""


def probe(paths: list[str], cwd: Path) -> dict:
    """Import agentapi with only ``paths`` and site-packages: no editable finder, no .pth."""
    code = PROBE.format(paths=[*paths, sysconfig.get_paths()["purelib"]])
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def static_files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("plain-install")
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    build = subprocess.run(
        [*pip, "--no-build-isolation", "--target", str(target), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0 and "setuptools" in build.stderr:
        pytest.skip(f"this venv's setuptools cannot build the package: {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr
    return target


def test_a_plain_install_ships_every_adapter_and_static_file(installed: Path) -> None:
    shipped = sorted(p.name for p in (installed / "agentapi" / "builtin_adapters").glob("*.toml"))
    assert shipped == SPECS
    assert static_files(installed / "agentapi" / "server" / "static") == static_files(STATIC)


def test_the_installed_package_works_from_any_folder(installed: Path, tmp_path: Path) -> None:
    seen = probe([str(installed)], tmp_path)
    assert seen["package"].startswith(str(installed))
    assert seen["adapters"] == [f"adapters/{name}" for name in SPECS]
    assert seen["chat"] is True
    assert "/status" in seen["paths"]


def test_the_checkout_finds_its_adapters_without_an_editable_install() -> None:
    # Running the tests from the checkout after a plain install: the local agentapi/ folder
    # wins on sys.path and has no builtin_adapters package inside it.
    seen = probe([str(REPO)], REPO)
    assert seen["package"] == str(REPO / "agentapi" / "__init__.py")
    assert seen["adapters"] == [f"adapters/{name}" for name in SPECS]
