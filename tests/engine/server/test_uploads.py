"""Uploads: judged by content, bounded in size, stored whole or not at all, with harmless names."""

import io
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from engine.server import ServerConfig

from ._support import (
    auth,
    client,
    get_token,
    image_bytes,
    new_session,
    raw_multipart,
    running_server,
    serve_app,
    state,
    wav_bytes,
)

pytestmark = pytest.mark.anyio


def _home_files(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "media").rglob("*") if p.is_file())


async def test_a_file_is_judged_by_its_content_not_its_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with running_server(ServerConfig(home=home)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        url = f"/api/upload-video/nemo_agent/me/{sid}"

        text_as_png = await http.post(
            url, headers=auth(token), files={"files": ("photo.png", b"just some text")}
        )
        assert text_as_png.status_code == 415
        body = text_as_png.json()
        assert body["code"] == 4001
        assert "'photo.png' is not a supported media file" in body["message"]
        assert "mp4 mov avi webm mkv jpg jpeg png gif webp mp3 wav m4a aac" in body["message"]

        noisy = Image.frombytes("RGB", (64, 36), bytes((i * 37 + i // 7) % 256 for i in range(64 * 36 * 3)))
        buffer = io.BytesIO()
        noisy.save(buffer, format="PNG")
        whole = buffer.getvalue()
        for cut in (40, 60, len(whole) - 100):  # header only, mid-header, pixel data cut short
            broken = await http.post(url, headers=auth(token), files={"files": ("cut.png", whole[:cut])})
            assert broken.json()["code"] == 4001, cut
            assert "'cut.png' looks like png but cannot be read as media" in broken.json()["message"]

        # one bad file refuses the whole request: nothing of it is stored
        mixed = await http.post(
            url,
            headers=auth(token),
            files=[("files", ("good.png", image_bytes("PNG"))), ("files", ("bad.mp4", b"\0" * 100))],
        )
        assert mixed.json()["code"] == 4001
        assert (await state(http, token, sid))["state"]["video_infos"] == []
        assert _home_files(home) == []
        assert list((home / "tmp").iterdir()) == []

        png_as_txt = await http.post(
            url, headers=auth(token), files={"files": ("notes.txt", image_bytes("PNG"))}
        )
        assert png_as_txt.status_code == 200
        record = png_as_txt.json()["data"]["files"][0]
        assert (record["filename"], record["file_type"], record["width"], record["height"]) == (
            "notes.txt",
            "image",
            64,
            36,
        )


async def test_a_file_over_the_limit_is_refused_with_4002_and_not_kept(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with running_server(ServerConfig(home=home, max_upload_bytes=20_000)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        big = wav_bytes(seconds=2.0)  # 32 kB
        response = await http.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(token),
            files=[("files", ("small.png", image_bytes("PNG"))), ("files", ("voice.wav", big))],
        )
        assert response.status_code == 413
        assert response.json()["code"] == 4002
        assert "'voice.wav' is larger than the 20000 bytes limit" in response.json()["message"]
        assert (await state(http, token, sid))["state"]["video_infos"] == []
        assert list((home / "tmp").iterdir()) == []
        assert _home_files(home) == []


async def test_hostile_file_names_are_stored_as_harmless_display_names(tmp_path: Path) -> None:
    home = tmp_path / "home"
    names = ["../../etc/passwd", "é" * 300 + ".png", "a\x00b\x01c.png", "..\\..\\win.ini", "画面 1.png"]
    async with running_server(ServerConfig(home=home)) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        headers, body = raw_multipart(
            [(name, image_bytes("PNG", (i * 40, 10, 10))) for i, name in enumerate(names)]
        )
        response = await http.post(
            f"/api/upload-video/nemo_agent/me/{sid}", headers={**auth(token), **headers}, content=body
        )
        assert response.status_code == 200, response.text
        shown = [f["filename"] for f in response.json()["data"]["files"]]
        assert shown[0] == "passwd"
        assert len(shown[1]) == 120
        assert shown[1].endswith(".png")
        assert shown[2] == "abc.png"
        assert shown[3] == "win.ini"
        assert shown[4] == "画面 1.png"
        stored = _home_files(home)
        assert len(stored) == 5
        assert all(len(name) == 64 + 4 and name.endswith(".png") for name in stored)  # <sha256>.png
        assert not (tmp_path / "etc").exists()
        served = await http.get(response.json()["data"]["files"][4]["cdn_url"])
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"


async def test_a_url_upload_fetches_the_file_when_private_addresses_are_allowed(tmp_path: Path) -> None:
    picture = image_bytes("JPEG", (10, 120, 200))

    async def media(request: Request) -> Response:
        return Response(picture, media_type="image/jpeg")

    async def moved(request: Request) -> Response:
        return Response(status_code=302, headers={"Location": "/pictures/beach.jpg"})

    source = Starlette(routes=[Route("/pictures/beach.jpg", media), Route("/old", moved)])
    config = ServerConfig(home=tmp_path / "home", allow_private_urls=True)
    async with serve_app(source) as origin, running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        response = await http.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(token),
            json={"urls": [f"{origin}/old?sig=secret"], "source_type": "url"},
        )
        assert response.status_code == 200, response.text
        record = response.json()["data"]["files"][0]
        assert (record["filename"], record["file_type"], record["size"]) == (
            "beach.jpg",
            "image",
            len(picture),
        )
        missing = await http.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(token),
            json={"urls": [f"{origin}/nothing.png?token=abc"], "source_type": "url"},
        )
        assert missing.status_code == 422
        assert "answered HTTP 404" in missing.json()["message"]
        assert "abc" not in missing.json()["message"]


async def test_a_url_upload_over_the_size_limit_is_refused_declared_or_streamed(tmp_path: Path) -> None:
    big = image_bytes("PNG") + b"\0" * 50_000

    async def declared(request: Request) -> Response:
        return Response(big, media_type="image/png")

    async def streamed(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 8192):
                yield big[start : start + 8192]

        return StreamingResponse(chunks(), media_type="image/png")

    source = Starlette(routes=[Route("/declared.png", declared), Route("/streamed.png", streamed)])
    config = ServerConfig(home=tmp_path / "home", allow_private_urls=True, max_upload_bytes=20_000)
    async with serve_app(source) as origin, running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        for name in ("declared.png", "streamed.png"):
            response = await http.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(token),
                json={"urls": [f"{origin}/{name}"], "source_type": "url"},
            )
            assert response.status_code == 413, name
            assert response.json()["code"] == 4002
            assert f"'{name}' is larger than" in response.json()["message"]
        assert list((tmp_path / "home" / "tmp").iterdir()) == []


async def test_a_url_upload_to_a_loopback_or_private_address_is_refused(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path / "home")) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        for url in (
            f"{base}/healthz",
            "http://10.1.2.3/a.png",
            "http://[::1]/a.png",
            "http://169.254.169.254/meta",
        ):
            response = await http.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(token),
                json={"urls": [url], "source_type": "url"},
            )
            assert response.status_code == 422, url
            assert response.json()["code"] == 4000
            assert "loopback, private or link-local" in response.json()["message"]
        ftp = await http.post(
            f"/api/upload-video/nemo_agent/me/{sid}",
            headers=auth(token),
            json={"urls": ["ftp://example.com/a.png"]},
        )
        assert "only http and https" in ftp.json()["message"]


