"""Benchmarks and the conversation-corpus runner (scripts, also importable by the tests)."""
