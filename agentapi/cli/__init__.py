"""The ``agentapi`` command line."""

from agentapi.cli.main import main, run_server

__all__ = ["main", "run_server"]
