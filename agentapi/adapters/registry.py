"""The known adapters: the built-in specs, the user's ``--adapter`` files, lookup by name."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from agentapi.adapters.engine import Adapter
from agentapi.adapters.spec import load_spec_data, load_spec_file, parse_spec

# Where the built-in specs are when agentapi runs from a source tree whose adapters/
# folder is not installed as agentapi.builtin_adapters (a checkout on sys.path ahead of
# a wheel): beside the package.
_SOURCE_TREE_SPECS = Path(__file__).resolve().parents[2] / "adapters"


def load_adapter_file(path: Path) -> Adapter:
    return Adapter(load_spec_file(path), str(path))


class _Entry:
    """One known adapter: its names, and the adapter itself, built on first use.

    A built-in spec is read at start (its names are needed to choose one) but built,
    its patterns compiled, only when it is chosen: a daemon runs one agent of twelve.
    """

    def __init__(
        self,
        name: str,
        aliases: tuple[str, ...],
        commands: tuple[str, ...],
        build: Callable[[], Adapter],
    ) -> None:
        self.name, self.aliases, self.commands = name, aliases, commands
        self._build = build
        self._adapter: Adapter | None = None

    @classmethod
    def of(cls, adapter: Adapter) -> _Entry:
        entry = cls(adapter.name, adapter.aliases, adapter.commands, lambda: adapter)
        entry._adapter = adapter
        return entry

    @classmethod
    def builtin(cls, data: dict[str, Any], source: str) -> _Entry:
        def build() -> Adapter:
            return Adapter(parse_spec(data, source), source)

        names = _names(data)
        if names is None:  # not even its names are right: build it now, to say why
            return cls.of(build())
        return cls(*names, build)

    def adapter(self) -> Adapter:
        if self._adapter is None:
            self._adapter = self._build()
        return self._adapter


def _names(data: dict[str, Any]) -> tuple[str, tuple[str, ...], tuple[str, ...]] | None:
    """name, aliases and commands of an unbuilt spec as the built one will have them;
    None when they are not plain strings (building the spec says what is wrong)."""
    name, aliases, commands = data.get("name"), data.get("aliases", []), data.get("commands")

    def words(value: object) -> bool:
        return isinstance(value, list) and all(isinstance(w, str) for w in value)

    if not isinstance(name, str) or not words(aliases) or not (commands is None or words(commands)):
        return None
    lowered = tuple(a.lower() for a in aliases)
    return name, lowered, (name,) if commands is None else tuple(c.lower() for c in commands)


class AdapterRegistry:
    """Known adapters by name and alias; later registrations override earlier ones."""

    def __init__(self, adapters: Iterable[Adapter] = ()) -> None:
        self._by_name: dict[str, _Entry] = {}
        for adapter in adapters:
            self.add(adapter)

    def add(self, adapter: Adapter) -> None:
        self._by_name[adapter.name] = _Entry.of(adapter)

    def _add_entry(self, entry: _Entry) -> None:
        self._by_name[entry.name] = entry

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def all(self) -> list[Adapter]:
        return [self._by_name[n].adapter() for n in self.names()]

    def lookup(self, type_name: str) -> Adapter | None:
        key = type_name.strip().lower()
        if key in self._by_name:
            return self._by_name[key].adapter()
        for entry in self._by_name.values():
            if key in entry.aliases:
                return entry.adapter()
        return None

    def guess(self, command: str) -> Adapter:
        """The adapter for an agent command, from its base name; ``custom`` otherwise."""
        base = Path(command).name.lower()
        for entry in self._by_name.values():
            if base == entry.name or base in entry.aliases or base in entry.commands:
                return entry.adapter()
        return self._by_name["custom"].adapter()


def _builtin_folder() -> Path:
    # The package's folder from its import spec: importlib.resources would import tempfile,
    # shutil and more on the way to the same path (the package is never zipped).
    spec = importlib.util.find_spec("agentapi.builtin_adapters")
    if spec is None or not spec.submodule_search_locations:
        return _SOURCE_TREE_SPECS
    return Path(next(iter(spec.submodule_search_locations)))


def _builtin_entries() -> list[_Entry]:
    entries = []
    for entry in sorted(_builtin_folder().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            source = f"adapters/{entry.name}"
            entries.append(_Entry.builtin(load_spec_data(entry.read_text("utf-8"), source), source))
    return entries


def builtin_adapters() -> list[Adapter]:
    return [entry.adapter() for entry in _builtin_entries()]


def default_registry(extra_files: Iterable[Path] = ()) -> AdapterRegistry:
    registry = AdapterRegistry()
    for entry in _builtin_entries():
        registry._add_entry(entry)
    for path in extra_files:
        registry.add(load_adapter_file(path))
    return registry


def adapter_from_spec(data: dict[str, Any], source: str) -> Adapter:
    """An adapter from an already parsed spec document (as read from TOML)."""
    return Adapter(parse_spec(data, source), source)
