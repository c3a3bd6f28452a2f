"""Test doubles that stand in for outside services (LLM providers)."""
