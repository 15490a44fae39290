"""skill.yaml, schemas/, the handlers and the versions are checked to agree when the manifest loads."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import anyio
import pytest
import yaml
from mcp import Client

import handlers
from handlers import cli
from handlers._attribution import SKILL_ROOT
from handlers._errors import InputError, ManifestError
from handlers._tooldefs import definitions
from handlers.mcp_server import build_server

# THE pinned tool list of the tests (the CLI, MCP and README tests read it): skill.yaml must match it.
TOOLS = ("create_session", "send_message", "upload", "get_state", "export", "credits", "edit")


def copy_skill(tmp_path: Path) -> Path:
    root = tmp_path / "skill"
    root.mkdir()
    shutil.copy(SKILL_ROOT / "skill.yaml", root / "skill.yaml")
    shutil.copy(SKILL_ROOT / "SKILL.md", root / "SKILL.md")
    shutil.copytree(SKILL_ROOT / "schemas", root / "schemas")
    return root


def edit_yaml(root: Path, change: object) -> None:
    data = yaml.safe_load((root / "skill.yaml").read_text())
    change(data)  # type: ignore[operator]
    (root / "skill.yaml").write_text(yaml.safe_dump(data))


def test_the_real_manifest_loads_seven_tools_with_handlers_and_schemas() -> None:
    manifest = handlers.load_manifest()
    assert manifest.names == TOOLS
    assert manifest.version == "0.1.0"
    for spec in manifest.tools:
        assert spec.handler_ref == f"handlers.tools.{spec.name}:{spec.name}"
        assert spec.input_schema["$schema"].endswith("2020-12/schema")
        assert {"ok", "backend", "text", "error"} <= set(spec.output_schema["properties"])
        assert spec.description


def test_the_version_and_name_come_from_skill_md_and_skill_yaml_repeats_no_version(
    tmp_path: Path,
) -> None:
    root = copy_skill(tmp_path)
    (root / "SKILL.md").write_text("---\nname: renamed-skill\nmetadata:\n  version: 0.2.0\n---\n")
    manifest = handlers.load_manifest(root)
    assert (manifest.name, manifest.version) == ("renamed-skill", "0.2.0")
    (root / "SKILL.md").write_text("---\nname: renamed-skill\n---\n")
    with pytest.raises(ManifestError) as caught:
        handlers.load_manifest(root)
    assert "has no metadata.version" in caught.value.message
    (root / "SKILL.md").write_text("---\nname: renamed-skill\nmetadata:\n  version: 0.2.0\n---\n")
    edit_yaml(root, lambda d: d.update(version="0.2.0"))
    with pytest.raises(ManifestError) as caught:
        handlers.load_manifest(root)
    assert "skill.yaml carries a version: remove it" in caught.value.message


def test_a_handler_that_cannot_be_imported_is_named(tmp_path: Path) -> None:
    root = copy_skill(tmp_path)
    edit_yaml(root, lambda d: d["tools"][0].update(handler="handlers.tools.nowhere:create_session"))
    with pytest.raises(ManifestError) as caught:
        handlers.load_manifest(root)
    assert (
        "tool create_session: handler module handlers.tools.nowhere cannot be imported"
        in caught.value.message
    )


def test_a_missing_schema_and_a_missing_tool_are_both_listed(tmp_path: Path) -> None:
    root = copy_skill(tmp_path)
    (root / "schemas" / "tools" / "credits.output.json").unlink()
    edit_yaml(root, lambda d: d.update(tools=[t for t in d["tools"] if t["name"] != "upload"]))
    with pytest.raises(ManifestError) as caught:
        handlers.load_manifest(root)
    problems = caught.value.problems
    assert any("credits.output.json is missing" in p for p in problems)
    assert any("lacks the tools upload" in p for p in problems)


def test_invalid_input_lists_every_problem_with_what_to_send_instead() -> None:
    spec = handlers.load_manifest().tool("export")
    with pytest.raises(InputError) as caught:
        spec.validate_input({"format": "mp5", "quality": "ultra", "colour": "red"})
    problems = caught.value.problems
    assert len(problems) == 3
    assert any("unknown field(s) 'colour'" in p and "allowed: session_id, format" in p for p in problems)
    assert any(p.startswith("format:") and '"mp4", "mov", "avi", "webm", "mkv"' in p for p in problems)
    assert any(p.startswith("quality:") and '"low", "medium", "high"' in p for p in problems)


def test_upload_needs_files_or_urls() -> None:
    spec = handlers.load_manifest().tool("upload")
    with pytest.raises(InputError) as caught:
        spec.validate_input({})
    assert caught.value.problems == ["send files or urls (at least one)"]


def test_a_call_with_bad_input_comes_back_as_a_result_not_an_exception() -> None:
    result = handlers.call_tool("send_message", {"text": "hello"})
    assert result["ok"] is False
    assert result["error"]["code"] == "invalid_input"
    assert "missing 'message': send a string" in result["error"]["problems"][1]


def test_an_unknown_tool_names_the_tools_there_are() -> None:
    result = handlers.call_tool("render", {})
    assert result["error"]["code"] == "unknown_tool"
    assert (
        "use one of create_session, send_message, upload, get_state, export, credits, edit"
        in result["error"]["problems"][0]
    )


@pytest.mark.parametrize("tool", TOOLS)
def test_a_failure_result_matches_every_output_schema(tool: str) -> None:
    spec = handlers.load_manifest().tool(tool)
    failure = {
        "ok": False,
        "backend": "local",
        "text": "x",
        "error": {"code": "no_credits", "message": "m", "recovery": "r"},
    }
    assert spec.output_problems(failure) == []
    assert spec.output_problems({"ok": False, "backend": "local", "text": "x"}) != []


def test_the_cli_and_mcp_fields_of_each_tool_are_checked_when_the_manifest_loads(tmp_path: Path) -> None:
    root = copy_skill(tmp_path)

    def spoil(data: dict[str, Any]) -> None:
        tools = {t["name"]: t for t in data["tools"]}
        tools["send_message"]["positional"] = "words"
        tools["get_state"]["annotations"]["readOnly"] = True
        tools["credits"]["annotations"]["idempotentHint"] = "yes"
        del tools["upload"]["summary"]

    edit_yaml(root, spoil)
    with pytest.raises(ManifestError) as caught:
        handlers.load_manifest(root)
    problems = caught.value.problems
    assert any("send_message: positional 'words' is not an input property" in p for p in problems)
    assert any("get_state: unknown annotation 'readOnly'" in p and "readOnlyHint" in p for p in problems)
    assert any("credits: annotation idempotentHint must be true or false" in p for p in problems)
    assert any("upload lacks summary" in p for p in problems)


def test_a_new_tool_needs_only_its_skill_yaml_entry_its_schemas_and_its_handler(
    tmp_path: Path, isolated: Path
) -> None:
    """skill.yaml is the one list: the CLI, the MCP server and `tools` pick a new entry up unchanged."""
    root = copy_skill(tmp_path)
    for kind in ("input", "output"):
        shutil.copy(
            root / "schemas" / "tools" / f"credits.{kind}.json",
            root / "schemas" / "tools" / f"balance.{kind}.json",
        )

    def add(data: dict[str, Any]) -> None:
        data["tools"].append(
            {
                "name": "balance",
                "handler": "handlers.tools.credits:credits",
                "description": "The credit balance, by another name.",
                "input": "schemas/tools/balance.input.json",
                "output": "schemas/tools/balance.output.json",
                "summary": "Show the balance.",
                "examples": ["videogen balance"],
                "annotations": {"title": "Balance", "readOnlyHint": True},
            }
        )

    edit_yaml(root, add)
    manifest = handlers.load_manifest(root)
    assert manifest.names[-1] == "balance"
    assert "Show the balance." in cli.build_parser(manifest).format_help()
    assert "balance" in [t["function"]["name"] for t in definitions("openai", manifest)]
    server_tools = {t.name: t for t in _mcp_tools(manifest)}
    assert server_tools["balance"].annotations is not None
    assert server_tools["balance"].annotations.read_only_hint is True
    assert server_tools["balance"].annotations.title == "Balance"


def _mcp_tools(manifest: handlers.Manifest) -> list[Any]:
    async def listed() -> list[Any]:
        with anyio.fail_after(30):
            async with Client(build_server(manifest, config=handlers.Config.from_env())) as client:
                return list((await client.list_tools()).tools)

    return anyio.run(listed)


@pytest.mark.parametrize(
    ("message", "text"),
    [
        ("The engine asks: which title first?", "The engine asks: which title first? Try again"),
        ("Upload failed.", "Upload failed. Try again"),
        ("No credits left", "No credits left. Try again"),
    ],
)
def test_a_failure_text_is_one_sentence_then_what_to_do(message: str, text: str) -> None:
    from handlers._errors import VideogenError
    from handlers._frontend import failure_result

    result = failure_result(VideogenError(message, recovery="Try again"), backend="local")
    assert result["text"] == text
