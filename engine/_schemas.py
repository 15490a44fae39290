"""Locate and load the JSON Schemas under ``schemas/`` (the contract shared with the client)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS_DIR = Path(__file__).resolve().parent.parent / "schemas"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``schemas/<name>`` as a dict (read once, then cached)."""
    path = SCHEMAS_DIR / name
    try:
        loaded: object = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"schema {name!r} not found at {path}; the repository's schemas/ is missing"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ValueError(f"schema {path} is not valid JSON: {exc}") from exc
    if not isinstance(loaded, dict):
        raise ValueError(f"schema {path} must be a JSON object, got {type(loaded).__name__}")
    return loaded


@cache
def draft_validator() -> Draft202012Validator:
    """A validator for ``schemas/draft.schema.json`` (the schema itself is checked once)."""
    schema = load_schema("draft.schema.json")
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)
