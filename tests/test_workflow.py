"""Jobs and tasks as a team uses them: a manager launches a job, annotators and reviewers each open the
same project as themselves, claim, draw, review; every rule is checked in the Python API. Real SQLite
files and a real PostgreSQL server (``backend_url``); concurrency across real processes is in
tests/test_workflow_concurrency.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import labnb as lb
from labnb.workflow.tasks import TaskStateError

TEAM = {"alice": "annotator", "bob": "annotator", "carol": "reviewer", "dave": "reviewer", "mona": "manager"}


@pytest.fixture
def url(backend_url: str, tmp_path: Path) -> str:
    p = lb.Project.create(backend_url, labels=["cat", "dog"], tags=[{"name": "light", "options": ["day", "night"]}],
                          user="olga", overwrite=True)  # fmt: skip
    for i in range(4):
        Image.fromarray(np.full((100, 200, 3), 40 * i, np.uint8)).save(tmp_path / f"im{i}.png")
    p.add_images(sorted(tmp_path.glob("im*.png")), progress=False)
    for user, role in TEAM.items():
        p.members.add(user, role)
    return backend_url


def as_user(url: str, user: str) -> lb.Project:
    return lb.Project.open(url, user=user)


def test_launch_builds_the_task_graph(url: str) -> None:
    mona = as_user(url, "mona")
    job = mona.jobs.create("batch", passes_per_file=2, review_frequency=2, overlap=0.5, guide="# Draw\\nCats only")
    assert job.state == "draft"
    assert mona.jobs["batch"].id == job.id
    job.launch()
    assert job.state == "launched"
    t = job.tasks
    assert (t.kind == "draw").all()
    per_image = t.groupby("asset").size()
    assert sorted(per_image) == [1, 1, 2, 2]  # half the images get both passes
    assert list(t["pass"][:4]) == [1, 1, 1, 1]  # first passes come first (numbered from 1, as in the widgets)
    assert t.needs_review.sum() == 3  # every second of the six draw tasks
    with pytest.raises(lb.LabnbError, match="already launched"):
        job.launch()


def test_roles_are_enforced_in_the_api(url: str) -> None:
    alice, carol = as_user(url, "alice"), as_user(url, "carol")
    with pytest.raises(lb.AccessDenied, match="manager"):
        alice.jobs.create("mine")
    with pytest.raises(lb.AccessDenied, match="manager"):
        carol.jobs.create("mine")
    job = as_user(url, "mona").jobs.create("j")
    with pytest.raises(lb.AccessDenied, match="manager"):
        alice.jobs["j"].launch()
    job.launch()
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        alice.next_task("review")
    with pytest.raises(lb.AccessDenied, match="not a member"):
        lb.Project.open(url, user="mallory").next_task()
    task = alice.next_task()
    assert task is not None
    with pytest.raises(lb.AccessDenied, match="claimed by 'alice'"):
        as_user(url, "bob").task(task.id).submit([])
    # an annotator sees only their own tasks
    assert set(alice.jobs["j"].tasks.assignee) == {"alice"}
    assert len(as_user(url, "carol").jobs["j"].tasks) == 4


def test_credentials_gate_who_may_work(url: str) -> None:
    mona = as_user(url, "mona")
    mona.jobs.create("cars", credentials=["car-expert"]).launch()
    alice = as_user(url, "alice")
    assert alice.next_task() is None
    with pytest.raises(lb.AccessDenied):
        alice.members.grant("alice", "car-expert")
    mona.members.grant("alice", "car-expert")
    assert alice.members.held() == ["car-expert"]
    assert alice.next_task() is not None


def test_no_annotator_draws_two_passes_of_one_image(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    mona.jobs.create("double", assets=[asset.id], passes_per_file=2, review_frequency=0).launch()
    alice, bob = as_user(url, "alice"), as_user(url, "bob")
    first = alice.next_task()
    assert first is not None
    assert alice.next_task().id == first.id  # her claim in hand comes back, not a second pass
    first.submit([lb.Box(10, 10, 30, 30, label="cat")])
    assert first.state == "completed"  # no review asked
    assert alice.next_task() is None  # the other pass is of the same image
    second = bob.next_task()
    assert second is not None
    assert second.pass_index == 1


def test_review_cycle_reject_fix_and_accept(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    mona.jobs.create("rev", assets=[asset.id], review_frequency=1, review_guide="Check the *tails*").launch()
    alice, carol, dave = as_user(url, "alice"), as_user(url, "carol"), as_user(url, "dave")
    draw = alice.next_task()
    assert draw is not None
    assert carol.next_task("review") is None  # nothing handed in yet
    draw.submit([lb.Box(10, 10, 30, 30, label="cat")])
    assert draw.state == "annotated"
    with pytest.raises(TaskStateError, match="annotated"):
        draw.submit()
    review = carol.next_task("review")
    assert review is not None
    assert review.draw_task_id == draw.id
    assert draw.refresh().state == "review"
    assert [s.label for s in review.shapes()] == ["cat"]
    with pytest.raises(lb.LabnbError, match="comment"):
        review.review("reject")
    review.review("reject", comment="the tail is cut off")
    assert draw.refresh().state == "to_fix"
    assert draw.comment == "the tail is cut off"
    again = alice.next_task()
    assert again is not None
    assert again.id == draw.id  # sent back to its drawer first
    again.submit([lb.Box(10, 10, 50, 30, label="cat")])
    second = dave.next_task("review")
    assert second is not None
    assert second.id != review.id
    second.review("fix", shapes=[lb.Box(12, 10, 50, 30, label="cat")])
    assert draw.refresh().state == "completed"
    assert [s.bbox for s in draw.shapes()] == [(12, 10, 50, 30)]
    kinds = list(mona.events.df.kind)
    for k in ("job.launch", "task.claim", "task.submit", "review.reject", "review.fix"):
        assert k in kinds


def test_a_reviewer_never_reviews_their_own_drawing(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    mona.jobs.create("own", assets=[asset.id]).launch()
    carol, dave = as_user(url, "carol"), as_user(url, "dave")
    mine = carol.next_task()  # a reviewer may draw
    assert mine is not None
    mine.submit([lb.Box(1, 1, 5, 5, label="dog")])
    assert carol.next_task("review") is None
    theirs = dave.next_task("review")
    assert theirs is not None
    assert theirs.draw_task_id == mine.id


def test_abandoned_claims_lapse_and_release_gives_back(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    mona.jobs.create("lapse", assets=[asset.id], claim_minutes=0.01).launch()  # 0.6 s
    alice, bob = as_user(url, "alice"), as_user(url, "bob")
    t = alice.next_task()
    assert t is not None
    assert bob.next_task() is None
    time.sleep(0.8)
    taken = bob.next_task()
    assert taken is not None
    assert taken.id == t.id
    with pytest.raises(lb.AccessDenied, match="claimed by 'bob'"):
        t.submit([])
    taken.release()
    assert taken.assignee is None
    assert alice.next_task().id == t.id


def test_low_agreement_adds_a_pass_and_consensus_merges(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    job = mona.jobs.create("agree", assets=[asset.id], passes_per_file=2, review_frequency=0, min_agreement=0.8,
                           max_extra_passes=1)  # fmt: skip
    job.launch()
    a, b = as_user(url, "alice").next_task(), as_user(url, "bob").next_task()
    assert a is not None
    assert b is not None
    a.submit([lb.Box(10, 10, 40, 40, label="cat"), lb.Tag("day", group="light")])
    b.submit([lb.Box(12, 10, 40, 40, label="cat"), lb.Box(120, 50, 30, 30, label="dog"), lb.Tag("day", group="light")])
    ag = job.agreement
    assert ag.passes[0] == 3
    assert ag.extra_passes[0] == 1
    assert ag.agreement[0] < 0.8
    c = as_user(url, "carol").next_task()
    assert c is not None
    assert c.pass_index == 2
    c.submit([lb.Box(11, 11, 40, 40, label="cat"), lb.Tag("night", group="light")])
    assert as_user(url, "dave").next_task() is None  # at most max_extra_passes
    merged = job.consensus()[asset.id]
    boxes = [s for s in merged if isinstance(s, lb.Box)]
    assert [(s.label, s.x, s.y) for s in boxes] == [("cat", pytest.approx(11), pytest.approx(10 + 1 / 3))]
    assert [(t.group, t.value) for t in merged if isinstance(t, lb.Tag)] == [("light", "day")]
    out = job.merge()
    assert list(out.shapes) == [2]
    assert len(mona.get_annotations(asset.id, source="consensus")) == 2


def test_annotators_scored_against_ground_truth(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    as_user(url, "carol").annotate(asset, [lb.Box(10, 10, 40, 40, label="cat"), lb.Box(100, 10, 40, 40, label="dog")],
                                   source="ground_truth")  # fmt: skip
    job = mona.jobs.create("gt", assets=[asset.id], passes_per_file=2, review_frequency=0)
    job.launch()
    as_user(url, "alice").next_task().submit(
        [lb.Box(10, 10, 40, 40, label="cat"), lb.Box(100, 10, 40, 40, label="dog")]
    )
    as_user(url, "bob").next_task().submit([lb.Box(10, 10, 40, 40, label="cat"), lb.Box(60, 60, 10, 10, label="cat")])
    scores = job.score_annotators().set_index("annotator")
    assert scores.loc["alice", "f1"] == pytest.approx(1.0)
    assert scores.loc["bob", "precision"] == pytest.approx(0.5)
    assert scores.loc["bob", "recall"] == pytest.approx(0.5)
    assert scores.loc["alice", "mean_iou"] == pytest.approx(1.0)
    with pytest.raises(lb.AccessDenied):
        as_user(url, "alice").jobs["gt"].score_annotators()


def _edit(widget: object, edits: list[dict[str, object]]) -> None:
    w = widget
    w._on_message(w, {"type": "edits", "batch": 1, "asset_id": w.asset.id, "edits": edits}, [])  # type: ignore[attr-defined]


def _box(cid: str, x: float) -> dict[str, object]:
    return {"id": None, "cid": cid, "label": "cat", "attributes": {}, "track_id": None,
            "geometry": {"kind": "box", "x": x, "y": 10, "w": 20, "h": 20}}  # fmt: skip


def test_a_task_annotator_edits_only_its_pass(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    mona.jobs.create("widget", assets=[asset.id], passes_per_file=2, review_frequency=1, guide="Cats **only**").launch()
    alice, bob = as_user(url, "alice"), as_user(url, "bob")
    ta, tb = alice.next_task(), bob.next_task()
    assert ta is not None
    assert tb is not None
    wa = ta.annotator()
    assert "<strong>only</strong>" in wa.guide_html
    _edit(wa, [{"op": "create", "cid": "a1", "shape": _box("a1", 10), "duration_ms": 100}])
    assert wa.error == ""
    wb = tb.annotator()
    _edit(wb, [{"op": "create", "cid": "b1", "shape": _box("b1", 50), "duration_ms": 100}])
    assert [s.x for s in ta.shapes()] == [10]
    assert [s.x for s in tb.shapes()] == [50]
    assert [d["cid"] for d in wb.shapes] == ["b1"]  # bob's widget shows only his pass
    # bob cannot reach alice's pass by its annotation id
    (a_id,) = [s.id for s in ta.shapes()]
    _edit(wb, [{"op": "delete", "id": a_id, "cid": "a1", "duration_ms": 1}])
    assert "not part of task" in wb.error
    ta.submit()
    # handed in: alice can no longer change it
    _edit(wa, [{"op": "create", "cid": "a2", "shape": _box("a2", 90), "duration_ms": 1}])
    assert "only its drawer" in wa.error
    assert len(ta.shapes()) == 1
    # the reviewer holding the review fixes it in place, then accepts
    review = as_user(url, "carol").next_task("review")
    assert review is not None
    wr = review.annotator()
    (dto,) = wr.shapes
    _edit(wr, [{"op": "update", "id": dto["id"], "cid": dto["cid"], "shape": _box(dto["cid"], 12), "duration_ms": 5}])
    assert wr.error == ""
    review.review("fix")
    assert [s.x for s in ta.shapes()] == [12]
    assert ta.refresh().state == "completed"


def test_marked_ground_truth_is_what_annotators_are_scored_against(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    job = mona.jobs.create("marked", assets=[asset.id], passes_per_file=2, review_frequency=0)
    job.launch()
    a, b = as_user(url, "alice").next_task(), as_user(url, "bob").next_task()
    assert a is not None
    assert b is not None
    a.submit([lb.Box(10, 10, 40, 40, label="cat")])
    b.submit([lb.Box(100, 50, 40, 40, label="dog")])
    assert job.score_annotators().empty  # no ground truth yet
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        as_user(url, "alice").mark_ground_truth([s.id for s in a.shapes() if s.id is not None])
    (gt_id,) = as_user(url, "carol").mark_ground_truth([s.id for s in a.shapes() if s.id is not None])
    assert [s.id for s in mona.get_annotations(asset.id, source="ground_truth")] == [gt_id]
    assert len(a.shapes()) == 1  # the pass keeps its own copy
    scores = job.score_annotators().set_index("annotator")
    assert scores.loc["alice", "f1"] == pytest.approx(1.0)
    assert scores.loc["bob", "f1"] == pytest.approx(0.0)
    assert "annotation.mark_ground_truth" in set(mona.events.df.kind)


def test_a_pass_sent_back_shows_the_reviewers_comment_in_the_annotator(url: str) -> None:
    mona = as_user(url, "mona")
    asset = next(iter(mona.assets))
    mona.jobs.create("comment", assets=[asset.id], guide="Box the **cats**").launch()
    alice = as_user(url, "alice")
    drawn = alice.next_task()
    assert drawn is not None
    drawn.submit([lb.Box(10, 10, 30, 30, label="cat")])
    review = as_user(url, "carol").next_task("review")
    assert review is not None
    review.review("reject", comment="The tail is cut off.\n<img src=x onerror=alert(1)>")
    w = alice.work()
    assert w is not None
    assert w.task["state"] == "to_fix"
    html = w.guide_html
    assert "Sent back to fix" in html
    assert "The tail is cut off." in html
    assert "<strong>cats</strong>" in html  # the job's guide follows
    assert "<img" not in html  # the comment is text: its markup is shown, never rendered
    assert "&lt;img" in html


def test_a_job_is_completed_when_its_tasks_are_and_reopens_for_an_added_pass(url: str) -> None:
    mona = as_user(url, "mona")
    images = [a.id for a in mona.assets][:2]
    job = mona.jobs.create("done", assets=images, review_frequency=1)
    job.launch()
    for _ in images:
        task = as_user(url, "alice").next_task()
        assert task is not None
        task.submit([lb.Box(10, 10, 30, 30, label="cat")])
    first = as_user(url, "carol").next_task("review")
    assert first is not None
    first.review("accept")
    assert job.refresh().state == "launched"  # one pass still awaits its review
    last = as_user(url, "carol").next_task("review")
    assert last is not None
    last.review("accept")
    assert job.refresh().state == "completed"
    assert mona.jobs.df.set_index("name").loc["done", "state"] == "completed"
    extra = job.add_pass(images[0])
    assert job.refresh().state == "launched"
    assert extra.pass_number == 2
    assert job.tasks.set_index("task").loc[extra.id, "pass"] == 2  # the same number everywhere
    assert "pass 2" in repr(extra)
    second = as_user(url, "bob").next_task()
    assert second is not None
    assert second.id == extra.id
    second.submit([lb.Box(10, 10, 30, 30, label="cat")])
    review = as_user(url, "dave").next_task("review")
    assert review is not None
    review.review("accept")
    assert job.refresh().state == "completed"
    kinds = list(mona.events.df.kind)
    assert kinds.count("job.complete") == 2
    assert kinds.count("job.reopen") == 1
    with pytest.raises(lb.AccessDenied, match="an annotator of project"):
        as_user(url, "alice").jobs["done"].add_pass(images[0])


def test_model_error_is_part_of_the_public_api() -> None:
    assert issubclass(lb.ModelError, lb.LabnbError)
    assert "ModelError" in lb.__all__
