"""Response bodies → data or the §8 error with the right words; tokens never leak into messages."""

from __future__ import annotations

import json

import pytest

from handlers._envelope import parse_body
from handlers._errors import (
    ApiError,
    ExportBlockedError,
    FileTooLargeError,
    MissingClientIdError,
    NoCreditsError,
    RateLimitedError,
    SessionBusyError,
    SessionNotFoundError,
    TokenExpiredError,
    UnsupportedFileError,
    redact,
)


def body(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_the_envelope_the_success_shape_and_a_bare_object_all_give_their_data() -> None:
    assert parse_body(200, body({"code": 0, "message": "ok", "data": {"a": 1}})) == {"a": 1}
    assert parse_body(200, body({"success": True, "data": {"a": 2}})) == {"a": 2}
    assert parse_body(200, body({"available": 3, "frozen": 0, "total": 3})) == {
        "available": 3,
        "frozen": 0,
        "total": 3,
    }


@pytest.mark.parametrize(
    ("status", "payload", "kind", "code"),
    [
        (200, {"code": 1001, "message": "token expired"}, TokenExpiredError, "token_expired"),
        (401, {"code": 1001, "message": "bad token"}, TokenExpiredError, "token_expired"),
        (200, {"code": 1002, "message": "session not found"}, SessionNotFoundError, "session_not_found"),
        (404, {"detail": "Session not found: abc"}, SessionNotFoundError, "session_not_found"),
        (409, {"code": 1003, "message": "session abc is busy"}, SessionBusyError, "session_busy"),
        (200, {"code": 2001, "message": "no credits"}, NoCreditsError, "no_credits"),
        (200, {"code": 4001, "message": "unsupported"}, UnsupportedFileError, "unsupported_file"),
        (200, {"code": 4002, "message": "too large"}, FileTooLargeError, "file_too_large"),
        (400, {"detail": "missing X-Client-Id"}, MissingClientIdError, "missing_client_id"),
        (402, {"code": 402, "message": "payment required"}, ExportBlockedError, "export_blocked"),
        (429, {"detail": "too many"}, RateLimitedError, "rate_limited"),
        (200, {"success": False, "message": "nope"}, ApiError, "server_error"),
    ],
)
def test_each_failure_maps_to_its_error_kind(
    status: int, payload: object, kind: type[ApiError], code: str
) -> None:
    with pytest.raises(kind) as caught:
        parse_body(status, body(payload))
    assert caught.value.to_error()["code"] == code


def test_recoveries_carry_the_protocols_words() -> None:
    assert "create_session" in SessionNotFoundError("x").recovery
    assert "500 MB" in FileTooLargeError("x").recovery
    assert "not about credits" in ExportBlockedError("x").recovery
    assert "30 seconds" in RateLimitedError("x").recovery
    unsupported = UnsupportedFileError("x").to_error()
    assert "mp4" in unsupported["recovery"]
    assert "aac" in unsupported["supported_formats"]
    anonymous = NoCreditsError("x", register_url="https://nemovideo.com/register?bind=anon_1").to_error()
    assert anonymous["register_url"] == "https://nemovideo.com/register?bind=anon_1"
    assert "register" in anonymous["recovery"].lower()
    assert "top up" in NoCreditsError("x", register_url=None).recovery


def test_a_non_json_error_body_still_gives_an_error() -> None:
    with pytest.raises(ApiError) as caught:
        parse_body(502, b"<html>Bad gateway</html>")
    assert caught.value.http_status == 502


def test_tokens_are_scrubbed_from_every_message() -> None:
    assert "nmv_usr_secret" not in redact("failed with nmv_usr_secret123")
    assert "abcdef" not in redact("Authorization: Bearer abcdefghijkl")
    error = TokenExpiredError("token=nmv_usr_abcdefgh rejected")
    assert "nmv_usr" not in json.dumps(error.to_error())


def test_every_error_kind_is_documented_in_the_error_schema() -> None:
    from handlers import _errors
    from handlers._attribution import SKILL_ROOT

    schema = json.loads((SKILL_ROOT / "schemas" / "error.schema.json").read_text())
    documented = schema["properties"]["code"]["description"]
    classes = [c for c in vars(_errors).values() if isinstance(c, type)]
    kinds = [c for c in classes if issubclass(c, _errors.VideogenError)]
    assert len(kinds) > 20
    for kind in kinds:
        assert kind.code in documented, kind


def test_an_error_wrapped_by_task_groups_is_reported_as_itself() -> None:
    from handlers._dispatch import unwrap
    from handlers._errors import InputError

    inner = InputError("the message is empty: say what to make or change", [])
    assert unwrap(ExceptionGroup("tg", [ExceptionGroup("tg", [inner])])) is inner
    several = ExceptionGroup("tg", [ValueError("a"), ValueError("b")])
    assert unwrap(several) is several
