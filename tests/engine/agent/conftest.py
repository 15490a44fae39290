"""Fixtures for the agent's tests: drafts generated from the corpus README's uploads."""

from __future__ import annotations

from typing import Any

import pytest

from engine.agent import MediaRef, respond
from tests.engine.agent._media import PROMO, clip_media, promo_media


@pytest.fixture
def promo() -> tuple[dict[str, Any], list[MediaRef]]:
    media = promo_media()
    turn = respond(PROMO, None, media)
    return turn.stages[-1].draft, media


@pytest.fixture
def clips() -> tuple[dict[str, Any], list[MediaRef]]:
    media = clip_media()
    turn = respond("Make a 20-second video from these clips with background music", None, media)
    return turn.stages[-1].draft, media
