"""The exam grader in a real browser: a reviewer grades a trainee's attempt with the keyboard only, then
passes it (P, P again to confirm), which opens the trainee's gated job.

tina sat the exam of tests/exam_scenario.py (boxes, a polygon, keypoints, a mask and a tag, each with a
mistake to judge); rita grades it in ``p.exam_grader(exam)`` shown by solara in the system Chromium
(fixtures in conftest.py). The test presses keys as a grader would and checks what the canvas shows (the
texts drawn on the instances, read through the grader's debug handle ``window.__labnb.graders``, and the
gold's colour on screen) and what reached the store (``attempt.images``, ``exam.results()``, the decision and
the work it opens to the trainee).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import exam_scenario as sc
import numpy as np
import pytest
from annotator_page import AnnotatorView, eventually, handle_idle, near, png_pixels
from playwright.sync_api import Page, expect

import labnb as lb
from labnb.widgets.exam_grader import ExamGrader

Show = Callable[..., AnnotatorView]
HOOK = "window.__labnb.graders"
GOLD = (0xFF, 0xC4, 0x00)  # js/src/grader/scene.ts


class Grader:
    """The grader in the page: its debug handle, its hooks and the keyboard."""

    def __init__(self, page: Page, widget: ExamGrader, index: int) -> None:
        self.page = page
        self.widget = widget
        self.index = index

    @property
    def root(self) -> Any:
        return self.page.locator('[data-testid="exam-grader"]').nth(self.index)

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self.page.evaluate(f"(i) => {HOOK}[i].state()", self.index)
        return result

    def idle(self, timeout: float = 20.0) -> None:
        ok = handle_idle(self.page, HOOK, self.index, timeout)
        assert ok, f"exam grader not idle after {timeout} s: {self.state()}"

    def press(self, *keys: str) -> None:
        for key in keys:
            self.page.keyboard.press(key)
            self.idle()

    def drawn(self, kind: str) -> dict[int, dict[str, Any]]:
        return {d["id"]: d for d in self.state()["drawn"] if d["kind"] == kind}

    def to_client(self, x: float, y: float) -> tuple[float, float]:
        sx, sy = self.page.evaluate(f"([i, x, y]) => {HOOK}[i].toClient(x, y)", [self.index, x, y])
        return float(sx), float(sy)

    def gold_on_screen(self, points: list[tuple[float, float]]) -> bool:
        """Whether the gold's colour shows within 2 px of any of the image ``points``."""
        shot = png_pixels(self.page.screenshot())
        for x, y in points:
            sx, sy = (round(v) for v in self.to_client(x, y))
            patch = shot[sy - 2 : sy + 3, sx - 2 : sx + 3].reshape(-1, 3)
            if any(near(c, GOLD, 60) for c in patch):
                return True
        return False


@pytest.fixture
def graded(show: Show, page_session: Page, tmp_path: Path) -> Callable[[], Grader]:
    url = sc.make_project(str(tmp_path / "exam.labnb"), tmp_path)
    sc.make_exam(url)
    sc.sit(url)
    lb.Project.open(url, user="mona").jobs.create("pet-work", ["im3.png"], credentials=["pets"]).launch()

    def open_grader() -> Grader:
        widget = lb.Project.open(url, user="rita").exam_grader(sc.EXAM)
        show(widget, wait=False)
        # optional chaining: until the first labnb widget of the page loads, window.__labnb is undefined
        page_session.wait_for_function("() => window.__labnb?.graders?.length > 0", timeout=20_000)
        g = Grader(page_session, widget, 0)
        g.idle()
        expect(g.root.locator('[data-testid="grader-item"]')).to_contain_text("im0.png")
        g.root.focus()
        return g

    return open_grader


