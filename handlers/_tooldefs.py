"""Tool definitions for hosts, built from skill.yaml and schemas/ (never written by hand).

- ``openai``: ``[{"type": "function", "function": {"name", "description", "parameters", "strict"}}]``, in
  OpenAI's strict mode (``openai_strict``): an optional argument is nullable there, and a null argument
  is taken as "not given" when the tool is called (``ToolSpec.validate_input``).
- ``anthropic``: ``[{"name", "description", "input_schema"}]``
- ``mcp``: ``{"tools": [{"name", "description", "inputSchema", "outputSchema"}]}`` (a tools/list result)

Schemas are self-contained on the way out: a ``$ref`` to another schema file is inlined (hosts
cannot follow ``../error.schema.json``), and ``$schema``/``$id`` are left out of every copy.

Input schemas lose their top-level ``anyOf``/``oneOf``/``allOf``: Anthropic's API rejects a tool whose
``input_schema`` has one at the root (400 for the whole request, every tool), and MCP hosts pass the
schema through. The rule moves into the schema's description; the tool still enforces it, since
calls are validated against the original schema in ``schemas/``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

from handlers._manifest import Manifest, ToolSpec, load_manifest

__all__ = [
    "FORMATS",
    "OPENAI_STRICT_KEYWORDS",
    "Format",
    "definitions",
    "host_input_schema",
    "input_schema",
    "openai_strict",
    "output_schema",
    "self_contained",
]

Format = Literal["openai", "anthropic", "mcp"]
FORMATS: tuple[str, ...] = get_args(Format)
_META_KEYS = ("$schema", "$id")


def self_contained(schema: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """A copy of `schema` (read from `path`) with file references inlined and meta keys dropped."""
    inlined: dict[str, Any] = _inline(copy.deepcopy(dict(schema)), path.parent, seen=(path.resolve(),))
    return inlined


def _inline(node: Any, base: Path, seen: tuple[Path, ...]) -> Any:
    if isinstance(node, list):
        return [_inline(item, base, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and not ref.startswith("#"):
        target = (base / ref.split("#", 1)[0]).resolve()
        if target in seen:
            raise ValueError(f"schema reference cycle through {target}")
        loaded = json.loads(target.read_text(encoding="utf-8"))
        if "#" in ref or _has_local_refs(loaded):
            # Inlining would break pointers into the other file; no schema of ours needs that.
            raise ValueError(f"cannot inline {ref!r}: it points inside, or into, another file's $defs")
        rest = {k: v for k, v in node.items() if k != "$ref"}
        merged = {**_inline(loaded, target.parent, (*seen, target)), **_inline(rest, base, seen)}
        return {k: v for k, v in merged.items() if k not in _META_KEYS}
    return {k: _inline(v, base, seen) for k, v in node.items() if k not in _META_KEYS}


def _has_local_refs(node: Any) -> bool:
    if isinstance(node, dict):
        ref = node.get("$ref")
        return (isinstance(ref, str) and ref.startswith("#")) or any(
            _has_local_refs(v) for v in node.values()
        )
    if isinstance(node, list):
        return any(_has_local_refs(v) for v in node)
    return False


_COMBINATORS = ("anyOf", "oneOf", "allOf")


def _describe_rule(keyword: str, options: list[Any]) -> str:
    if all(isinstance(o, dict) and set(o) == {"required"} for o in options):
        groups = [" and ".join(o["required"]) for o in options]
        lead = {"anyOf": "Send at least one of", "oneOf": "Send exactly one of", "allOf": "Send all of"}[
            keyword
        ]
        return (
            f"{lead}: {', '.join(groups[:-1])} or {groups[-1]}."
            if len(groups) > 1
            else f"{lead}: {groups[0]}."
        )
    return f"The arguments must also match {keyword} {json.dumps(options, separators=(',', ':'))}."


def host_input_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` without root combinators; each becomes a sentence of the description."""
    rules = [_describe_rule(k, schema[k]) for k in _COMBINATORS if isinstance(schema.get(k), list)]
    if not rules:
        return schema
    kept = {k: v for k, v in schema.items() if k not in _COMBINATORS}
    kept["description"] = " ".join([str(schema.get("description", "")).strip(), *rules]).strip()
    return kept


def input_schema(spec: ToolSpec) -> dict[str, Any]:
    return host_input_schema(self_contained(spec.input_schema, spec.input_path))


def output_schema(spec: ToolSpec) -> dict[str, Any]:
    return self_contained(spec.output_schema, spec.output_path)


# OpenAI's strict function calling (structured outputs) accepts only these keywords; every object lists
# all its properties in `required` and forbids others, and an optional property is nullable instead.
OPENAI_STRICT_KEYWORDS = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "anyOf",
        "$defs",
        "$ref",
        "pattern",
        "format",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
    }
)
_RULE_WORDS = {
    "minLength": "at least {} character(s)",
    "maxLength": "at most {} character(s)",
    "default": "default {}",
    "uniqueItems": "no duplicates",
}


def openai_strict(schema: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` under OpenAI's strict rules: unsupported keywords become words in the description,
    every property is required, and one that was optional accepts null (meaning "not given")."""
    notes = [
        _RULE_WORDS.get(k, k + " {}").format(json.dumps(v) if k == "default" else v)
        for k, v in schema.items()
        if k not in OPENAI_STRICT_KEYWORDS
        and k not in {"title", "examples", "$schema", "$id"}
        and not (k == "uniqueItems" and v is False)
    ]
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in OPENAI_STRICT_KEYWORDS:
            continue
        if key == "properties":
            required = set(schema.get("required", ()))
            out[key] = {
                name: openai_strict(sub) if name in required else _nullable(openai_strict(sub))
                for name, sub in value.items()
            }
        elif key in ("items", "additionalProperties") and isinstance(value, Mapping):
            out[key] = openai_strict(value)
        elif key in ("anyOf", "$defs"):
            out[key] = (
                [openai_strict(v) for v in value]
                if isinstance(value, list)
                else {k: openai_strict(v) for k, v in value.items()}
            )
        else:
            out[key] = value
    if "properties" in out:
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    if notes:
        text = str(out.get("description", "")).strip()
        out["description"] = (text + (" " if text else "") + "(" + "; ".join(notes) + ")").strip()
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` that also accepts null: in the type list where the schema has one type, else anyOf."""
    kind = schema.get("type")
    if isinstance(kind, str) and "enum" not in schema:
        return {**schema, "type": [kind, "null"]}
    if isinstance(kind, list):
        return schema if "null" in kind else {**schema, "type": [*kind, "null"]}
    description = schema.get("description")
    inner = {k: v for k, v in schema.items() if k != "description"}
    wrapped: dict[str, Any] = {"anyOf": [inner, {"type": "null"}]}
    if description:
        wrapped["description"] = description
    return wrapped


def definitions(fmt: str, manifest: Manifest | None = None) -> Any:
    """The tools in a host's format (see the module docstring); ValueError for an unknown format."""
    manifest = manifest or load_manifest()
    if fmt == "openai":
        return [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": openai_strict(input_schema(t)),
                    "strict": True,
                },
            }
            for t in manifest.tools
        ]
    if fmt == "anthropic":
        return [
            {"name": t.name, "description": t.description, "input_schema": input_schema(t)}
            for t in manifest.tools
        ]
    if fmt == "mcp":
        return {
            "tools": [
                {
                    "name": t.name,
                    "description": t.description,
                    "inputSchema": input_schema(t),
                    "outputSchema": output_schema(t),
                }
                for t in manifest.tools
            ]
        }
    raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
