"""Locate and load the JSON Schemas under ``schemas/`` (the contract shared with the client)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from video_generator_ai import SKILL_ROOT

SCHEMAS_DIR = SKILL_ROOT / "schemas"  # the skill folder's, or the copy inside a wheel


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``schemas/<name>`` as a dict (read once, then cached)."""
    path = SCHEMAS_DIR / name
    try:
        loaded: object = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"schema {name!r} not found at {path}; the skill's schemas/ is missing (reinstall the skill)"
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
