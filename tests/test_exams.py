"""Exams as a team uses them: a manager makes an exam from the ground truth, a trainee sits it in their own
Project object, a reviewer grades it in another, passing grants the credential a job requires; the gold
never reaches the trainee by any path. Real SQLite files and a real PostgreSQL server (``backend_url``).
"""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

import labnb as lb
from labnb.exams.prescore import proposed_stars, score_image
from labnb.geometry import box_iou

TEAM = {"tina": "annotator", "tom": "annotator", "rita": "reviewer", "ravi": "reviewer", "mona": "manager"}

#: Ground truth per image: (label, x, y, w, h).
GT = {
    "im0.png": [("cat", 10, 10, 40, 30), ("dog", 100, 20, 50, 50)],
    "im1.png": [("cat", 20, 40, 30, 30), ("cat", 120, 10, 40, 40), ("dog", 60, 50, 30, 30)],
    "im2.png": [("dog", 5, 5, 60, 60)],
}


@pytest.fixture
def url(backend_url: str, tmp_path: Path) -> str:
    p = lb.Project.create(backend_url, labels=["cat", "dog"], tags=[{"name": "light", "options": ["day", "night"]}],
                          user="olga", overwrite=True)  # fmt: skip
    for i in range(4):
        Image.fromarray(np.full((100, 200, 3), 40 * i + 20, np.uint8)).save(tmp_path / f"im{i}.png")
    p.add_images(sorted(tmp_path.glob("im*.png")), progress=False)
    for name, boxes in GT.items():
        p.annotate(name, [lb.Box(x, y, w, h, label=c) for c, x, y, w, h in boxes], source="ground_truth")
    for user, role in TEAM.items():
        p.members.add(user, role)
    return backend_url


def as_user(url: str, user: str) -> lb.Project:
    return lb.Project.open(url, user=user)


def make_exam(url: str, **options: object) -> lb.exams.Exam:
    options.setdefault("grants", ["pets"])
    options.setdefault("pass_mark", {"stars": 3.0, "f1": 0.6, "max_missed": 2})
    return as_user(url, "mona").exams.create("pets-101", ["im0.png", "im1.png", "im2.png"], **options)  # type: ignore[arg-type]


def sit(p: lb.Project, drawings: dict[str, list[lb.Box]]) -> lb.exams.Attempt:
    """The trainee's attempt: each image drawn through the ordinary next_task path, then handed in."""
    attempt = p.exams.start("pets-101")
    for _ in range(len(drawings)):
        task = p.next_task()
        assert task is not None
        assert task.job.kind == "exam"
        shapes = drawings[task.asset.file_name]
        if shapes:
            p.annotate(task.asset_id, shapes, task_id=task.id, duration=2.5)
        task.submit()
    return attempt.refresh()


#: A sloppy attempt: im0's cat shifted, its dog labelled cat; im1 misses a cat and adds a stray dog.
SLOPPY = {
    "im0.png": [lb.Box(14, 12, 40, 30, label="cat"), lb.Box(100, 20, 50, 50, label="cat")],
    "im1.png": [lb.Box(20, 40, 30, 30, label="cat"), lb.Box(60, 50, 30, 30, label="dog"),
                lb.Box(150, 60, 20, 20, label="dog")],
    "im2.png": [lb.Box(8, 5, 60, 60, label="dog")],
}  # fmt: skip


def test_an_exam_snapshots_its_gold(url: str) -> None:
    exam = make_exam(url)
    mona = as_user(url, "mona")
    assert mona.exams["pets-101"].id == exam.id
    gold = exam.gold
    assert len(gold) == 6
    assert set(gold.file_name) == set(GT)
    before = exam.gold_hash
    # correcting the ground truth later does not change the exam people sit
    gt_id = mona.get_annotations("im2.png", source="ground_truth")[0].id
    assert gt_id is not None
    mona.update_annotation(gt_id, lb.Box(50, 5, 60, 60, label="dog"))
    again = mona.exams["pets-101"]
    assert again.gold_hash == before
    assert again.gold[again.gold.file_name == "im2.png"].x.tolist() == [5.0]
    df = mona.exams.df
    assert df.loc[0, "name"] == "pets-101"
    assert df.loc[0, "images"] == 3
    assert df.loc[0, "grants"] == ["pets"]
    # an exam's job is not an ordinary job: it is not listed with them, nor handed out as work
    assert "exam: pets-101" not in set(mona.jobs.df.name)


