"""agentapi: an HTTP and SSE API for terminal coding agents."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agentapi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.13.0"
