"""``p.work()``: an annotator's next task in the Annotator, handed in with its Submit button.

Submit must not lose the edit made just before it: edits leave the browser debounced (300-500 ms), and an
edit arriving after the pass is handed in would be refused. The button waits until every edit is saved.
"""

from __future__ import annotations

from annotator_page import AnnotatorView, eventually
from playwright.sync_api import Page, expect

from labnb.project import Project


def test_submit_keeps_the_last_edit_and_opens_the_next_task(show: object, project: Project) -> None:
    names = list(project.assets.df.file_name[:2])
    job = project.jobs.create("work", assets=names, review_frequency=0, guide="Box the **cats**")
    job.launch()
    w = project.work()
    assert w is not None
    v: AnnotatorView = show(w)  # type: ignore[operator]
    first = w.task["id"]
    assert w.task["can_submit"] is True
    v.pick_class("cat")
    v.pick_tool("box")
    v.drag((100, 100), (220, 200))
    v.hook('[data-action="submit_task"]').click()  # at once: the box is still waiting in the debounce

    def submitted() -> None:
        assert project.task(first).state == "completed"
        assert w.task["id"] != first

    eventually(submitted)
    (box,) = project.task(first).shapes()
    assert box.label == "cat"
    assert box.w > 50
    # the next task is shown: its own (empty) pass, the second image, and still a Submit button
    assert w.asset.file_name == names[1]
    eventually(lambda: _no_shapes(v))
    expect(v.hook('[data-action="submit_task"]')).to_be_visible()
    v.hook('[data-action="submit_task"]').click()
    eventually(lambda: _all_done(project, w))


def _no_shapes(v: AnnotatorView) -> None:
    assert v.state()["shapes"] == []


def _all_done(project: Project, w: object) -> None:
    assert set(project.jobs["work"].tasks.state) == {"completed"}
    assert "no more tasks" in w.status  # type: ignore[attr-defined]
    assert w.readonly is True  # type: ignore[attr-defined]


def test_submit_keeps_its_word_in_a_narrow_output(show: object, project: Project, page_session: Page) -> None:
    """Narrow outputs hide the toolbar's words and keep the icons; Submit has no icon, so it keeps its word."""
    project.jobs.create("narrow", assets=list(project.assets.df.file_name[:1]), review_frequency=0).launch()
    w = project.work()
    assert w is not None
    size = page_session.viewport_size
    page_session.set_viewport_size({"width": 700, "height": 900})
    try:
        v: AnnotatorView = show(w)  # type: ignore[operator]
        submit = v.hook('[data-action="submit_task"]')
        expect(submit).to_have_text("Submit")
        box = submit.bounding_box()
        assert box is not None
        assert box["width"] > 40  # the word is shown, not an empty button
        assert v.hook('[data-tool="box"] .lnb-btn-label').is_hidden()  # the narrow layout is in force
    finally:
        if size:
            page_session.set_viewport_size(size)