def test_bad_exams_are_refused_clearly(url: str) -> None:
    mona = as_user(url, "mona")
    with pytest.raises(lb.LabnbError, match=r"1 of 2 images have no ground truth labels.*'im3.png'"):
        mona.exams.create("e", ["im0.png", "im3.png"])
    with pytest.raises(
        lb.LabnbError, match=r"unknown criteria \['precision'\]; the criteria are \['stars', 'f1', 'max_missed'\]"
    ):
        mona.exams.create("e", ["im0.png"], pass_mark={"precision": 0.5})
    with pytest.raises(lb.LabnbError, match="'stars' must be a number from 1 to 5"):
        mona.exams.create("e", ["im0.png"], pass_mark={"stars": 7})
    with pytest.raises(lb.LabnbError, match="there is no job 'nope'"):
        mona.exams.create("e", ["im0.png"], gold="nope")
    with pytest.raises(lb.AccessDenied, match="manager"):
        as_user(url, "rita").exams.create("e", ["im0.png"])
    # without assets: every image with gold, the one without left out
    assert len(mona.exams.create("all", grants=[]).assets) == 3


def test_a_trainee_sits_and_a_reviewer_grades(url: str) -> None:
    exam = make_exam(url)
    tina, rita = as_user(url, "tina"), as_user(url, "rita")
    attempt = tina.exams.start("pets-101")
    assert attempt.number == 1
    assert attempt.state == "started"
    assert tina.exams.start("pets-101").id == attempt.id  # an open attempt comes back
    # the attempt's tasks are tina's alone: tom is offered nothing, cannot claim them, cannot release them
    tom = as_user(url, "tom")
    assert tom.next_task() is None
    first = attempt.tasks.task[0]
    with pytest.raises(lb.AccessDenied, match="claimed by 'tina'"):
        tom.task(int(first)).submit([])
    with pytest.raises(lb.LabnbError, match="cannot be released"):
        tina.task(int(first)).release()
    # grading an image that is not handed in is refused
    with pytest.raises(lb.LabnbError, match=r"'im0\.png' of attempt 1 by 'tina' is not handed in yet"):
        rita.exams["pets-101"].grade(attempt, "im0.png")
    annotator = tina.work()
    assert annotator is not None
    assert annotator.task["id"] == int(first)
    assert annotator.task["job"] == "exam: pets-101"
    attempt = sit(tina, SLOPPY)
    assert attempt.state == "submitted"
    assert attempt.submitted_at is not None
    assert attempt.active_seconds == pytest.approx(7.5)

    images = rita.exams["pets-101"].attempt(attempt.id).images.set_index("file_name")
    assert (images.state == "handed_in").all()
    # im0: the cat matches (IoU of a 4 px shift), the dog drawn as a cat is a wrong label
    iou0 = float(box_iou(np.array([[10, 10, 40, 30]]), np.array([[14, 12, 40, 30]]))[0, 0])
    assert images.loc["im0.png", ["tp", "fp", "fn", "wrong_label"]].tolist() == [1, 1, 1, 1]
    assert images.loc["im0.png", "mean_iou"] == pytest.approx(iou0)
    assert images.loc["im1.png", ["tp", "fp", "fn", "wrong_label"]].tolist() == [2, 1, 1, 0]
    assert images.loc["im2.png", ["tp", "fp", "fn"]].tolist() == [1, 0, 0]

    exam = rita.exams["pets-101"]
    results = exam.results()
    row = results.iloc[0]
    assert row.user == "tina"
    assert row.result == "pending"
    assert row.images_graded == 0
    assert row.mark_met is None
    assert (row.precision, row.recall, row.extra, row.wrong_label) == (pytest.approx(4 / 6), pytest.approx(4 / 6), 2, 1)
    with pytest.raises(lb.LabnbError, match="3 of 3 images not graded"):
        exam.passed(attempt)
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        as_user(url, "tina").exams["pets-101"].grade(attempt, "im0.png")

    # grade: im0 as proposed; im1 with the stray dog given 1 star and the missed cat marked Missing
    exam.grade(attempt, "im0.png")
    shapes1 = {(s.label, s.x): s.id for s in rita.task(int(attempt.tasks.task[1])).shapes()}
    graded = exam.grade(attempt, "im1.png", stars={shapes1[("dog", 150)]: 1, shapes1[("cat", 20)]: 5},
                        comment="a cat is missing at the top right")  # fmt: skip
    assert graded.missed == 1
    assert graded.state == "graded"
    after_two = exam.results().iloc[0]
    assert after_two.images_graded == 2
    assert after_two.mark_met is None
    exam.grade(attempt, "im2.png")
    final = exam.results().iloc[0]
    assert final.images_graded == 3
    assert final.missed == 1
    assert final.mark_met is True
    assert final.mean_stars == pytest.approx((3 + 1 + 1 + 5 + 5 + 5) / 6)
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        tina.exams["pets-101"].passed(attempt)
    # a gated job refuses tina until she passes, naming the exam that grants the credential
    mona = as_user(url, "mona")
    mona.jobs.create("pet-work", ["im3.png"], credentials=["pets"]).launch()
    with pytest.raises(lb.AccessDenied, match=r"needs the credential 'pets' \(passing the exam 'pets-101' grants it\)"):
        tina.next_task(job="pet-work")
    decided = exam.passed(attempt)
    assert decided.state == "passed"
    assert decided.decided_by == "rita"
    creds = mona.members.credentials("tina")
    assert creds.iloc[0].credential == "pets"
    assert creds.iloc[0].source == "exam"
    assert creds.iloc[0].exam == "pets-101"
    task = tina.next_task(job="pet-work")
    assert task is not None
    assert task.asset.file_name == "im3.png"
    with pytest.raises(lb.LabnbError, match="passed the exam 'pets-101' already"):
        tina.exams.start("pets-101")
    # the review tasks of an exam are completed by grading, never handed out as review work
    assert rita.next_task("review") is None


