"""Facts the client and the engine each keep (they share no Python code) agree with each other and
with the schemas, so that one can change only together with the other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.render import FORMATS, QUALITIES
from engine.server.config import DEFAULT_MAX_UPLOAD_BYTES
from handlers._constants import EXPORT_FORMATS, SUPPORTED_EXTENSIONS, UPLOAD_LIMIT_BYTES

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas" / "tools"


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def test_the_export_formats_are_the_same_for_the_client_the_engine_and_the_export_schemas() -> None:
    assert EXPORT_FORMATS == FORMATS
    assert EXPORT_FORMATS[0] == "mp4"  # the default, first in every list shown to the user
    assert tuple(schema("export.input.json")["properties"]["format"]["enum"]) == EXPORT_FORMATS
    assert tuple(schema("export.output.json")["properties"]["format"]["enum"]) == EXPORT_FORMATS


def test_the_export_qualities_are_the_same_for_the_engine_and_the_export_schema() -> None:
    assert tuple(schema("export.input.json")["properties"]["quality"]["enum"]) == QUALITIES


def test_the_client_checks_uploads_against_the_engines_limit_and_formats() -> None:
    from engine.server._errors import ACCEPTED_FORMATS

    assert UPLOAD_LIMIT_BYTES == DEFAULT_MAX_UPLOAD_BYTES
    assert tuple(ACCEPTED_FORMATS.split()) == SUPPORTED_EXTENSIONS
