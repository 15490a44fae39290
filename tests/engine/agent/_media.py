"""The corpus README's uploads as MediaRefs (names, sizes, durations)."""

from __future__ import annotations

from engine.agent import MediaRef

PROMO = "Combine these images and audio into a 30-second promotional video with text overlays"


def promo_media() -> list[MediaRef]:
    stills = [
        "product_front.jpg",
        "product_side.jpg",
        "product_detail.jpg",
        "lifestyle_1.jpg",
        "lifestyle_2.jpg",
    ]
    media = [MediaRef(f"up{i + 1}", name, "image", None, 1600, 1200) for i, name in enumerate(stills)]
    return [
        *media,
        MediaRef("up6", "voiceover.mp3", "audio", 25000, speech_like=True),
        MediaRef("up7", "music_upbeat.mp3", "audio", 40000, speech_like=False),
        MediaRef("up8", "music_calm.mp3", "audio", 40000, speech_like=False),
    ]


def clip_media() -> list[MediaRef]:
    clips = [
        MediaRef(f"c{i}", f"clip_{c}.mp4", "video", 8000, 1280, 720, has_audio=True)
        for i, c in enumerate("abc")
    ]
    return [*clips, MediaRef("m1", "music_upbeat.mp3", "audio", 40000, speech_like=False)]
