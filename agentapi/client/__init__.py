"""Clients of a running daemon: the Python API (async and sync), attach, the CLI commands."""

from agentapi.client.api import *  # noqa: F403
from agentapi.client.api import __all__  # noqa: F401
