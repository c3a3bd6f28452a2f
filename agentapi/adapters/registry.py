"""The known adapters: the built-in specs, the user's ``--adapter`` files, lookup by name."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from agentapi.adapters.engine import Adapter
from agentapi.adapters.spec import load_spec_file, load_spec_text, parse_spec

# Where the built-in specs are when agentapi runs from a source tree whose adapters/
# folder is not installed as agentapi.builtin_adapters (a checkout on sys.path ahead of
# a wheel): beside the package.
_SOURCE_TREE_SPECS = Path(__file__).resolve().parents[2] / "adapters"


def load_adapter_file(path: Path) -> Adapter:
    return Adapter(load_spec_file(path), str(path))


class AdapterRegistry:
    """Known adapters by name and alias; later registrations override earlier ones."""

    def __init__(self, adapters: Iterable[Adapter] = ()) -> None:
        self._by_name: dict[str, Adapter] = {}
        for adapter in adapters:
            self.add(adapter)

    def add(self, adapter: Adapter) -> None:
        self._by_name[adapter.name] = adapter

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def all(self) -> list[Adapter]:
        return [self._by_name[n] for n in self.names()]

    def lookup(self, type_name: str) -> Adapter | None:
        key = type_name.strip().lower()
        if key in self._by_name:
            return self._by_name[key]
        for adapter in self._by_name.values():
            if key in adapter.aliases:
                return adapter
        return None

    def guess(self, command: str) -> Adapter:
        """The adapter for an agent command, from its base name; ``custom`` otherwise."""
        base = Path(command).name.lower()
        for adapter in self._by_name.values():
            if base == adapter.name or base in adapter.aliases or base in adapter.commands:
                return adapter
        return self._by_name["custom"]


def _builtin_folder() -> Traversable:
    try:
        return resources.files("agentapi.builtin_adapters")
    except ModuleNotFoundError:
        return _SOURCE_TREE_SPECS


def builtin_adapters() -> list[Adapter]:
    adapters = []
    for entry in sorted(_builtin_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            source = f"adapters/{entry.name}"
            spec = load_spec_text(entry.read_text(encoding="utf-8"), source)
            adapters.append(Adapter(spec, source))
    return adapters


def default_registry(extra_files: Iterable[Path] = ()) -> AdapterRegistry:
    registry = AdapterRegistry(builtin_adapters())
    for path in extra_files:
        registry.add(load_adapter_file(path))
    return registry


def adapter_from_spec(data: dict[str, Any], source: str) -> Adapter:
    """An adapter from an already parsed spec document (as read from TOML)."""
    return Adapter(parse_spec(data, source), source)
