"""The tool manifest: skill.yaml + schemas/ + the handler functions, checked to agree with each other.

skill.yaml is the ONE list of tools. Each entry carries everything a front-end needs about its tool:
the handler, the description, the two schemas, the CLI's one-line `summary`, `positional` argument
and `examples`, and the MCP `annotations` (hints for hosts). Nothing else lists the tools: the CLI,
the MCP server and `videogen tools` read them from here.

`load_manifest()` fails with a `ManifestError` listing every problem: a tool without an importable
async handler, a missing or invalid schema, a schema pair in schemas/tools/ that skill.yaml does not
list, bad CLI or annotation fields, or a SKILL.md without `metadata.version`. The version is written
once, there (video_generator_ai.skill_version); skill.yaml and pyproject.toml read it, never repeat it.
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import yaml
from referencing import Registry, Resource

from handlers._attribution import SKILL_ROOT, default_skill_md, frontmatter_version, read_frontmatter
from handlers._errors import InputError, ManifestError

if TYPE_CHECKING:
    from handlers._context import ToolContext

__all__ = ["ANNOTATION_HINTS", "Handler", "Manifest", "ToolSpec", "describe_problems", "load_manifest"]

Handler = Callable[[dict[str, Any], "ToolContext"], Awaitable[dict[str, Any]]]

# MCP's tool annotations (spec names), each a boolean hint; `title` is a string.
ANNOTATION_HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    handler_ref: str  # "handlers.tools.<module>:<function>"
    handler: Handler
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    input_path: Path
    output_path: Path
    summary: str = ""  # one line for `videogen --help`'s command list
    positional: str | None = None  # the input property the CLI also takes positionally
    examples: tuple[str, ...] = ()  # command lines for `videogen TOOL --help`
    annotations: Mapping[str, Any] = field(default_factory=dict)  # MCP: title and *Hint booleans
    _registry: Registry[Any] = field(repr=False, compare=False, default_factory=Registry)

    def validate_input(self, args: object) -> dict[str, Any]:
        """Return args (a dict) or raise InputError listing every problem with what to send instead.

        A null for an optional argument means "not given" (OpenAI's strict mode sends every argument,
        null for those the model leaves out), so it is dropped before validation."""
        if isinstance(args, dict):
            required = set(self.input_schema.get("required", ()))
            args = {k: v for k, v in args.items() if v is not None or k in required}
        validator = jsonschema.Draft202012Validator(self.input_schema, registry=self._registry)
        problems = describe_problems(validator.iter_errors(args), self.input_schema)
        if problems:
            raise InputError(f"invalid input for {self.name}: " + "; ".join(problems), problems)
        assert isinstance(args, dict)
        return args

    def output_problems(self, result: Mapping[str, Any]) -> list[str]:
        validator = jsonschema.Draft202012Validator(self.output_schema, registry=self._registry)
        return [f"{_where(e)}: {e.message}" for e in validator.iter_errors(dict(result))]


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    tools: tuple[ToolSpec, ...]
    root: Path

    def tool(self, name: str) -> ToolSpec:
        for spec in self.tools:
            if spec.name == name:
                return spec
        known = ", ".join(t.name for t in self.tools)
        raise InputError(
            f"unknown tool {name!r}",
            [f"tool {name!r} does not exist: use one of {known}"],
            code="unknown_tool",
        )

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tools)


def _where(error: jsonschema.ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    return path or "input"


def _describe(schema: Mapping[str, Any]) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    kind = schema.get("type", "a value")
    text = {"string": "a string", "array": "a list", "boolean": "true or false", "object": "an object"}.get(
        str(kind), f"a {kind}"
    )
    if kind == "array" and isinstance(schema.get("items"), Mapping):
        text += " of " + _describe(schema["items"]).removeprefix("a ").removeprefix("an ") + "s"
    if schema.get("description"):
        text += f" ({schema['description']})"
    return text


def describe_problems(errors: Any, schema: Mapping[str, Any]) -> list[str]:
    """jsonschema errors -> one sentence each: what is wrong and what to send instead."""
    top: Mapping[str, Any] = schema.get("properties", {})
    problems: list[str] = []
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        where = _where(error)
        sub = error.schema if isinstance(error.schema, Mapping) else {}
        # inside the arguments (an item of a list, say): that object's own fields, and where it is
        props: Mapping[str, Any] = top if where == "input" else sub.get("properties", {})
        at = "" if where == "input" else f"{where}: "
        if error.validator == "required":
            missing = str(error.message).split("'")[1] if "'" in str(error.message) else str(error.message)
            want = _describe(props.get(missing, {}))
            problems.append(f"{at}missing {missing!r}: send {want}")
        elif error.validator == "additionalProperties":
            allowed = ", ".join(props) or "no fields"
            extra = sorted(set(error.instance) - set(props)) if isinstance(error.instance, dict) else []
            problems.append(
                f"{at}unknown field(s) {', '.join(map(repr, extra))}: remove them; allowed: {allowed}"
            )
        elif error.validator == "anyOf" and where == "input":
            options = [" and ".join(o.get("required", [])) for o in error.validator_value]
            problems.append("send " + " or ".join(o for o in options if o) + " (at least one)")
        elif error.validator == "type" and where == "input":
            problems.append(f"the arguments must be a JSON object, got {type(error.instance).__name__}")
        else:
            problems.append(f"{where}: {error.message}; send {_describe(sub)}")
    return problems


def _read_schema(path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"schema file {path} is missing")
        return None
    except (OSError, ValueError) as exc:
        problems.append(f"schema file {path} is not valid JSON: {exc}")
        return None
    if not isinstance(schema, dict):
        problems.append(f"schema file {path} is not a JSON object")
        return None
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        problems.append(f"schema file {path} is not a valid JSON Schema: {exc.message}")
        return None
    return schema


def _import_handler(ref: str, problems: list[str], tool: str) -> Handler | None:
    module_name, _, func_name = ref.partition(":")
    if not module_name or not func_name:
        problems.append(f"tool {tool}: handler {ref!r} is not 'module:function'")
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        problems.append(f"tool {tool}: handler module {module_name} cannot be imported ({exc})")
        return None
    func = getattr(module, func_name, None)
    if func is None or not inspect.iscoroutinefunction(func):
        problems.append(f"tool {tool}: {ref} is not an async function")
        return None
    handler: Handler = func
    return handler


def _registry(root: Path) -> Registry[Any]:
    resources: list[tuple[str, Resource[Any]]] = []
    for path in sorted((root / "schemas").rglob("*.json")):
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(schema, dict) and isinstance(schema.get("$id"), str):
            resources.append((schema["$id"], Resource.from_contents(schema)))
    registry: Registry[Any] = Registry().with_resources(resources)
    return registry


@dataclass(frozen=True)
class _FrontEnd:
    summary: str
    positional: str | None
    examples: tuple[str, ...]
    annotations: dict[str, Any]


def _front_end_fields(
    entry: Mapping[str, Any], in_schema: Mapping[str, Any] | None, problems: list[str]
) -> _FrontEnd | None:
    """The CLI's and MCP's fields of one skill.yaml entry, checked; None (with problems) if wrong."""
    tool = entry["name"]
    count = len(problems)
    summary = " ".join(str(entry.get("summary") or "").split())
    if not summary:
        problems.append(f"tool {tool} lacks summary (one line for the CLI's command list)")
    positional = entry.get("positional")
    props = (in_schema or {}).get("properties", {})
    if positional is not None and (not isinstance(positional, str) or positional not in props):
        problems.append(
            f"tool {tool}: positional {positional!r} is not an input property (use one of "
            f"{', '.join(props) or 'none'})"
        )
    examples = entry.get("examples", [])
    if not isinstance(examples, list) or not all(isinstance(e, str) for e in examples):
        problems.append(f"tool {tool}: examples must be a list of command lines")
        examples = []
    annotations = entry.get("annotations")
    if not isinstance(annotations, dict) or not isinstance(annotations.get("title"), str):
        problems.append(f"tool {tool} lacks annotations with a title (MCP hints for hosts)")
        annotations = {}
    for key, value in annotations.items():
        if key == "title":
            continue
        if key not in ANNOTATION_HINTS:
            problems.append(
                f"tool {tool}: unknown annotation {key!r}; use title, {', '.join(ANNOTATION_HINTS)}"
            )
        elif not isinstance(value, bool):
            problems.append(f"tool {tool}: annotation {key} must be true or false")
    if len(problems) > count:
        return None
    return _FrontEnd(summary, positional, tuple(examples), dict(annotations))


def load_manifest(root: Path | None = None, *, skill_md: Path | None = None) -> Manifest:
    """Read skill.yaml under `root` (the skill's folder) and check it against everything it names."""
    root = root or SKILL_ROOT
    skill_md = skill_md or (default_skill_md() if root == SKILL_ROOT else root / "SKILL.md")
    problems: list[str] = []
    try:
        raw = yaml.safe_load((root / "skill.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ManifestError([f"skill.yaml cannot be read: {exc}"]) from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("tools"), list):
        raise ManifestError(["skill.yaml must be a mapping with a 'tools' list"])
    name = str(raw.get("name") or "")
    version = ""
    if "version" in raw:
        problems.append(
            "skill.yaml carries a version: remove it; the version is SKILL.md's metadata.version (one place)"
        )
    if skill_md.is_file():
        front = read_frontmatter(skill_md.read_text(encoding="utf-8"))
        version = frontmatter_version(front) or ""
        if not version:
            problems.append(f"{skill_md} has no metadata.version in its frontmatter: add one (e.g. 0.1.0)")
        if front.get("name"):
            name = str(front["name"])
    else:
        problems.append(f"{skill_md} is missing: the skill's name and version are read from it")
    if not name:
        problems.append("skill.yaml needs a name")

    registry = _registry(root)
    tools: list[ToolSpec] = []
    seen: set[str] = set()
    for entry in raw["tools"]:
        if not isinstance(entry, dict) or not entry.get("name"):
            problems.append(f"tool entry {entry!r} has no name")
            continue
        tool = str(entry["name"])
        if tool in seen:
            problems.append(f"tool {tool} is listed twice")
        seen.add(tool)
        missing = [k for k in ("handler", "description", "input", "output") if not entry.get(k)]
        if missing:
            problems.append(f"tool {tool} lacks {', '.join(missing)}")
            continue
        handler = _import_handler(str(entry["handler"]), problems, tool)
        in_path, out_path = root / str(entry["input"]), root / str(entry["output"])
        in_schema, out_schema = _read_schema(in_path, problems), _read_schema(out_path, problems)
        fe = _front_end_fields(entry, in_schema, problems)
        if handler is None or in_schema is None or out_schema is None or fe is None:
            continue
        tools.append(
            ToolSpec(
                name=tool,
                description=" ".join(str(entry["description"]).split()),
                handler_ref=str(entry["handler"]),
                handler=handler,
                input_schema=in_schema,
                output_schema=out_schema,
                input_path=in_path,
                output_path=out_path,
                summary=fe.summary,
                positional=fe.positional,
                examples=fe.examples,
                annotations=fe.annotations,
                _registry=registry,
            )
        )
    # a tool's schema pair without an entry: skill.yaml forgot it (or the schemas outlived the tool)
    schema_dir = root / "schemas" / "tools"
    named = {p.name.removesuffix(".input.json") for p in schema_dir.glob("*.input.json")}
    absent = sorted(named - seen)
    if absent:
        problems.append(f"skill.yaml lacks the tools {', '.join(absent)} (schemas/tools/ has their schemas)")
    if problems:
        raise ManifestError(problems)
    return Manifest(name=name, version=version, tools=tuple(tools), root=root)
