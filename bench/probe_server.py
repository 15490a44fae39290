"""Issue 12's probes, rerun: each finding measured against an engine started from a source tree.

    .venv/bin/python bench/probe_server.py                      # this checkout
    .venv/bin/python bench/probe_server.py --src /tmp/before    # another tree (e.g. `git archive main`)
    .venv/bin/python bench/probe_server.py --json out.json      # also write the results

Each probe starts ``python -m engine.server`` from ``--src`` on 127.0.0.1 (a free port, a temporary
home), sends its requests to 127.0.0.1 only, and prints one line: finding, what it did, what it saw.
Every loop is bounded in count and time; every server and child is stopped at the end. Flags a tree
does not know (an older engine) are left out, so the same probes run before and after a change.
Probe 8 (which addresses the URL guard judges public) imports the tree's guard in a subprocess and
opens no connection at all.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
from PIL import Image

ATTRIBUTION = {
    "X-Skill-Source": "video-generator-ai",
    "X-Skill-Version": "0.1.0",
    "X-Skill-Platform": "probe",
}
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Engine:
    process: subprocess.Popen[bytes]
    url: str
    home: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def _flags(src: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "engine.server", "--help"],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@contextmanager
def engine(
    src: Path, *extra: str, env: dict[str, str] | None = None, home: Path | None = None
) -> Iterator[Engine]:
    known = _flags(src)
    argv = [sys.executable, "-m", "engine.server", "--port", "0", "--max-render-height", "90"]
    i = 0
    while i < len(extra):  # keep the flags this tree knows (with their value)
        flag = extra[i]
        takes_value = i + 1 < len(extra) and not extra[i + 1].startswith("--")
        if flag in known:
            argv += [flag, extra[i + 1]] if takes_value else [flag]
        i += 2 if takes_value else 1
    with tempfile.TemporaryDirectory(prefix="probe-") as tmp:
        where = home or Path(tmp) / "home"
        argv += ["--home", str(where)]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("VIDEOGEN_", "NEMO_"))}
        full_env.update({"PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
        process = subprocess.Popen(
            argv,
            cwd=src,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline().decode()
            found = re.search(r"ready on (http://127\.0\.0\.1:\d+)", line)
            if not found:
                raise RuntimeError(f"the engine did not start: {line!r}")
            yield Engine(process, found.group(1), where)
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)
            _kill_ffmpeg_under(where)


def _ffmpeg_under(home: Path) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with suppress(OSError):
            text = cmdline.read_bytes()
            if b"ffmpeg" in text and str(home).encode() in text:
                found.append(int(cmdline.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _kill_ffmpeg_under(home: Path) -> None:
    for pid in _ffmpeg_under(home):
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def http(e: Engine, timeout: float = 60.0) -> httpx2.Client:
    return httpx2.Client(base_url=e.url, trust_env=False, timeout=timeout)


def token(c: httpx2.Client, client_id: str = "probe") -> str:
    r = c.post("/api/auth/anonymous-token", headers={"X-Client-Id": client_id})
    r.raise_for_status()
    return str(r.json()["data"]["token"])


def auth(t: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {t}", **ATTRIBUTION}


def session(c: httpx2.Client, t: str) -> str:
    r = c.post("/api/tasks/me/with-session/nemo_agent", headers=auth(t), json={"task_name": "probe"})
    r.raise_for_status()
    return str(r.json()["data"]["session_id"])


def user(e: Engine) -> tuple[httpx2.Client, str, str]:
    c = http(e)
    t = token(c)
    return c, t, session(c, t)


def colour_draft(n: int, seconds_each: float = 0.1, src: str = "") -> dict[str, Any]:
    d = round(seconds_each * 1000)
    sg = [
        {"id": f"s{i}", "st": i * d, "d": d, "src": src, "m": {"kind": "color", "color": "#204080"}}
        for i in range(n)
    ]
    return {
        "m": {"title": "probe", "width": 1280, "height": 720, "fps": 30},
        "t": [{"id": "t1", "tt": 0, "sg": sg}],
    }


def render_body(sid: str, rid: str, draft: Any) -> bytes:
    """The JSON of a render request, encoded up front (so that no client-side encoding runs while
    /healthz is being timed in the same process)."""
    body = {"id": rid, "sessionId": sid, "draft": draft, "output": {"format": "mp4", "quality": "low"}}
    return json.dumps(body).encode()


def submit(c: httpx2.Client, t: str, sid: str, rid: str, draft: Any) -> httpx2.Response:
    raw = draft if isinstance(draft, bytes) else render_body(sid, rid, draft)
    headers = {**auth(t), "Content-Type": "application/json"}
    return c.post("/api/render/proxy/lambda", headers=headers, content=raw)


def timed_submit(c: httpx2.Client, t: str, sid: str, rid: str, body: bytes) -> tuple[str, float]:
    """Submit a render: its answer in brief ("no answer" on a timeout) and the seconds it took."""
    started = time.monotonic()
    try:
        answer = brief(submit(c, t, sid, rid, body))
    except httpx2.TimeoutException:
        answer = "no answer"
    return answer, time.monotonic() - started


def percentile(sorted_ms: list[float], share: float) -> float:
    """The ``share`` percentile of sorted latencies (0 for none)."""
    return sorted_ms[max(0, int(len(sorted_ms) * share) - 1)] if sorted_ms else 0


def brief(r: httpx2.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return f"HTTP {r.status_code}"
    code = body.get("code") if isinstance(body, dict) else None
    return f"HTTP {r.status_code}" + (f" code {code}" if code not in (None, 0) else "")


def rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def health_watch(e: Engine) -> Iterator[list[float]]:
    """Polls /healthz every 10 ms in a thread while the block runs; yields the latencies (s)."""
    latencies: list[float] = []
    stop = threading.Event()

    def run() -> None:
        with http(e, timeout=30) as c:
            for _ in range(20_000):
                if stop.is_set():
                    return
                started = time.monotonic()
                with suppress(httpx2.HTTPError):
                    c.get("/healthz")
                latencies.append(time.monotonic() - started)
                time.sleep(0.01)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield latencies
    finally:
        stop.set()
        thread.join(timeout=40)


def wav_bytes(seconds: float, rate: int = 44100) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(bytes(int(seconds * rate) * 2))
    return buffer.getvalue()


def png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, 128).save(buffer, format="PNG")
    return buffer.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (a decompression bomb's shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def wait_status(
    c: httpx2.Client, t: str, rid: str, until: Callable[[dict[str, Any]], bool], limit_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    job: dict[str, Any] = {}
    for _ in range(int(limit_s / 0.05) + 1):
        job = c.get(f"/api/render/proxy/lambda/{rid}", headers=auth(t)).json()
        if until(job) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    return job


# -- the probes ---------------------------------------------------------------------------------------


def p1_chunked(src: Path) -> str:
    with engine(src) as e, http(e, timeout=120) as c:
        t = token(c)
        before = rss_peak_mb(e.process.pid)
        mb = 64

        def body() -> Iterator[bytes]:
            yield b'{"session_id": "none", "new_message": {"parts": [{"text": "'
            for _ in range(mb * 16):
                yield b"a" * 65536
            yield b'"}]}}'

        r = c.post("/run_sse", headers=auth(t), content=body())
        grown = rss_peak_mb(e.process.pid) - before
        return f"{mb} MB chunked JSON: {brief(r)}, server peak memory +{grown:.0f} MB"


def p2_big_draft(src: Path) -> str:
    out = []
    with engine(src) as e:
        c, t, sid = user(e)
        huge = render_body(sid, "huge", colour_draft(100_000))
        with closing(c), health_watch(e) as lat:
            answer, took = timed_submit(c, t, sid, "huge", huge)
        out.append(
            f"100k segments: {answer} in {took:.1f} s, /healthz max {max(lat, default=0) * 1000:.0f} ms"
        )
    with engine(src) as e:
        c, t, sid = user(e)
        long = render_body(sid, "long", colour_draft(1000))
        with closing(c), health_watch(e) as lat:
            answer, took = timed_submit(c, t, sid, "long", long)
            job = wait_status(
                c, t, "long", lambda j: j.get("status") == "failed" or (j.get("progress") or 0) > 0, 60
            )
        lat_ms = sorted(x * 1000 for x in lat)
        p = percentile(lat_ms, 0.99)
        err = (job.get("error") or "")[:90]
        out.append(
            f"1000 segments (176 KB graph): {answer} in {took:.1f} s, "
            f"/healthz max {max(lat_ms, default=0):.0f} ms "
            f"(p99 {p:.0f} ms, n={len(lat_ms)}); render {job.get('status')} {job.get('progress')}%"
            + (f" error {err!r}" if err else "")
        )
    return "; ".join(out)


def p2_maximal(src: Path) -> str:
    """/healthz while a maximal draft (2000 segments, the default max_segments) is submitted."""
    with engine(src) as e:
        c, t, sid = user(e)
        maximal = render_body(sid, "max", colour_draft(2000))
        with closing(c), health_watch(e) as lat:
            time.sleep(1.0)  # a baseline of idle polls first
            first = len(lat)
            answer, took = timed_submit(c, t, sid, "max", maximal)
            last = len(lat) + 1  # the poll in flight when the answer came
            time.sleep(0.5)
        during = sorted(x * 1000 for x in lat[first:last])
        p99 = percentile(during, 0.99)
        median = during[len(during) // 2] if during else 0
        idle = sorted(x * 1000 for x in lat[:first])
        idle_median = idle[len(idle) // 2] if idle else 0
        return (
            f"2000 segments: {answer} in {took:.1f} s; /healthz during it: "
            f"max {max(during, default=0):.0f} ms, p99 {p99:.0f} ms, median {median:.0f} ms "
            f"(n={len(during)}); idle median {idle_median:.0f} ms"
        )


def p3_limits(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            ten = submit(c, t, sid, "ten_hours", colour_draft(1, 36_000))
            accepted = sum(
                submit(c, t, sid, f"q{i}", colour_draft(1, 600)).status_code == 200 for i in range(20)
            )
            cancel = c.post("/api/render/proxy/lambda/q0/cancel", headers=auth(t))
        queued = f"20 more 10-min renders: {accepted} accepted"
        return f"10-hour card: {brief(ten)}; {queued}; cancel: {brief(cancel)}"


def p4_quota(src: Path) -> str:
    limits = json.dumps({"upload_quota_bytes": 20 * 1024 * 1024})
    with engine(src, env={"VIDEOGEN_LIMITS": limits}) as e:
        c, t, sid = user(e)
        with closing(c):
            wav = wav_bytes(110)  # ~9.7 MB each
            files = [("files", (f"big{i}.wav", wav[: len(wav) - i * 2])) for i in range(3)]
            r = c.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=auth(t), files=files)
            text = "x" * 100_000
            body = {"session_id": sid, "new_message": {"role": "user", "parts": [{"text": text}]}}
            with c.stream("POST", "/run_sse", headers=auth(t), json=body) as m:
                m.read()
                status = brief(m)
        return f"3 x 9.7 MB in one request (quota 20 MB): {brief(r)}; 100,000-char message: {status}"


def p5_pixels(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            url = f"/api/upload-video/nemo_agent/me/{sid}"
            bomb = c.post(url, headers=auth(t), files={"files": ("bomb.png", bomb_png(50000, 50000))})
            body = bomb.json()
            leak = "Traceback" in bomb.text or "DecompressionBomb" in bomb.text
            big = c.post(url, headers=auth(t), files={"files": ("big.png", png((8000, 6000), "L"))})
        return (
            f"225-byte PNG declaring 50000x50000: {brief(bomb)}{' (exception name shown)' if leak else ''} "
            f"{str(body.get('message'))[:70]!r}; 8000x6000 (48 MP) PNG: {brief(big)}"
        )


def p6_orphans(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            submit(c, t, sid, "long", colour_draft(1, 600))
            wait_status(c, t, "long", lambda j: (j.get("progress") or 0) > 0, 60)
        pids = _ffmpeg_under(e.home)
        os.kill(e.process.pid, signal.SIGKILL)
        e.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while any(_running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        alive = [p for p in pids if _running(p)]
        return (
            f"kill -9 of the engine during a render: {len(pids)} ffmpeg, {len(alive)} still running 5 s later"
        )


def p7_forwarded(src: Path) -> str:
    with engine(src) as e, http(e) as c:
        codes = [
            c.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"c{i}"}).status_code
            for i in range(11)
        ]
        spoofed = c.post(
            "/api/auth/anonymous-token", headers={"X-Client-Id": "c-spoof", "X-Forwarded-For": "203.0.113.1"}
        )
        return f"11th token: HTTP {codes[-1]}; then with X-Forwarded-For: {brief(spoofed)}"


def p8_ipv6(src: Path) -> str:
    forms = ["::127.0.0.1", "::a9fe:a9fe", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1", "fec0::1"]
    code = f"from engine.server._uploads import _public; print(sum(_public(a) for a in {forms!r}))"
    env = {**os.environ, "PYTHONPATH": str(src), "PYTHONDONTWRITEBYTECODE": "1"}
    judged = subprocess.run(
        [sys.executable, "-c", code], cwd=src, env=env, capture_output=True, text=True, check=True
    )
    return f"{judged.stdout.strip()} of 5 IPv6 forms of private addresses judged public"


def p9_truncated(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            boundary = "probeboundary"
            part = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="half.wav"\r\n'
                "Content-Type: audio/wav\r\n\r\n"
            ).encode() + wav_bytes(1.0)
            r = c.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers={**auth(t), "Content-Type": f"multipart/form-data; boundary={boundary}"},
                content=part,  # no closing boundary
            )
        return f"multipart without its closing boundary: {brief(r)}"


def p10_bad_input(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            headers = {**auth(t), "Content-Type": "application/json"}
            deep = c.post(
                "/run_sse", headers=headers, content=b'{"session_id": ' + b"[" * 1000 + b"]" * 1000 + b"}"
            )
            lone = c.post(
                "/run_sse",
                headers=headers,
                content=b'{"session_id": "%s", "new_message": {"parts": [{"text": "a \\ud800"}]}}'
                % sid.encode(),
            )
            port = c.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(t),
                json={"urls": ["http://example.com:99999/a.mp4"], "source_type": "url"},
            )
        return f"1000-deep JSON: {brief(deep)}; lone surrogate: {brief(lone)}; port 99999: {brief(port)}"


def _open(sock: socket.socket) -> bool:
    """Whether the server still holds the connection open (what it sent is read and dropped)."""
    sock.setblocking(False)
    for _ in range(1000):
        try:
            if sock.recv(65536) == b"":
                return False
        except BlockingIOError:
            return True
        except OSError:
            return False
    return True


def p11_timeouts(src: Path) -> str:
    with engine(src, "--read-timeout", "2") as e:
        with http(e) as c:
            t = token(c)
        headers = "".join(f"{k}: {v}\r\n" for k, v in auth(t).items())
        slow_body = (
            f"POST /api/tasks/me/with-session/nemo_agent HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        ).encode()
        socks: dict[str, list[socket.socket]] = {"idle": [], "slow-header": [], "slow-body": []}
        try:
            for _ in range(50):
                for kind in socks:
                    s = socket.create_connection(("127.0.0.1", e.port), timeout=5)
                    if kind == "slow-header":
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    elif kind == "slow-body":
                        s.sendall(slow_body)  # a handler that reads its body waits for the rest
                    socks[kind].append(s)
            time.sleep(35)  # past the new read timeout (2 s) and well past 30 s: bounded, once
            still = {kind: sum(_open(s) for s in group) for kind, group in socks.items()}
        finally:
            for group in socks.values():
                for s in group:
                    s.close()
        return "still open after 35 s: " + ", ".join(f"{k} {v}/50" for k, v in still.items())


def p12_host(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            r = c.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers={**auth(t), "Host": "x"},
                files={"files": ("a.png", png((32, 32)))},
            )
            shown = ""
            if r.status_code == 200:
                shown = " cdn_url " + r.json()["data"]["files"][0]["cdn_url"][:24] + "..."
        return f"Host: x -> {brief(r)}{shown}"


def p14_modes(src: Path) -> str:
    with tempfile.TemporaryDirectory(prefix="probe-modes-") as tmp:
        home = Path(tmp) / "home"
        for folder in ("media/ab", "renders", "tmp"):
            (home / folder).mkdir(parents=True)
        (home / "media/ab/old.png").write_bytes(b"x")
        for p in [home, *home.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        with engine(src, home=home) as e:
            c, t, sid = user(e)
            with closing(c):
                c.post(
                    f"/api/upload-video/nemo_agent/me/{sid}",
                    headers=auth(t),
                    files={"files": ("a.png", png((32, 32)))},
                )
        entries = [home, *home.rglob("*")]
        loose = [p for p in entries if p.stat().st_mode & 0o077]
        return (
            f"existing 755/644 home after a start and an upload: {len(loose)} of {len(entries)} entries "
            "group/other-accessible"
        )


def p15_upfront(src: Path) -> str:
    with engine(src) as e:
        c, t, sid = user(e)
        with closing(c):
            r = submit(c, t, sid, "colour", colour_draft(2, 1, src="up_missing"))
            later = ""
            if r.status_code == 200:
                job = wait_status(c, t, "colour", lambda j: j.get("status") in ("completed", "failed"), 60)
                later = f" -> later {job.get('status')}"
            whole = png((64, 64))
            bad = c.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(t),
                files={"files": ("holiday.png", whole[:-30])},
            )
            message = str(bad.json().get("message"))
            leaks = [w for w in (".part", str(e.home), "/tmp/") if w in message]
        shows = leaks or "no internal names"
        return f"colour card with unknown src: {brief(r)}{later}; corrupt upload message shows {shows}"


PROBES: dict[str, Callable[[Path], str]] = {
    "1": p1_chunked,
    "2": p2_big_draft,
    "2max": p2_maximal,
    "3": p3_limits,
    "4": p4_quota,
    "5": p5_pixels,
    "6": p6_orphans,
    "7": p7_forwarded,
    "8": p8_ipv6,
    "9": p9_truncated,
    "10": p10_bad_input,
    "11": p11_timeouts,
    "12": p12_host,
    "14": p14_modes,
    "15": p15_upfront,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--src", type=Path, default=ROOT, help="source tree to start the engine from")
    parser.add_argument("--only", default="", help="comma-separated finding numbers (default: all)")
    parser.add_argument("--json", type=Path, default=None, help="write {finding: result} here")
    args = parser.parse_args(argv)
    chosen = [k for k in PROBES if not args.only or k in args.only.split(",")]
    results: dict[str, str] = {}
    for key in chosen:
        started = time.monotonic()
        try:
            results[key] = PROBES[key](args.src.resolve())
        except Exception as exc:  # a probe that breaks reports it and the rest still run
            results[key] = f"probe failed: {type(exc).__name__}: {str(exc)[:160]}"
        print(f"#{key:>2} ({time.monotonic() - started:4.1f} s) {results[key]}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