def test_a_revoked_credential_stops_open_work(url: str) -> None:
    mona, tina = as_user(url, "mona"), as_user(url, "tina")
    mona.members.grant("tina", "pets")
    mona.jobs.create("pet-work", ["im3.png"], credentials=["pets"]).launch()
    task = tina.next_task()
    assert task is not None
    mona.members.revoke("tina", "pets")
    with pytest.raises(lb.AccessDenied, match="needs the credential 'pets'"):
        tina.annotate("im3.png", lb.Box(1, 1, 5, 5, label="cat"), task_id=task.id)
    with pytest.raises(lb.AccessDenied, match="needs the credential 'pets'"):
        tina.task(task.id).submit([])
    creds = mona.members.credentials("tina")
    assert len(creds) == 1
    assert not creds.iloc[0].held
    assert creds.iloc[0].revoked_by == "mona"


def test_pass_mark_equal_to_the_score_passes_and_fail_allows_a_retake(url: str) -> None:
    make_exam(url, pass_mark={"f1": 1.0}, max_attempts=2, retake_after=timedelta(hours=1))
    tina, rita = as_user(url, "tina"), as_user(url, "rita")
    perfect = {n: [lb.Box(x, y, w, h, label=c) for c, x, y, w, h in b] for n, b in GT.items()}
    attempt = sit(tina, perfect)
    exam = rita.exams["pets-101"]
    assert exam.results().iloc[0].f1 == 1.0
    exam.fail(attempt)  # a reviewer may still fail it
    with pytest.raises(lb.LabnbError, match=r"next attempt at 'pets-101' is allowed from .* UTC \(in 1 h\)"):
        tina.exams.start("pets-101")


