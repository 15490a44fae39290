"""Frames compared: PSNR per frame between two videos, or a video and raw frames (the render benchmark
and the smart re-render tests measure joins with it)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def raw_input_args(width: int, height: int) -> list[str]:
    """ffmpeg's input options for the scenario's raw frames (yuv420p at 30 fps)."""
    return ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{width}x{height}", "-r", "30"]


def psnr_per_frame(a: Path, b: Path | tuple[Path, int, int]) -> list[float]:
    """The PSNR (dB, all planes) of each frame of ``a`` against ``b``: a video file, or raw yuv420p
    frames ``(file, width, height)`` at 30 fps."""
    from engine.render._ffmpeg import ffmpeg_exe

    if isinstance(b, tuple):
        raw, width, height = b
        second = [*raw_input_args(width, height), "-i", str(raw)]
    else:
        second = ["-i", str(b)]
    stats = a.with_suffix(".psnr.txt")
    subprocess.run(
        [
            *(ffmpeg_exe(), "-v", "error", "-i", str(a), *second),
            *("-lavfi", f"[0:v][1:v]psnr=stats_file={stats}", "-f", "null", "-"),
        ],
        check=True,
    )
    found = [line.split("psnr_avg:")[1].split()[0] for line in stats.read_text().splitlines()]
    stats.unlink()
    return [float("inf") if v == "inf" else float(v) for v in found]
