"""Render benchmark: our renderer vs the x264 encode floor vs MoviePy 2.2 (a 30 s promo, a 15 s reel).

    .venv/bin/pip install -e '.[bench]'      # moviepy + numpy
    .venv/bin/python bench/render_bench.py --runs 3 [--moviepy-runs 1] [--skip-moviepy] [--rerender]

Every measured run is a fresh child process; its wall time and peak memory (ru_maxrss of the child
and its waited-for descendants, i.e. the largest process of the tree) are taken with ``os.wait4``.
All x264 encodes use the same preset (veryfast) and CRF, so the ratios compare like with like.
With ``--rerender``, scenario A is also exported the way the engine exports (by chunks, with a render
cache, empty at the start of each round) and then, against that cache: with one caption moved by 2 s,
with another music track, and as mov after the mp4. The ratios are median walls over the full export's.
Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench._frames import psnr_per_frame, raw_input_args  # noqa: E402

PRESET = "veryfast"
QUALITY = "medium"  # crf 22 for ours, the floor and MoviePy alike
CRF = 22
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


# ---------------------------------------------------------------- the scenarios


def scenario(name: str) -> dict[str, Any]:
    """Scenario A (30 s 16:9, 5 stills) or B (15 s 9:16, 3 stills), as a NemoVideo draft."""
    if name == "A":
        width, height, stills, seg_ms, overlays = (
            1920,
            1080,
            5,
            6000,
            (("Fast", 8000), ("Simple", 15000), ("Yours", 22000)),
        )
    else:
        width, height, stills, seg_ms, overlays = (
            1080,
            1920,
            3,
            5000,
            (("Fast", 4000), ("Simple", 7500), ("Yours", 11000)),
        )
    total = stills * seg_ms
    main = [
        {
            "id": f"s{i + 1}",
            "st": i * seg_ms,
            "d": seg_ms,
            "src": f"still{i}",
            "m": {"kind": "image", "motion": "zoom_in", "transition": {"type": "crossfade", "d": 500}},
        }
        for i in range(stills)
    ]
    captions = [
        {"id": f"c{k}", "st": st, "d": 3000, "text": word, "m": {"position": "lower_third"}}
        for k, (word, st) in enumerate(overlays)
    ]
    return {
        "m": {"title": "Urban Dreams", "width": width, "height": height, "fps": 30},
        "t": [
            {"id": "v1", "tt": 0, "role": "main", "sg": main},
            {
                "id": "a1",
                "tt": 1,
                "role": "voiceover",
                "sg": [{"id": "vo", "st": 0, "d": total, "src": "voice", "vol": 1.0}],
            },
            {
                "id": "a2",
                "tt": 1,
                "role": "bgm",
                "sg": [
                    {"id": "bgm", "st": 0, "d": total, "src": "music", "vol": 0.3, "m": {"fade_out": 2000}}
                ],
            },
            {
                "id": "x1",
                "tt": 7,
                "role": "title",
                "sg": [
                    {"id": "title", "st": 0, "d": 3000, "text": "Urban Dreams", "m": {"position": "center"}}
                ],
            },
            {"id": "x2", "tt": 7, "role": "caption", "sg": captions},
        ],
    }


def build_media(work: Path) -> dict[str, Path]:
    from bench import _media

    work.mkdir(parents=True, exist_ok=True)
    media: dict[str, Path] = {}
    for i in range(5):
        path = work / f"still{i}.jpg"
        if not path.exists():
            _media.photo_like_still(path, seed=i)
        media[f"still{i}"] = path
    for key, make in (("voice", _media.speech_like), ("music", _media.music_like)):
        path = work / f"{key}.wav"
        if not path.exists():
            make(path)
        media[key] = path
    other = work / "music2.wav"
    if not other.exists():
        _media.music_like(other, seed=7)
    media["music2"] = other
    return media


def edited(name: str, edit: str) -> dict[str, Any]:
    """Scenario ``name`` after one edit: ``text`` moves the caption "Simple" 2 s later, ``music`` swaps
    the music track for another file; ``none`` is the scenario itself."""
    draft = scenario(name)
    if edit == "text":
        caption = next(s for s in draft["t"][4]["sg"] if s["text"] == "Simple")
        caption["st"] += 2000
    elif edit == "music":
        draft["t"][2]["sg"][0]["src"] = "music2"
    elif edit != "none":
        raise ValueError(f"unknown edit {edit!r}")
    return draft


# ---------------------------------------------------------------- measuring a child process


_LAUNCHER = """
import json, resource, subprocess, sys, time
argv = json.loads(sys.argv[1])
start = time.perf_counter()
done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
err = done.stderr.decode()[-2000:]
print(json.dumps({"rc": done.returncode, "wall": wall, "cpu": cpu, "peak_kb": usage.ru_maxrss, "err": err}))
"""


def measure(argv: list[str]) -> tuple[float, float, float]:
    """Run ``argv`` from a small fresh launcher process: wall seconds, CPU seconds (user + system of
    the whole tree) and the peak RSS (MB) of its largest process (``RUSAGE_CHILDREN`` in the launcher,
    which is tiny itself, so this process's own memory cannot leak into the figure through fork/exec)."""
    out = subprocess.run([sys.executable, "-c", _LAUNCHER, json.dumps(argv)], capture_output=True, check=True)
    res = json.loads(out.stdout)
    if res["rc"] != 0:
        raise SystemExit(f"failed ({res['rc']}): {' '.join(argv[:6])} ...\n{res['err']}")
    return float(res["wall"]), float(res["cpu"]), float(res["peak_kb"]) / 1024


def python_child(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def ours_argv(
    name: str,
    media: dict[str, Path],
    out: Path,
    preview: bool,
    *,
    cache: Path | None = None,
    edit: str = "none",
    fmt: str = "mp4",
    report: Path | None = None,
) -> list[str]:
    """Our render in a child; with ``cache`` the engine's export path (by chunks, with that cache), and
    ``report`` receives the render call's own time and what it encoded (JSON)."""
    return python_child(
        f"""
        import sys, json, time, anyio
        from pathlib import Path
        sys.path[:0] = [{str(ROOT)!r}, {str(Path(__file__).parent)!r}]
        from render_bench import edited
        from engine.render import render, OutputSettings, RenderCache
        paths = json.loads({json.dumps({k: str(v) for k, v in media.items()})!r})
        media = {{k: Path(v) for k, v in paths.items()}}
        preset = None if {preview} else {PRESET!r}
        settings = OutputSettings(format={fmt!r}, quality={QUALITY!r}, preset=preset, preview={preview})
        cache = None if {str(cache) if cache else None!r} is None else RenderCache(Path({str(cache)!r}))
        started = time.perf_counter()
        result = anyio.run(
            lambda: render(edited({name!r}, {edit!r}), media, Path({str(out)!r}), settings, cache=cache)
        )
        took = time.perf_counter() - started
        if {str(report) if report else None!r} is not None:
            Path({str(report)!r}).write_text(json.dumps({{
                "call_s": took, "chunks": result.chunks, "encoded": result.chunks_encoded,
                "sound": result.sound_encoded}}))
        """
    )


def raw_frames(name: str, media: dict[str, Path], work: Path) -> tuple[Path, int, int]:
    """The scenario's own frames, rendered once to raw yuv420p (not timed)."""
    import anyio

    from engine.render import OutputSettings
    from engine.render._compile import compile_graph, graph_args, output_canvas
    from engine.render._ffmpeg import ffmpeg_exe
    from engine.render._render import _draw_texts, validate_media

    draft = scenario(name)
    raw = work / f"frames-{name}.yuv"
    canvas = output_canvas(draft, OutputSettings())
    infos = anyio.run(validate_media, draft, media)
    texts = _draw_texts(draft, canvas, work)
    graph = compile_graph(draft, media, infos, texts, canvas, with_audio=False)
    want = graph.end_frame * canvas.width * canvas.height * 3 // 2
    if not raw.exists() or raw.stat().st_size != want:  # never reuse a frame file a killed run cut short
        partial = raw.with_suffix(".partial")
        subprocess.run(
            [
                *(ffmpeg_exe(), "-v", "error", "-y", *graph_args(graph), "-map", f"[{graph.video}]"),
                *("-f", "rawvideo", "-pix_fmt", "yuv420p", str(partial)),
            ],
            check=True,
        )
        partial.replace(raw)
    if raw.stat().st_size != want:
        raise SystemExit(f"{raw} has {raw.stat().st_size} bytes, expected {want} ({graph.end_frame} frames)")
    return raw, canvas.width, canvas.height


def join_fidelity(
    name: str, media: dict[str, Path], chunked: Path, whole: Path, raw: tuple[Path, int, int]
) -> dict[str, float]:
    """PSNR figures (dB) of the chunked export at its joins (the frames either side of each), against
    the one-pass render and against the source frames themselves, with the one-pass render's own
    fidelity to the source for comparison (not timed)."""
    import anyio

    from engine.render import OutputSettings
    from engine.render._chunks import chunk_windows
    from engine.render._compile import output_canvas
    from engine.render._render import validate_media

    draft = scenario(name)
    canvas = output_canvas(draft, OutputSettings())
    infos = anyio.run(validate_media, draft, media)
    joins = [a for a, _ in chunk_windows(draft, media, infos, canvas)][1:]
    around = [j + d for j in joins for d in (-1, 0)]
    vs_whole = psnr_per_frame(chunked, whole)
    chunked_src = psnr_per_frame(chunked, raw)
    whole_src = psnr_per_frame(whole, raw)
    return {
        "joins": len(joins),
        "vs_whole_joins": min(vs_whole[i] for i in around),
        "vs_whole_median": statistics.median(vs_whole),
        "chunked_src_joins": min(chunked_src[i] for i in around),
        "whole_src_joins": min(whole_src[i] for i in around),
        "chunked_src_median": statistics.median(chunked_src),
        "whole_src_median": statistics.median(whole_src),
    }


def floor_argv(raw: Path, width: int, height: int, out: Path) -> list[str]:
    from engine.render._ffmpeg import ffmpeg_exe

    return [
        *(ffmpeg_exe(), "-v", "error", "-y", *raw_input_args(width, height)),
        *("-i", str(raw), "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-an", str(out)),
    ]


def moviepy_argv(name: str, media: dict[str, Path], out: Path) -> list[str]:
    """The straightforward MoviePy 2.2 program a Python user would write (the baseline)."""
    d = scenario(name)
    w, h = d["m"]["width"], d["m"]["height"]
    mains = d["t"][0]["sg"]
    texts = d["t"][3]["sg"] + d["t"][4]["sg"]
    return python_child(
        f"""
        from moviepy import (ImageClip, TextClip, CompositeVideoClip, AudioFileClip, CompositeAudioClip,
                             vfx, afx)
        W, H, FADE = {w}, {h}, 0.5
        paths = {[str(media[s["src"]]) for s in mains]!r}
        starts = {[s["st"] / 1000 for s in mains]!r}
        lengths = {[s["d"] / 1000 for s in mains]!r}
        clips = []
        for i, path in enumerate(paths):
            dur = lengths[i] + (FADE if i < len(paths) - 1 else 0)
            img = ImageClip(path)
            scale = max(W / img.w, H / img.h)
            img = img.resized(scale)
            img = img.cropped(x_center=img.w / 2, y_center=img.h / 2, width=W, height=H)
            zoom = img.resized(lambda t, dur=dur: 1 + 0.1 * t / dur).with_position("center")
            clip = CompositeVideoClip([zoom], size=(W, H)).with_duration(dur).with_start(starts[i])
            if i > 0:
                clip = clip.with_effects([vfx.CrossFadeIn(FADE)])
            clips.append(clip)
        layers = list(clips)
        for t in {[(x["text"], x["st"] / 1000, x["d"] / 1000, x["m"]["position"]) for x in texts]!r}:
            text, st, dur, pos = t
            size = int(H * (0.1 if pos == "center" else 0.065))
            tc = TextClip(font={FONT!r}, text=text, font_size=size, color="white", stroke_color="black",
                          stroke_width=max(2, size // 14))
            y = "center" if pos == "center" else int(H * 0.75 - tc.h / 2)
            layers.append(tc.with_start(st).with_duration(dur).with_position(("center", y)))
        total = starts[-1] + lengths[-1]
        video = CompositeVideoClip(layers, size=(W, H)).with_duration(total)
        voice = AudioFileClip({str(media["voice"])!r})
        music = AudioFileClip({str(media["music"])!r}).with_volume_scaled(0.3)
        music = music.with_effects([afx.AudioFadeOut(2)])
        video = video.with_audio(CompositeAudioClip([voice, music]).with_duration(total))
        video.write_videofile({str(out)!r}, fps=30, codec="libx264", preset={PRESET!r}, threads=2,
                              ffmpeg_params=["-crf", "{CRF}"], audio_codec="aac", logger=None)
        """
    )


# ---------------------------------------------------------------- reporting


def interleaved(
    jobs: list[tuple[str, str, list[str], int]],
    before: dict[str, Callable[[], None]] | None = None,
    reports: dict[str, Path] | None = None,
) -> dict[str, dict[str, float]]:
    """Run each job ``runs`` times, round-robin (floor, ours, ... then again), so that a change in the
    machine's load during the benchmark hits all of them alike; print median wall and peak memory.
    ``before[key]`` runs (untimed) before each run of job ``key``; a job with ``reports[key]`` writes
    JSON numbers there, whose medians join its results."""
    reported: dict[str, dict[str, list[float]]] = {}
    walls: dict[str, list[float]] = {key: [] for key, *_ in jobs}
    cpus: dict[str, list[float]] = {key: [] for key, *_ in jobs}
    mems: dict[str, list[float]] = {key: [] for key, *_ in jobs}
    for r in range(max(runs for *_, runs in jobs)):
        for key, _label, argv, runs in jobs:
            if r < runs:
                if before and key in before:
                    before[key]()
                if reports and key in reports:
                    reports[key].unlink(missing_ok=True)
                wall, cpu, mem = measure(argv)
                if reports and key in reports:
                    for name, value in json.loads(reports[key].read_text()).items():
                        reported.setdefault(key, {}).setdefault(name, []).append(float(value))
                walls[key].append(wall)
                cpus[key].append(cpu)
                mems[key].append(mem)
    results = {}
    for key, label, _argv, runs in jobs:
        w = walls[key]
        results[key] = {
            "wall": statistics.median(w),
            "cpu": statistics.median(cpus[key]),
            "mem": max(mems[key]),
            "runs": runs,
            **{name: statistics.median(values) for name, values in reported.get(key, {}).items()},
        }
        spread = f"[{min(w):.2f}-{max(w):.2f}]"
        print(
            f"  {label:<40} {results[key]['wall']:7.2f} s {spread:>15}  cpu {results[key]['cpu']:6.1f} s"
            f"  peak {results[key]['mem']:5.0f} MB  (n={runs})",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of ours and the floor (median wall time)")
    parser.add_argument("--moviepy-runs", type=int, default=None, help="runs of MoviePy (default: --runs)")
    parser.add_argument("--skip-moviepy", action="store_true")
    parser.add_argument("--scenarios", default="A,B", help="A (30 s 16:9) and/or B (15 s 9:16)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/videogen-render-bench"))
    parser.add_argument(
        "--rerender", action="store_true", help="scenario A: export by chunks, then re-export after edits"
    )
    args = parser.parse_args()
    mp_runs = args.moviepy_runs if args.moviepy_runs is not None else args.runs
    work: Path = args.work
    media = build_media(work)
    print(
        f"render benchmark: x264 preset {PRESET}, crf {CRF}, {os.cpu_count()} cores, "
        f"{args.runs} runs (median), interleaved"
    )
    results: dict[str, dict[str, float]] = {}
    fidelity: dict[str, float] = {}
    names = [n.strip().upper() for n in args.scenarios.split(",") if n.strip() in {"A", "B", "a", "b"}]
    for name in names:
        raw, width, height = raw_frames(name, media, work)
        print(f"scenario {name} ({width}x{height}, {len(scenario(name)['t'][0]['sg'])} stills):")
        jobs = [
            (
                f"floor{name}",
                "encode floor (raw yuv420p -> x264)",
                floor_argv(raw, width, height, work / f"floor-{name}.mp4"),
                args.runs,
            ),
            (
                f"ours{name}",
                "ours (engine.render, one filter graph)",
                ours_argv(name, media, work / f"ours-{name}.mp4", False),
                args.runs,
            ),
        ]
        if name == "A":
            jobs.append(
                (
                    "preview",
                    "ours, preview mode (540p, 15 fps)",
                    ours_argv(name, media, work / "preview-A.mp4", True),
                    args.runs,
                )
            )
        before: dict[str, Callable[[], None]] = {}
        reports: dict[str, Path] = {}
        if name == "A" and args.rerender:
            cache = work / "render-cache"
            before["export"] = functools.partial(shutil.rmtree, cache, ignore_errors=True)
            for key, label, edit, fmt in (
                ("export", "full export (chunks, empty cache)", "none", "mp4"),
                ("text", "re-export, one caption moved 2 s", "text", "mp4"),
                ("music", "re-export, music swapped", "music", "mp4"),
                ("mov", "mov after mp4 (cached chunks)", "none", "mov"),
            ):
                out = work / f"rerender-{key}.{fmt}"
                report = work / f"rerender-{key}.json"
                argv = ours_argv(name, media, out, False, cache=cache, edit=edit, fmt=fmt, report=report)
                jobs.append((key, label, argv, args.runs))
                reports[key] = report
        if not args.skip_moviepy and mp_runs > 0:
            jobs.append(
                (
                    f"moviepy{name}",
                    "MoviePy 2.2 (straightforward program)",
                    moviepy_argv(name, media, work / f"moviepy-{name}.mp4"),
                    mp_runs,
                )
            )
        results.update(interleaved(jobs, before, reports))
        if name == "A" and args.rerender:
            fidelity = join_fidelity(
                "A", media, work / "rerender-export.mp4", work / "ours-A.mp4", (raw, width, height)
            )
        raw.unlink(missing_ok=True)
    print("figures against targets:")
    for name in names:
        ours, floor = results[f"ours{name}"], results[f"floor{name}"]
        print(f"  {name}: ours / floor wall   {ours['wall'] / floor['wall']:5.2f}x   (target <= 1.30x)")
        print(f"  {name}: ours / floor memory {ours['mem'] / floor['mem']:5.2f}x   (target <= 1.30x)")
        print(f"  {name}: ours / floor CPU    {ours['cpu'] / floor['cpu']:5.2f}x   (load-independent view)")
        if f"moviepy{name}" in results:
            print(
                f"  {name}: MoviePy / ours wall {results[f'moviepy{name}']['wall'] / ours['wall']:5.1f}x"
                "   (target >= 9x)"
            )
    if "preview" in results:
        print(f"  A: preview of the 30 s video {results['preview']['wall']:5.2f} s   (target < 3 s)")
    if "export" in results:
        export, floor = results["export"], results["floorA"]
        print(f"  A: full export (chunks) / floor wall {export['wall'] / floor['wall']:5.2f}x")
        print(f"  A: full export (chunks) / floor CPU  {export['cpu'] / floor['cpu']:5.2f}x")
        print(f"  A: full export (chunks) / ours wall  {export['wall'] / results['oursA']['wall']:5.2f}x")
        print(f"A: text-edit re-export / full export   {results['text']['wall'] / export['wall']:.2f}")
        print(f"A: music-change re-export / full export   {results['music']['wall'] / export['wall']:.2f}")
        print(f"A: mov after mp4 (remux)   {results['mov']['call_s']:.2f} s")
        f = fidelity
        print(
            f"  A: {f['joins']:.0f} joins; PSNR of the frames either side of them (lowest), chunked export"
            f" against the one-pass render {f['vs_whole_joins']:.1f} dB (all frames, median"
            f" {f['vs_whole_median']:.1f} dB)"
        )
        print(
            f"  A: against the source frames at the joins (lowest): chunked {f['chunked_src_joins']:.1f} dB,"
            f" one-pass {f['whole_src_joins']:.1f} dB (all frames, median: chunked"
            f" {f['chunked_src_median']:.1f} dB, one-pass {f['whole_src_median']:.1f} dB)"
        )
        print(
            f"  (mov: {results['mov']['wall']:.2f} s with the Python start-up; text edit encoded "
            f"{results['text']['encoded']:.0f} of {results['text']['chunks']:.0f} chunks, music change "
            f"{results['music']['encoded']:.0f}, mov {results['mov']['encoded']:.0f})"
        )


if __name__ == "__main__":
    main()
