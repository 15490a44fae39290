"""The claim page (pure HTML): what a browser shows for a project, with every value escaped."""

from engine.server._claim import RenderLink, claim_page, not_found_page
from engine.timeline import add_text, new_draft


def test_the_page_shows_title_summary_and_playable_renders_and_escapes_everything() -> None:
    draft = add_text(new_draft(title="<b>Sale</b>"), "<script>alert(1)</script>", st=0, d_ms=1000)
    html = claim_page(
        title="<b>Sale</b>",
        task_id="task_1",
        session_id="s-1",
        draft=draft,
        renders=[
            RenderLink(
                "render_1",
                "completed",
                "http://127.0.0.1:1/files/renders/t/render_1.mp4?a=1&b=2",
                "mp4",
                None,
            ),
            RenderLink("render_2", "failed", None, "mp4", "the engine stopped <now>"),
            RenderLink("render_3", "processing", None, "webm", None),
        ],
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<title>&lt;b&gt;Sale&lt;/b&gt;</title>" in html
    assert (
        '<video controls preload="metadata" src="http://127.0.0.1:1/files/renders/t/render_1.mp4?a=1&amp;b=2">'
        in html
    )
    assert "render_2: failed (the engine stopped &lt;now&gt;)" in html
    assert "render_3: processing" in html
    assert "Timeline (1 track" in html


def test_a_project_without_draft_or_renders_says_so() -> None:
    html = claim_page(title="project", task_id="t", session_id="s", draft=None, renders=[])
    assert "nothing yet" in html
    assert "No renders yet." in html
    assert "expired" in not_found_page("This link is unknown or has expired.")