def test_a_reviewer_sitting_an_exam_cannot_grade_it(url: str) -> None:
    make_exam(url)
    ravi = as_user(url, "ravi")
    attempt = sit(ravi, {n: [] for n in GT})
    with pytest.raises(lb.AccessDenied, match="cannot grade their own attempt"):
        ravi.exams["pets-101"].grade(attempt, "im0.png")
    with pytest.raises(lb.AccessDenied, match="cannot fail their own attempt"):
        ravi.exams["pets-101"].fail(attempt)
    assert as_user(url, "rita").exams["pets-101"].fail(attempt).state == "failed"


def test_attempt_limit(url: str) -> None:
    make_exam(url, max_attempts=1)
    tina, rita = as_user(url, "tina"), as_user(url, "rita")
    attempt = sit(tina, {n: [] for n in GT})
    with pytest.raises(lb.LabnbError, match="awaits grading"):
        tina.exams.start("pets-101")
    rita.exams["pets-101"].fail(attempt)
    with pytest.raises(lb.AccessDenied, match="all 1 attempts"):
        tina.exams.start("pets-101")


def test_auto_pass_grants_on_the_last_grade(url: str) -> None:
    make_exam(url, auto_pass=True, pass_mark={"stars": 2.0})
    tina, rita = as_user(url, "tina"), as_user(url, "rita")
    attempt = sit(tina, SLOPPY)
    exam = rita.exams["pets-101"]
    for name in GT:
        assert exam.attempt(attempt.id).state == "submitted"
        exam.grade(attempt, name)
    assert exam.attempt(attempt.id).state == "passed"
    assert as_user(url, "mona").members.held("tina") == ["pets"]


def test_the_gold_never_reaches_the_trainee(url: str, tmp_path: Path) -> None:
    make_exam(url)
    olga = as_user(url, "olga")
    gt_ids = [int(i) for i in olga.annotations.df.query("source == 'ground_truth'").annotation_id]
    tina = as_user(url, "tina")
    exam = tina.exams["pets-101"]
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        _ = exam.gold
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        exam.gold_shapes("im0.png")

    def leaks() -> list[str]:
        found = []
        df = tina.annotations.df
        if df.source.eq("ground_truth").any() or set(gt_ids) & set(df.annotation_id):
            found.append("annotations.df")
        if len(tina.annotations) != len(df):
            found.append("len(annotations)")
        for name in GT:
            if tina.get_annotations(name, source="ground_truth") or any(
                s.id in gt_ids for s in tina.get_annotations(name)
            ):
                found.append(f"get_annotations({name})")
        for i in gt_ids:
            try:
                tina.history(i)
                found.append(f"history({i})")
            except lb.LabnbError:
                pass
            for action in ("update", "delete"):
                try:
                    if action == "update":
                        tina.update_annotation(i, lb.Box(0, 0, 5, 5, label="cat"))
                    else:
                        tina.delete_annotation(i)
                    found.append(f"write({i})")
                except lb.LabnbError as exc:
                    if "not found" not in str(exc):
                        found.append(f"write error tells: {exc}")
        coco = json.loads(tina.export_coco(tmp_path / "c.json", source=["human", "ground_truth"]).read_text())
        if len(coco["annotations"]) != len(df) or not df.created_by.eq("tina").all():
            found.append("export_coco")
        return found

    assert leaks() == []
    # while sitting: the Annotator on an exam image holds only what tina drew
    tina.exams.start("pets-101")
    annotator = tina.work()
    assert annotator is not None
    assert annotator.shapes == []
    task = tina.next_task()
    assert task is not None
    tina.annotate(task.asset_id, [lb.Box(14, 12, 40, 30, label="cat")], task_id=task.id)
    annotator.refresh()
    assert [s["label"] for s in annotator.shapes] == ["cat"]
    assert len(annotator.shapes) == 1
    assert leaks() == []
    # after handing in: scores and her own graded work, never the gold geometry
    sit_rest = [t for t in tina.exams["pets-101"].attempt().tasks.itertuples() if t.state == "none"]
    for t in sit_rest:
        tina.task(int(t.task)).submit([])
    attempt = tina.exams["pets-101"].attempt()
    assert attempt.state == "submitted"
    images = attempt.images
    assert not {"x", "y", "w", "h", "gold"} & set(images.columns)
    with pytest.raises(lb.AccessDenied, match="does not show graded instances"):
        attempt.graded()
    assert leaks() == []
    # other trainees' attempts are as hidden as the gold
    tom = as_user(url, "tom")
    assert tom.exams["pets-101"].results().empty
    with pytest.raises(lb.LabnbError, match="no attempt"):
        tom.exams["pets-101"].attempt(attempt.id)
    assert not set(tom.annotations.df.created_by) & {"tina", "olga"}


