"""Agent adapters: how to type to an agent and how to clean its replies.

Agents differ in how their screens look, not in how the daemon works, so an adapter
is data: a TOML spec (``spec``) applied by one engine (``engine``). Built-in specs
live in the top-level ``adapters/`` folder (shipped as ``agentapi.builtin_adapters``);
a user loads more with ``--adapter FILE`` (``registry``).
"""

from agentapi.adapters.engine import (
    BRACKETED_PASTE_END,
    BRACKETED_PASTE_START,
    Adapter,
    Keystrokes,
)
from agentapi.adapters.registry import (
    AdapterRegistry,
    adapter_from_spec,
    builtin_adapters,
    default_registry,
    load_adapter_file,
)
from agentapi.adapters.spec import AdapterSpec, parse_spec
from agentapi.errors import AdapterError

__all__ = [
    "BRACKETED_PASTE_END",
    "BRACKETED_PASTE_START",
    "Adapter",
    "AdapterError",
    "AdapterRegistry",
    "AdapterSpec",
    "Keystrokes",
    "adapter_from_spec",
    "builtin_adapters",
    "default_registry",
    "load_adapter_file",
    "parse_spec",
]