def test_a_grader_grades_an_attempt_with_the_keyboard(graded: Callable[[], Grader], artifacts: Path) -> None:
    g = graded()
    w = g.widget
    exam = w.exam
    attempt = w.current_attempt
    assert attempt is not None
    assert attempt.user == "tina"
    rita = exam.project
    t0 = sc.ids_by_label(rita, attempt, "im0.png")
    g0 = sc.gold_ids(exam, "im0.png")
    cat, wrong = t0[("cat", 46)], t0[("cat", 240)]
    gold_cat, gold_dog = g0[("cat", 40)], g0[("dog", 240)]

    # the pre-score's proposals show as such: hollow stars, "proposed"; the wrong-label gold is not proposed Missing
    stars = g.drawn("stars")
    assert set(stars) == {cat, wrong}
    assert all(s["proposed"] and "proposed" in s["text"] and "★" not in s["text"] for s in stars.values())
    assert g.drawn("missing") == {}
    # the gold is drawn in gold (its left edge, clear of the trainee's shifted box); G hides and shows it
    gold_edge = [(40.0, 40.0 + 90 * f) for f in np.linspace(0.2, 0.8, 7)]
    assert g.gold_on_screen(gold_edge)
    g.page.screenshot(path=str(artifacts / "exam_grader.png"))
    g.press("g")
    assert not g.state()["gold"]
    assert not g.gold_on_screen(gold_edge)
    assert g.state()["shownGold"] == []
    g.press("g")
    assert g.gold_on_screen(gold_edge)

    # Tab selects the first instance, 5 rates it: solid stars, no longer a proposal
    g.press("Tab")
    assert g.state()["selected"] == f"t{cat}"
    g.press("5")
    rated = g.drawn("stars")[cat]
    assert not rated["proposed"]
    assert "★★★★★" in rated["text"]
    assert w.grade_draft is not None
    assert w.grade_draft.decisions.stars == {cat: 5}

    # F: the wrong-label instance alone with the gold it lies on
    g.press("Tab", "f")
    s = g.state()
    assert s["focus"]
    assert s["selected"] == f"t{wrong}"
    assert (s["shownTrainee"], s["shownGold"]) == ([wrong], [gold_dog])
    g.page.screenshot(path=str(artifacts / "exam_grader_focus.png"))
    g.press("f")
    assert sorted(g.state()["shownTrainee"]) == sorted([cat, wrong])
    assert sorted(g.state()["shownGold"]) == sorted([gold_cat, gold_dog])

    # M marks the unmatched gold Missing ("Missing" drawn on it); Ctrl+Z restores "not missing"
    g.press("Tab")
    assert g.state()["selected"] == f"g{gold_dog}"
    g.press("m")
    missing = g.drawn("missing")
    assert missing[gold_dog]["text"] == "Missing"
    assert not missing[gold_dog]["proposed"]
    g.press("Control+z")
    assert g.drawn("missing") == {}
    expect(g.root.locator(f'[data-gold="{gold_dog}"]')).to_have_attribute("data-missing", "false")

    # Enter accepts the proposals left; the arrow saves the grade (one exam.grade) and opens im1
    g.press("Enter")
    assert not any(s["proposed"] for s in g.drawn("stars").values())
    g.press("ArrowRight")
    assert g.state()["file_name"] == "im1.png"
    im0 = exam.attempt(attempt.id).images.set_index("file_name").loc["im0.png"]
    assert im0.state == "graded"
    assert (im0.mean_stars, im0.missed) == (pytest.approx((5 + 1) / 2), 0)
    assert exam.results().iloc[0].images_graded == 1
    expect(g.root.locator('[data-testid="grader-summary"]')).to_contain_text("1/3 images graded")
    expect(g.root.locator('[data-asset][data-state="graded"]')).to_have_count(1)

    # im1 (a polygon): the missed cat is proposed Missing; the stray dog gets 2 stars; S saves
    t1 = sc.ids_by_label(rita, attempt, "im1.png")
    g1 = sc.gold_ids(exam, "im1.png")
    assert g.drawn("missing")[g1[("cat", 260)]]["text"] == "Missing?"
    g.press("Tab", "Tab", "Tab")
    assert g.state()["selected"] == f"t{t1[('dog', 330)]}"
    g.press("2", "Enter", "s")
    g.page.screenshot(path=str(artifacts / "exam_grader_polygon.png"))
    assert g.drawn("missing")[g1[("cat", 260)]]["text"] == "Missing"
    im1 = exam.attempt(attempt.id).images.set_index("file_name").loc["im1.png"]
    assert im1.state == "graded"
    assert im1.missed == 1
    graded1 = exam.attempt(attempt.id).graded().set_index("annotation")
    assert graded1.loc[t1[("dog", 330)], "stars"] == 2

    # im2 (keypoints, a mask, a tag): the comment box takes every key as text, Escape returns to the image
    g.press("ArrowRight")
    assert g.state()["file_name"] == "im2.png"
    # not passable before the last image is graded: Pass disabled with the reason, P only says it; Fail offered
    pass_button = g.root.locator('button[data-grader-action="pass_attempt"]')
    expect(pass_button).to_be_disabled()
    expect(pass_button).to_have_attribute("data-reason", re.compile("1 of 3 images not graded"))
    expect(g.root.locator('button[data-grader-action="fail_attempt"]')).to_be_enabled()
    expect(g.root.locator('[data-testid="grader-summary"]')).to_contain_text("pending · 1 of 3 images not graded")
    g.press("p")
    assert g.state()["armed"] is None
    hint = g.root.locator('[data-testid="grader-hint-note"]')
    expect(hint).to_contain_text("Cannot pass yet: 1 of 3 images not graded")
    t2 = sc.ids_by_label(rita, attempt, "im2.png")
    assert set(g.drawn("stars")) == {t2[("person", 72)], t2[("dog", 225)]}
    g.page.screenshot(path=str(artifacts / "exam_grader_keypoints_mask.png"))
    box = g.root.locator('[data-testid="grader-comment"]')
    box.click()
    g.page.keyboard.type("m5 s: night, not day")
    g.idle()
    assert g.drawn("stars")[t2[("dog", 225)]]["proposed"]  # "5" typed, nothing rated
    g.press("Escape", "Enter", "ArrowLeft")
    assert g.state()["file_name"] == "im1.png"
    images = exam.attempt(attempt.id).images.set_index("file_name")
    assert images.loc["im2.png", "state"] == "graded"
    assert images.loc["im2.png", "comment"] == "m5 s: night, not day"
    results = exam.results().iloc[0]
    assert results.images_graded == 3
    summary = g.root.locator('[data-testid="grader-summary"]')
    expect(summary).to_contain_text("3/3 images graded")
    expect(summary).to_contain_text("pending · mark met")

    # P asks for a confirmation (nothing decided yet), P again passes: the head says so, the credential is
    # granted and tina's gated job hands her a task; the attempt is read-only in the grader
    tina = lb.Project.open(rita.location, user="tina")
    with pytest.raises(lb.AccessDenied, match="needs the credential 'pets'"):
        tina.next_task(job="pet-work")
    expect(pass_button).to_be_enabled()
    g.press("p")
    assert g.state()["armed"] == "pass_attempt"
    expect(g.root.locator('[data-testid="grader-confirm"]')).to_contain_text("Pass attempt 1 of tina and grant pets?")
    g.page.screenshot(path=str(artifacts / "exam_grader_confirm.png"))
    assert exam.attempt(attempt.id).state == "submitted"
    g.press("p")
    expect(summary).to_contain_text("passed by rita · granted pets")
    expect(summary).to_have_attribute("data-result", "passed")
    expect(g.root.locator('[data-testid="grader-confirm"]')).to_be_hidden()
    g.page.screenshot(path=str(artifacts / "exam_grader_passed.png"))
    decided = exam.attempt(attempt.id)
    assert (decided.state, decided.decided_by) == ("passed", "rita")
    assert rita.members.held("tina") == ["pets"]
    task = tina.next_task(job="pet-work")
    assert task is not None
    assert task.asset.file_name == "im3.png"
    expect(pass_button).to_be_disabled()
    expect(g.root.locator('button[data-grader-action="save"]')).to_be_disabled()
    expect(g.root.locator('[data-testid="grader-note"]')).to_contain_text("was passed by 'rita': it is read-only")
    shown = g.drawn("stars")  # the grades still show on the image, as the grader's
    assert set(shown) == set(t1.values())
    assert not any(s["proposed"] for s in shown.values())
    g.press("5", "s")
    expect(hint).to_contain_text("it is read-only, no more grading")
    assert exam.results().iloc[0].result == "passed"
    eventually(lambda: _assert_no_error(g))


def _assert_no_error(g: Grader) -> None:
    assert g.widget.error == ""
    assert g.root.locator('[data-testid="grader-error"]').text_content() == ""
