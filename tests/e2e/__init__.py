"""End-to-end tests: real agent CLIs against the fake LLM server."""
