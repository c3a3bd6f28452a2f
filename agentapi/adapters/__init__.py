"""Agent adapters: how to type to an agent and how to clean its replies."""

from agentapi.adapters.engine import *  # noqa: F403
