"""The renderer: a draft -> one ffmpeg filter graph -> a checked, atomically published video.

``_compile`` is the pure draft -> argv compiler, ``_text`` draws text with Pillow, ``_probe`` reads what
ffmpeg says about files, ``_ffmpeg`` is the only module that spawns ffmpeg, ``_render`` is the I/O around
them. See docs/contracts.md ("engine.render").
"""

from engine.timeline import CANVAS_PRESETS

from ._cache import RenderCache
from ._compile import Canvas, Job, TextOverlay, compile_render, output_canvas
from ._ffmpeg import SpawnWatch, ffmpeg_exe, ffmpeg_version, spawn_watch
from ._render import probe, remux, storyboard, validate_media
from ._smart import render
from ._text import FontSet, find_fonts, scan_fonts
from ._types import (
    FORMATS,
    QUALITIES,
    Draft,
    Format,
    MediaError,
    MediaInfo,
    OutputSettings,
    Quality,
    RenderError,
    RenderProgress,
    RenderResult,
)

__all__ = [
    "CANVAS_PRESETS",
    "FORMATS",
    "QUALITIES",
    "Canvas",
    "Draft",
    "FontSet",
    "Format",
    "Job",
    "MediaError",
    "MediaInfo",
    "OutputSettings",
    "Quality",
    "RenderCache",
    "RenderError",
    "RenderProgress",
    "RenderResult",
    "SpawnWatch",
    "TextOverlay",
    "compile_render",
    "ffmpeg_exe",
    "ffmpeg_version",
    "find_fonts",
    "output_canvas",
    "probe",
    "remux",
    "render",
    "scan_fonts",
    "spawn_watch",
    "storyboard",
    "validate_media",
]
