"""Stills fitted once with Pillow, before ffmpeg runs, into one raw RGB frame each.

Decoding and fitting a 3000x2000 JPEG inside ffmpeg costs the same CPU, but five decoders running at once
leave ffmpeg's heap some 100 MB larger for the whole render; a raw frame of exactly the size the graph
needs costs ffmpeg nothing to read. Pillow also honours the EXIF orientation, which ffmpeg ignores.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

from ._compile import StillNeed


def fit_still(need: StillNeed, out: Path) -> Path:
    """Write ``need.path`` fitted (cover, contain or contain_blur) to ``width x height`` as raw RGB."""
    w, h = need.width, need.height
    with Image.open(need.path) as img:
        iw, ih = img.size
        scale = max(w / iw, h / ih) if need.fit == "cover" else min(w / iw, h / ih)
        img.draft("RGB", (max(1, round(iw * scale)), max(1, round(ih * scale))))  # JPEG: DCT-domain shrink
        pic = ImageOps.exif_transpose(img)
        if pic.mode in {"RGBA", "LA", "P", "PA"}:
            pic = pic.convert("RGBA")
            base = Image.new("RGBA", pic.size, need.background)
            base.alpha_composite(pic)
            pic = base
        pic = pic.convert("RGB")
    method = Image.Resampling.BICUBIC
    if need.fit == "cover":
        fitted = ImageOps.fit(pic, (w, h), method=method)
    elif need.fit == "contain":
        fitted = ImageOps.pad(pic, (w, h), method=method, color=need.background)
    else:  # contain_blur: the picture whole, over a blurred cover-fitted copy of itself
        small = ImageOps.fit(pic, (max(1, w // 8), max(1, h // 8)), method=Image.Resampling.BILINEAR)
        fitted = small.filter(ImageFilter.GaussianBlur(3)).resize((w, h), Image.Resampling.BILINEAR)
        front = ImageOps.contain(pic, (w, h), method=method)
        fitted.paste(front, ((w - front.width) // 2, (h - front.height) // 2))
    out.write_bytes(fitted.tobytes())
    return out
