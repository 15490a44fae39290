"""The page for a project link that opens nothing (pure HTML, escaped)."""

from engine.server._claim import not_found_page


def test_a_link_that_opens_nothing_says_why_with_the_reason_escaped() -> None:
    html = not_found_page("This link is unknown <b>or</b> has expired.")
    assert "<h1>Project not found</h1>" in html
    assert "unknown &lt;b&gt;or&lt;/b&gt; has expired" in html
