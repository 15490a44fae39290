"""The workspace page in headless Chromium (Selenium + Debian's chromium-driver): the link a tool
returned opens the live project; the page sends messages, uploads, exports and plays, and undoes.
Two browser sessions in all, every wait bounded."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from handlers import call_tool
from tests.handlers._workspace_support import chrome, switched_on, taken_port

__all__ = ["chrome", "switched_on", "taken_port"]  # fixtures

MAKE = "Combine these images and the music into a 4-second video"
WAIT_S = 60.0


def wait_for(driver: Any, what: str, condition: Any, limit: float = WAIT_S) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, limit, poll_frequency=0.1).until(condition)
    except TimeoutException:
        status = driver.execute_script("return document.getElementById('status').textContent")
        raise AssertionError(
            f"the page did not show {what} within {limit:g} s (status: {status!r})"
        ) from None


def texts(driver: Any, selector: str) -> list[str]:
    """The text of every element the selector finds, read at once (the page redraws on every change)."""
    found: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map(n => n.textContent)", selector
    )
    return found


def lane_names(driver: Any, kind: str) -> list[str]:
    return texts(driver, f".lane-{kind} .seg-name")


def prepared_project(media: dict[str, Path]) -> dict[str, Any]:
    assert call_tool("create_session", {})["ok"]
    uploaded = call_tool(
        "upload", {"files": [str(media["still1"]), str(media["still2"]), str(media["music"])]}
    )
    assert uploaded["ok"], uploaded
    made = call_tool("send_message", {"message": MAKE})
    assert made["ok"], made
    state = call_tool("get_state", {})
    assert state["ok"], state
    return state


def test_the_link_a_tool_returned_opens_the_live_project_and_the_page_edits_exports_plays_and_undoes(
    switched_on: Path, chrome: Any, media: dict[str, Path], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = chrome
    state = prepared_project(media)
    driver.get(state["browser_url"])

    # the timeline lanes, to scale, with names and times; the storyboard of the current revision
    wait_for(driver, "the video lane", lambda d: len(lane_names(d, "video")) == 2)
    assert lane_names(driver, "video") == ["product front", "product side"]
    assert lane_names(driver, "music") == ["music upbeat"]
    lanes = driver.execute_script(
        "return Array.from(document.querySelectorAll('.lane')).map(n => n.dataset.kind)"
    )
    assert lanes[:3] == ["video", "voiceover", "music"]
    widths = driver.execute_script(
        "return Array.from(document.querySelectorAll('.lane-video .seg')).map(s => s.style.width)"
    )
    assert widths == ["50%", "50%"]  # 2 s of 4 s each
    assert texts(driver, ".lane-video .seg-time") == ["0s–2s", "2s–4s"]
    spill = driver.execute_script(
        "const r = document.getElementById('ruler'); const box = r.getBoundingClientRect();"
        "return Array.from(r.children).map(t => t.getBoundingClientRect())"
        ".map(t => Math.max(box.left - t.left, t.right - box.right))"
    )
    assert max(spill) <= 0.5, f"a ruler label is cut off at the timeline's edge by {max(spill)}px"
    board = wait_for(
        driver,
        "the storyboard",
        lambda d: d.execute_script(
            "const i = document.getElementById('storyboard'); return !i.hidden && i.naturalWidth > 0 && i"
        ),
    )
    assert board.get_attribute("data-revision") == str(
        driver.execute_script("return document.body.dataset.revision")
    )

    # live: a change the agent makes through the tools shows up without a reload
    driver.execute_script("window.__same_page = true")
    assert call_tool("send_message", {"message": "add the title 'Summer Trip'"})["ok"]
    wait_for(driver, "the agent's title", lambda d: "Summer Trip" in lane_names(d, "text"))
    assert driver.execute_script("return window.__same_page") is True

    # a message from the page: streamed into the conversation, and the lanes change
    box = driver.find_element(By.ID, "message-text")
    box.send_keys("add a text overlay 'Hello Browser' at 1s")
    driver.find_element(By.ID, "send-btn").click()
    wait_for(driver, "the page's text overlay", lambda d: "Hello Browser" in lane_names(d, "text"))
    replies = texts(driver, "#conversation .agent")
    assert any("Hello Browser" in r for r in replies), replies
    newest = texts(driver, "#history li")[0]
    assert "Hello Browser" in newest
    assert "(current)" in newest

    # upload: the file chooser, and a drop on the drop zone
    driver.find_element(By.ID, "file-input").send_keys(str(media["still3"]))
    wait_for(
        driver, "the chosen upload", lambda d: media["still3"].name in d.find_element(By.ID, "uploads").text
    )
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (10, 160, 90)).save(buffer, format="PNG")
    driver.execute_script(
        """
        const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
        const drop = new DragEvent("drop", {dataTransfer: data, bubbles: true});
        document.getElementById("dropzone").dispatchEvent(drop);
        """,
        base64.b64encode(buffer.getvalue()).decode(),
    )
    wait_for(driver, "the dropped upload", lambda d: "dropped.png" in " ".join(texts(d, "#uploads li")))

    # export with format and quality, progress, then play it: currentTime advances
    driver.find_element(By.CSS_SELECTOR, "#export-quality option[value='low']").click()
    driver.find_element(By.ID, "export-btn").click()
    download, label = wait_for(
        driver,
        "the finished export",
        lambda d: d.execute_script(
            "const a = document.querySelector('#renders a[download]');return a && [a.download, a.textContent]"
        ),
        limit=150,
    )
    assert download.endswith(".mp4")
    assert "Export render_" in label
    assert driver.execute_script("return document.getElementById('player').dataset.render") in label
    started = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const v = document.getElementById('player');
        v.muted = true;
        v.play().then(() => done(true), (e) => done(String(e)));
        """
    )
    assert started is True
    wait_for(
        driver,
        "the video playing",
        lambda d: d.execute_script("return document.getElementById('player').currentTime") > 0.3,
    )

    # undo from the history: the page's overlay goes, redo is offered
    revision = driver.execute_script("return document.body.dataset.revision")
    driver.find_element(By.ID, "undo-btn").click()
    wait_for(
        driver, "the undo", lambda d: d.execute_script("return document.body.dataset.revision") != revision
    )
    assert "Hello Browser" not in lane_names(driver, "text")
    assert "Summer Trip" in lane_names(driver, "text")
    assert driver.find_element(By.ID, "redo-btn").is_enabled()


