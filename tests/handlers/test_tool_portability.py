"""Tool schemas every host accepts: the MCP Inspector's portability rules for `tools --format mcp`, and
OpenAI's strict function-calling rules for `tools --format openai`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import handlers
from handlers._errors import InputError
from handlers._tooldefs import OPENAI_STRICT_KEYWORDS, definitions, openai_strict

# The Inspector's "untyped-schema" rule: a schema with none of these constrains nothing.
CONSTRAINING = {
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "format", "maxItems", "minItems", "uniqueItems", "maxContains",
    "minContains", "maxProperties", "minProperties", "required", "dependentRequired", "allOf", "anyOf",
    "oneOf", "not", "items", "prefixItems", "contains", "properties", "patternProperties",
    "additionalProperties", "propertyNames", "$ref",
}  # fmt: skip


def subschemas(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema inside `node` with its path (properties, items, combinators, $defs)."""
    if not isinstance(node, dict):
        return
    yield path, node
    for key in ("properties", "$defs", "patternProperties"):
        for name, sub in (node.get(key) or {}).items():
            yield from subschemas(sub, f"{path}/{key}/{name}")
    for key in ("items", "additionalProperties", "not", "contains"):
        if isinstance(node.get(key), dict):
            yield from subschemas(node[key], f"{path}/{key}")
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for index, sub in enumerate(node.get(key) or []):
            yield from subschemas(sub, f"{path}/{key}/{index}")


def inspector_findings(schema: dict[str, Any]) -> list[str]:
    found = []
    for path, node in subschemas(schema):
        if isinstance(node.get("type"), list):
            found.append(f"{path}: type-union {node['type']}")
        ref = node.get("$ref")
        if isinstance(ref, str) and ref and not ref.startswith("#"):
            found.append(f"{path}: remote-ref {ref}")
        if not set(node) & CONSTRAINING:
            found.append(f"{path}: untyped-schema")
    return found


def test_mcp_tool_schemas_have_no_portability_findings() -> None:
    tools = definitions("mcp")["tools"]
    assert len(tools) >= 6
    for tool in tools:
        for kind in ("inputSchema", "outputSchema"):
            assert inspector_findings(tool[kind]) == [], (tool["name"], kind)


def test_the_portability_rules_find_a_nullable_type_list_a_remote_ref_and_an_untyped_field() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"]},
            "b": {"$ref": "../x.json"},
            "c": {"description": "?"},
        },
    }
    assert inspector_findings(schema) == [
        "/properties/a: type-union ['string', 'null']",
        "/properties/b: remote-ref ../x.json",
        "/properties/c: untyped-schema",
    ]


def openai_problems(schema: dict[str, Any]) -> list[str]:
    problems = []
    if set(schema) & {"anyOf", "oneOf", "allOf"}:
        problems.append("root combinator")
    for path, node in subschemas(schema):
        problems += [f"{path}: {key}" for key in sorted(set(node) - OPENAI_STRICT_KEYWORDS)]
        if "properties" in node:
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties is not false")
            if sorted(node.get("required", [])) != sorted(node["properties"]):
                problems.append(f"{path}: not every property is required")
    return problems


def test_openai_definitions_are_valid_under_strict_mode() -> None:
    tools = definitions("openai")
    assert len(tools) >= 6
    for tool in tools:
        function = tool["function"]
        assert function["strict"] is True
        assert function["parameters"]["type"] == "object"
        assert openai_problems(function["parameters"]) == [], function["name"]


def test_strict_mode_makes_optional_arguments_nullable_and_keeps_their_rules_in_words() -> None:
    strict = openai_strict(
        {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string", "minLength": 1, "maxLength": 80},
                "format": {"enum": ["mp4", "webm"], "default": "mp4"},
            },
        }
    )
    assert strict["required"] == ["message", "format"]
    assert strict["additionalProperties"] is False
    assert strict["properties"]["message"] == {
        "type": "string",
        "description": "(at least 1 character(s); at most 80 character(s))",
    }
    assert strict["properties"]["format"] == {
        "anyOf": [{"enum": ["mp4", "webm"]}, {"type": "null"}],
        "description": '(default "mp4")',
    }
    assert openai_problems(strict) == []


def test_a_null_optional_argument_is_taken_as_not_given_and_a_null_required_one_is_refused() -> None:
    spec = handlers.load_manifest().tool("send_message")
    assert spec.validate_input({"message": "shorten the intro", "session_id": None}) == {
        "message": "shorten the intro"
    }
    with pytest.raises(InputError):
        spec.validate_input({"message": None})
