"""Built-in agent adapter specs (installed as ``agentapi.builtin_adapters``)."""