def contrast(fg: str, bg: str) -> float:
    def luminance(css: str) -> float:
        values = [float(v) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]
        linear = [
            (c / 255) / 12.92 if c / 255 <= 0.03928 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in values
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    a, b = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_at_phone_width_nothing_overflows_every_control_is_reached_by_keyboard_and_text_is_readable(
    switched_on: Path, chrome: Any, media: dict[str, Path]
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = chrome
    state = prepared_project(media)
    assert call_tool("send_message", {"message": "add the title 'Summer Trip'"})["ok"]  # something to undo
    driver.set_window_size(390, 844)
    driver.get(state["browser_url"])
    wait_for(driver, "the video lane", lambda d: len(lane_names(d, "video")) == 2)
    overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than a phone screen"
    for label, control in (("export-format", "export-format"), ("export-quality", "export-quality")):
        tops = driver.execute_script(
            f"return [document.querySelector('label[for={label}]').getBoundingClientRect(),"
            f" document.getElementById('{control}').getBoundingClientRect()].map(r => r.top + r.height / 2)"
        )
        assert abs(tops[0] - tops[1]) < 8, f"the label of {control} is on another line than its control"
    cut = driver.execute_script(
        "return Array.from(document.querySelectorAll('.conversation, .history'))"
        ".filter(b => b.scrollHeight > b.clientHeight + 1).map(b => b.className)"
    )
    assert cut == [], f"{cut} cut their text inside a scroll box at phone width"
    board = wait_for(
        driver,
        "the storyboard",
        lambda d: d.execute_script(
            "const i = document.getElementById('storyboard'); return !i.hidden && i.naturalWidth > 0 && i"
        ),
    )
    assert board.size["width"] >= 600, "the storyboard is too small to read at phone width"
    assert driver.execute_script("return document.getElementById('storyboard-open').href").startswith("blob:")

    reached: list[str] = []
    keyboard = ActionChains(driver)
    for _ in range(80):  # Tab through the page as a keyboard user would
        keyboard.send_keys(Keys.TAB).perform()
        reached.append(driver.execute_script("return document.activeElement.id"))
    for control in (
        "preview-btn",
        "message-text",
        "send-btn",
        "undo-btn",
        "file-input",
        "export-format",
        "export-quality",
        "export-btn",
    ):
        assert control in reached, f"{control} is not reachable with Tab ({reached})"

    pairs = driver.execute_script(
        """
        const bg = (el) => {
            for (let e = el; e; e = e.parentElement) {
                const c = getComputedStyle(e).backgroundColor;
                if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
            }
            return 'rgb(255, 255, 255)';
        };
        const shown = 'h1, h2, p, li, label, button, .seg-name, .seg-time, .lane-label';
        return Array.from(document.querySelectorAll(shown))
          .filter(e => e.offsetParent !== null && e.textContent.trim())
          .map(e => [e.tagName + '.' + e.className, getComputedStyle(e).color, bg(e)]);
        """
    )
    assert len(pairs) > 20
    for name, fg, bg in pairs:
        assert contrast(fg, bg) >= 4.5, f"{name}: {fg} on {bg} is {contrast(fg, bg):.2f}:1"


@pytest.mark.parametrize("query", ["", "?ct=clm_forged"])
def test_a_link_without_a_live_claim_token_shows_no_project(switched_on: Path, query: str) -> None:
    import http.client

    from handlers import _workspace as workspace

    assert call_tool("create_session", {})["ok"]
    record = workspace.running(switched_on)
    assert record is not None
    host, _, port = record.url.removeprefix("http://").rpartition(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/workspace/claim" + query)
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    assert response.status == 404
    assert "Project not found" in page
