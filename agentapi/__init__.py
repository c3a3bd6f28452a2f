"""agentapi: an HTTP and SSE API for terminal coding agents."""

from __future__ import annotations

# The version is looked up on first use: importlib.metadata (and the email parser it
# brings) costs the daemon's start-up time it needs for nothing else.
_FALLBACK_VERSION = "0.13.0"


def __getattr__(name: str) -> str:
    if name != "__version__":
        raise AttributeError(f"module 'agentapi' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("agentapi")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = _FALLBACK_VERSION
    globals()["__version__"] = found
    return found