def test_show_graded_lets_the_trainee_see_their_own_stars(url: str) -> None:
    make_exam(url, show_graded=True)
    tina, rita = as_user(url, "tina"), as_user(url, "rita")
    attempt = sit(tina, SLOPPY)
    rita.exams["pets-101"].grade(attempt, "im0.png")
    mine = tina.exams["pets-101"].attempt().graded()
    assert set(mine.columns) == {"annotation", "asset", "file_name", "label", "kind", "status", "iou", "stars",
                                 "right", "graded"}  # fmt: skip
    im0 = mine[mine.file_name == "im0.png"]
    assert sorted(zip(im0.status, im0.stars, strict=True)) == [("tp", 3), ("wrong_label", 1)]  # IoU 0.72: 3 stars
    assert not mine[mine.file_name == "im1.png"].graded.any()


def test_two_graders_at_once_lose_nothing(url: str) -> None:
    make_exam(url)
    attempts = {who: sit(as_user(url, who), SLOPPY) for who in ("tina", "tom")}
    errors: list[BaseException] = []

    def grade_all(grader: str, trainee: str) -> None:
        try:
            exam = as_user(url, grader).exams["pets-101"]
            for name in GT:
                exam.grade(attempts[trainee], name, comment=f"{grader} on {name}")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=grade_all, args=a) for a in (("rita", "tina"), ("ravi", "tom"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    results = as_user(url, "mona").exams["pets-101"].results().set_index("user")
    assert results.loc["tina", "images_graded"] == 3
    assert results.loc["tom", "images_graded"] == 3
    for who, grader in (("tina", "rita"), ("tom", "ravi")):
        images = as_user(url, "mona").exams["pets-101"].attempt(attempts[who].id).images
        assert set(images.grader) == {grader}
        assert sorted(images.comment) == sorted(f"{grader} on {n}" for n in GT)


def test_results_by_label(url: str) -> None:
    make_exam(url)
    attempt = sit(as_user(url, "tina"), SLOPPY)
    by = as_user(url, "rita").exams["pets-101"].results(by="label").set_index("label")
    assert by.loc["cat", ["tp", "fp", "fn"]].tolist() == [2, 1, 1]  # im0's dog drawn as a cat is a cat fp
    assert by.loc["dog", ["tp", "fp", "fn"]].tolist() == [2, 1, 1]  # and a dog missed, like im1's stray dog
    assert isinstance(by, pd.DataFrame)
    assert attempt.number == 1


def test_continuous_gold_scores_and_suspends(url: str) -> None:
    make_exam(url)
    mona = as_user(url, "mona")
    mona.members.grant("tom", "pets")
    job = mona.jobs.create("pet-work", ["im3.png"], credentials=["pets"], gold_rate=1.0, gold_exam="pets-101",
                           min_gold_f1=0.7, min_gold_images=2)  # fmt: skip
    job.launch()
    tom = as_user(url, "tom")
    seen = []
    for _ in range(2):
        task = tom.next_task()
        assert task is not None
        seen.append(task.asset.file_name)
        task.submit([lb.Box(150, 80, 10, 10, label="cat")])  # wrong everywhere
        if len(seen) == 1:
            assert mona.members.held("tom") == ["pets"]  # one image never decides
    assert set(seen) <= set(GT)
    assert len(set(seen)) == 2
    scores = mona.jobs["pet-work"].gold_scores().set_index("annotator")
    assert scores.loc["tom", "images"] == 2
    assert scores.loc["tom", "f1"] == 0.0
    assert scores.loc["tom", "f1_high"] < 0.7
    assert bool(scores.loc["tom", "suspended"])
    assert mona.members.held("tom") == []
    with pytest.raises(lb.AccessDenied, match="needs the credential 'pets'"):
        tom.next_task(job="pet-work")
    # gold tasks are not the job's work: not reviewed, not in its agreement, not awaiting review
    tasks = mona.jobs["pet-work"].tasks
    assert tasks.gold.sum() == 2
    assert "gold" not in tom.jobs["pet-work"].tasks.columns
    assert mona.jobs.df.set_index("name").loc["pet-work", "draw_tasks"] == 1
    mona.members.reinstate("tom", "pets")
    assert mona.members.held("tom") == ["pets"]
    events = mona.events.df
    assert "credential.suspend" in set(events.kind)
    assert "credential.reinstate" in set(events.kind)


def test_an_exam_from_a_jobs_passes(url: str) -> None:
    mona, tom = as_user(url, "mona"), as_user(url, "tom")
    mona.jobs.create("trusted", ["im3.png"], review_frequency=0).launch()
    task = tom.next_task()
    assert task is not None
    task.submit([lb.Box(30, 30, 40, 20, label="dog"), lb.Tag("night", group="light")])
    exam = mona.exams.create("from-job", gold="trusted", grants=[])
    assert exam.assets == [mona.asset("im3.png").id]
    assert sorted(exam.gold.label) == ["dog", "light:night"]
    with pytest.raises(lb.LabnbError, match="no job 99"):
        as_user(url, "tina").next_task(job=99)


def test_tags_and_masks_are_scored() -> None:
    square = np.zeros((50, 60), np.uint8)
    square[10:30, 10:30] = 1
    gold = [lb.Mask(square, label="cat", id=1), lb.Tag("day", group="light", id=2)]
    shifted = np.roll(square, 1, axis=1)
    drawn = [lb.Mask(shifted, label="cat", id=10), lb.Tag("night", group="light", id=11)]
    s = score_image(gold, drawn, 50, 60, 0.5)
    assert (s.tp, s.fp, s.fn) == (1, 1, 1)
    assert s.trainee[0]["iou"] == pytest.approx(380 / 420)
    assert s.trainee[0]["stars"] == 5
    assert s.trainee[1]["right"] is False
    assert s.gold[1]["status"] == "missed"
    assert [proposed_stars(v) for v in (0.95, 0.85, 0.75, 0.6, None)] == [5, 4, 3, 2, 1]


def test_a_trainee_is_told_the_role_not_that_the_attempt_is_missing(url: str) -> None:
    make_exam(url)
    attempt = sit(as_user(url, "tina"), SLOPPY)
    tom = as_user(url, "tom").exams["pets-101"]
    for action in (
        lambda: tom.grade(attempt.id, "im0.png"),
        lambda: tom.passed(attempt.id),
        lambda: tom.fail(attempt.id),
    ):
        with pytest.raises(lb.AccessDenied, match="takes at least the reviewer role"):
            action()


def test_a_decided_attempt_is_not_graded_again(url: str) -> None:
    make_exam(url)
    attempt = sit(as_user(url, "tina"), SLOPPY)
    exam = as_user(url, "rita").exams["pets-101"]
    exam.fail(attempt)
    with pytest.raises(lb.LabnbError, match="is failed; a decided attempt is not graded again"):
        exam.grade(attempt, "im0.png")
    assert not exam.attempt(attempt.id).images.graded.any()
