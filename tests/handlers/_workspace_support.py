"""Fixtures for the workspace tests: background workspace servers switched on, never on a fixed port,
and headless Chromium (Debian's chromium + chromium-driver, driven by Selenium; nothing downloaded)."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from handlers import _workspace as workspace

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
NO_CHROMIUM = (
    "no headless Chromium here: install Debian's chromium and chromium-driver "
    "(scripts/test installs them when it runs as root with apt-get)"
)


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port something else listens on (the workspace server must pick another)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@pytest.fixture
def switched_on(isolated: Path, taken_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The embedded engine's data folder with background workspace servers allowed; stopped at the end."""
    monkeypatch.setenv("VIDEOGEN_WORKSPACE", "on")
    monkeypatch.setenv("VIDEOGEN_WORKSPACE_PORT", str(taken_port))
    monkeypatch.setenv("VIDEOGEN_WORKSPACE_IDLE_S", "600")
    home = isolated / "home"
    try:
        yield home
    finally:
        workspace.stop(home)


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver) when both are installed."""
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture
def chrome(tmp_path: Path) -> Iterator[object]:
    """A headless Chromium session (Selenium WebDriver); skipped only where no Chromium is installed."""
    paths = chromium_paths()
    if paths is None:
        pytest.skip(NO_CHROMIUM)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never downloads a driver or browser
    options = Options()
    options.binary_location = paths[0]
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--mute-audio",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=1280,900",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
