"""Every agent type the original supports, which ours must know too (a contract, written out
rather than read from the registry under test)."""

AGENT_TYPES = (
    "claude",
    "goose",
    "aider",
    "codex",
    "gemini",
    "copilot",
    "amp",
    "cursor",
    "auggie",
    "amazonq",
    "opencode",
    "custom",
)