async def test_a_large_upload_refused_before_its_body_is_read_still_gets_its_answer(tmp_path: Path) -> None:
    async with running_server(ServerConfig(home=tmp_path / "home")) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        big = image_bytes("PNG") + b"\0" * 8_000_000
        expired = {**auth(token), "Authorization": "Bearer nmv_usr_not_a_token"}
        response = await http.post(
            f"/api/upload-video/nemo_agent/me/{sid}", headers=expired, files={"files": ("big.png", big)}
        )
        assert response.status_code == 401
        assert response.json()["code"] == 1001


async def test_a_url_that_never_finishes_is_given_up_after_the_time_limit(tmp_path: Path) -> None:
    never = anyio.Event()

    async def stalled(request: Request) -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield image_bytes("PNG")
            await never.wait()

        return StreamingResponse(chunks(), media_type="image/png")

    source = Starlette(routes=[Route("/stalled.png", stalled)])
    config = ServerConfig(home=tmp_path / "home", allow_private_urls=True, url_fetch_timeout_s=0.5)
    async with serve_app(source) as origin, running_server(config) as base, client(base) as http:
        token = await get_token(http)
        sid = await new_session(http, token)
        with anyio.fail_after(10):
            response = await http.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(token),
                json={"urls": [f"{origin}/stalled.png"], "source_type": "url"},
            )
        assert response.status_code == 422
        assert "took longer than 0.5 s" in response.json()["message"]
        assert list((tmp_path / "home" / "tmp").iterdir()) == []
        never.set()
