"""The exam grader widget's Python side, without a browser: who may open it, what its state holds, and the
grades and the decisions its messages make.

tina sits the exam of tests/exam_scenario.py (boxes, a polygon, keypoints, a mask, a tag); rita grades it
in ``p.exam_grader(...)``, driven with the messages the front end sends (``js/src/grader/types.ts``), on a
real SQLite file and a real PostgreSQL server (``backend_url``). What counts is what reaches the store
(``attempt.images``, ``attempt.graded()``, ``exam.results()``, the events, the credentials the decision
grants and the gated work they open) and what the widget would show (its traits). The browser half is
tests/browser/test_exam_grader.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import exam_scenario as sc
import pytest

# pytest puts tests/ on sys.path. `plain_comm` (autouse, so here too): widgets talk through comm's kernel-less
# stand-in, as in tests/test_review_panel_python.py.
from test_pyramid import plain_comm  # noqa: F401

import labnb as lb
from labnb.exams.grading_view import grading_item
from labnb.widgets.exam_grader import ExamGrader


@pytest.fixture
def project_url(backend_url: str, tmp_path: Path) -> str:
    """The scenario's project, without its exam."""
    return sc.make_project(backend_url, tmp_path)


@pytest.fixture
def url(project_url: str) -> str:
    sc.make_exam(project_url)
    return project_url


def as_user(url: str, user: str) -> lb.Project:
    return lb.Project.open(url, user=user)


class Driver:
    """A grader widget plus the replies it sent to our messages."""

    def __init__(self, widget: ExamGrader) -> None:
        self.w = widget
        self.sent: list[dict[str, Any]] = []
        widget.send = lambda content, buffers=None: self.sent.append(content)  # type: ignore[method-assign]
        self.seq = 0

    def __call__(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send one message as the front end does (about the open image unless ``asset_id`` says); the reply."""
        self.seq += 1
        if kind not in ("open", "attempt"):
            fields.setdefault("asset_id", self.w.item.get("asset_id"))
        self.w._on_message(self.w, {"type": kind, "seq": self.seq, **fields}, [])
        (reply,) = [m for m in self.sent if m.get("type") == "reply" and m.get("seq") == self.seq]
        return reply

    @property
    def file(self) -> str:
        return str(self.w.item["file_name"])

    def entry(self, kind: str, ident: int) -> dict[str, Any]:
        found: dict[str, Any] = next(e for e in self.w.item[kind] if e["id"] == ident)
        return found


def images(url: str, attempt: lb.exams.Attempt) -> Any:
    return as_user(url, "mona").exams[sc.EXAM].attempt(attempt.id).images.set_index("file_name")


def grade_events(url: str) -> int:
    return int((as_user(url, "mona").events.df.kind == "exam.grade").sum())


def test_the_trainee_and_annotators_cannot_open_it(url: str) -> None:
    attempt = sc.sit(url)
    tina = as_user(url, "tina")
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        tina.exam_grader(sc.EXAM)
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        tina.exam_grader(tina.exams[sc.EXAM].attempt())
    # her attempt object handed to her own project: still refused, the user is the project's
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        tina.exam_grader(as_user(url, "rita").exams[sc.EXAM].attempt(attempt.id))
    with pytest.raises(lb.AccessDenied):
        grading_item(tina.exams[sc.EXAM], tina.exams[sc.EXAM].attempt(), tina.exams[sc.EXAM].assets[0])
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        as_user(url, "tom").exam_grader(sc.EXAM)
    # a reviewer who sat the exam cannot grade their own attempt, and the grader lists only others' attempts
    ravi = as_user(url, "ravi")
    own = sc.sit(url, "ravi")
    with pytest.raises(lb.AccessDenied, match="cannot grade their own attempt"):
        ravi.exam_grader(own)
    listed = ravi.exam_grader(sc.EXAM)
    assert [a["user"] for a in listed.attempts] == ["tina"]
    with pytest.raises(lb.LabnbError, match="unknown keymap action"):
        as_user(url, "rita").exam_grader(sc.EXAM, keymap={"fly": "x"})


def test_a_graders_widget_holds_the_gold_and_the_proposals(url: str) -> None:
    attempt = sc.sit(url)
    rita = as_user(url, "rita")
    exam = rita.exams[sc.EXAM]
    w = rita.exam_grader(sc.EXAM)
    assert w.error == ""
    assert w.attempts == [{"id": attempt.id, "user": "tina", "number": 1, "state": "submitted"}]
    assert w.attempt_info["user"] == "tina"
    assert w.item["file_name"] == "im0.png"
    assert w.image
    assert w.image_info["width"] == sc.SIZE[0]
    gold = {g["id"]: g for g in w.item["gold"]}
    shapes = {s.id: s for s in exam.gold_shapes("im0.png")}
    assert set(gold) == set(shapes)
    for gid, s in shapes.items():
        assert gold[gid]["shape"]["geometry"] == {"kind": "box", "x": s.x, "y": s.y, "w": s.w, "h": s.h}  # type: ignore[attr-defined]
    t0 = sc.ids_by_label(rita, attempt, "im0.png")
    g0 = sc.gold_ids(exam, "im0.png")
    cat = next(e for e in w.item["trainee"] if e["id"] == t0[("cat", 46)])
    assert (cat["status"], cat["gold"], cat["proposed"]) == ("tp", g0[("cat", 40)], 4)
    dog = gold[g0[("dog", 240)]]
    assert (dog["status"], dog["markable"], dog["proposed_missing"]) == ("wrong_label", True, False)
    assert not gold[g0[("cat", 40)]]["markable"]
    assert w.draft["stars"] == {}
    assert not w.draft["dirty"]
    assert w.summary["images_graded"] == 0
    assert w.summary["images"] == 3
    assert w.summary["f1"] == pytest.approx(exam.results().iloc[0].f1)
    assert [r["state"] for r in w.images] == ["handed_in"] * 3
    json.dumps([w.item, w.draft, w.summary, w.images, w.attempts])  # all of it travels as JSON (no NaN)

    # every kind reaches the browser in its wire form: polygon, keypoints, mask, tags
    w.show_image("im1.png")
    kinds = {e["shape"]["geometry"]["kind"] for e in w.item["trainee"]} | {g["kind"] for g in w.item["gold"]}
    assert kinds == {"polygon", "box"}
    w.show_image("im2.png")
    assert {e["kind"] for e in w.item["trainee"]} == {"keypoints", "mask"}
    assert {g["shape"]["geometry"]["kind"] for g in w.item["gold"]} == {"keypoints", "mask"}
    assert [(t["label"], t["status"], t["proposed"]) for t in w.item["tags"]] == [("light:night", "fp", False)]
    assert w.item["gold_tags"] == [{"label": "light:day", "found": False}]


def test_messages_make_the_grade(url: str) -> None:
    attempt = sc.sit(url)
    rita = as_user(url, "rita")
    exam = rita.exams[sc.EXAM]
    w = rita.exam_grader(attempt)
    send = Driver(w)
    t0 = sc.ids_by_label(rita, attempt, "im0.png")
    g0 = sc.gold_ids(exam, "im0.png")
    cat, wrong, gold_dog = t0[("cat", 46)], t0[("cat", 240)], g0[("dog", 240)]

    assert send("rate", annotation=cat, stars=5)["ok"]
    assert w.draft["stars"] == {str(cat): 5}
    assert w.draft["dirty"]
    assert send("missing", gold=gold_dog)["ok"]  # M: marked Missing
    assert w.draft["missing"] == {str(gold_dog): True}
    assert send("undo")["ok"]  # Ctrl+Z: not missing again
    assert w.draft["missing"] == {}
    assert send("redo")["ok"]
    assert send("missing", gold=gold_dog)["ok"]
    assert w.draft["missing"] == {str(gold_dog): False}
    assert send("rate", annotation=cat, stars=0)["ok"]  # 0: back to the proposal
    assert w.draft["stars"] == {}
    assert send("rate", annotation=cat, stars=3)["ok"]
    assert send("comment", comment="the dog is a dog")["ok"]
    assert grade_events(url) == 0  # nothing saved while grading

    # moving on saves the image (one exam.grade) and opens the next
    im1_id = w.images[1]["asset_id"]
    assert send("open", asset_id=im1_id, from_asset=w.item["asset_id"], comment="the dog is a dog!")["ok"]
    assert send.file == "im1.png"
    assert grade_events(url) == 1
    im0 = images(url, attempt).loc["im0.png"]
    assert (im0.state, im0.mean_stars, im0.missed, im0.comment, im0.grader) == ("graded", 2.0, 0, "the dog is a dog!",
                                                                                  "rita")  # fmt: skip
    assert w.images[0]["state"] == "graded"
    assert w.summary["images_graded"] == 1

    # im1: Enter accepts every proposal (the missed cat is Missing); S saves
    t1 = sc.ids_by_label(rita, attempt, "im1.png")
    assert send("rate", annotation=t1[("dog", 330)], stars=2)["ok"]
    assert send("accept")["ok"]
    assert w.draft["stars"] == {str(t1[("cat", 64)]): 5, str(t1[("dog", 180)]): 5, str(t1[("dog", 330)]): 2}
    assert list(w.draft["missing"].values()) == [True]
    assert send("save")["ok"]
    assert not w.draft["dirty"]
    assert w.item["state"] == "graded"
    im1 = images(url, attempt).loc["im1.png"]
    assert (im1.mean_stars, im1.missed) == (pytest.approx(12 / 3), 1)
    assert exam.results().iloc[0].missed == 1

    # im2: the wrong tag judged right after all; moving back without a change saves nothing more
    assert send("open", asset_id=w.images[2]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    (tag,) = w.item["tags"]
    assert send("tag", annotation=tag["id"], right=True)["ok"]
    assert send("open", asset_id=w.images[1]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert grade_events(url) == 3
    graded = exam.attempt(attempt.id).graded().set_index("annotation")
    assert bool(graded.loc[tag["id"], "right"]) is True
    assert send("open", asset_id=w.images[0]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert grade_events(url) == 3
    # a graded image opens as graded: the grader's verdicts, no proposal left
    assert w.draft["stars"] == {str(cat): 3, str(wrong): 1}
    assert w.draft["comment"] == "the dog is a dog!"
    final = exam.results().iloc[0]
    assert final.images_graded == 3
    assert w.summary["images_graded"] == 3
    assert w.summary["mark_met"] == bool(final.mark_met)


def test_bad_messages_give_an_error_and_lose_nothing(url: str) -> None:
    attempt = sc.sit(url)
    rita = as_user(url, "rita")
    exam = rita.exams[sc.EXAM]
    send = Driver(rita.exam_grader(sc.EXAM))
    w = send.w
    t0 = sc.ids_by_label(rita, attempt, "im0.png")
    t1 = sc.ids_by_label(rita, attempt, "im1.png")
    g0 = sc.gold_ids(exam, "im0.png")
    cat = t0[("cat", 46)]
    assert send("rate", annotation=cat, stars=4)["ok"]
    before = dict(w.draft)
    refused = [
        ("rate", {"annotation": t1[("dog", 330)], "stars": 3}, "not an instance the trainee drew on image 'im0.png'"),
        ("rate", {"annotation": g0[("dog", 240)], "stars": 3}, "is not an instance the trainee drew"),
        ("rate", {"annotation": cat, "stars": 7}, "stars must be a whole number from 1 to 5"),
        ("rate", {"annotation": "1; drop table", "stars": 3}, "must be an id"),
        ("missing", {"gold": g0[("cat", 40)]}, f"is matched by the trainee's instance {cat}"),
        ("missing", {"gold": 99999}, "gold 99999 is not a gold instance of image 'im0.png'"),
        ("missing", {"gold": g0[("dog", 240)], "missing": "yes"}, "missing must be true, false or absent"),
        ("tag", {"annotation": cat, "right": True}, "is not a tag the trainee set"),
        ("rate", {"annotation": cat, "stars": 2, "asset_id": w.images[1]["asset_id"]}, "not the open image"),
        ("open", {"asset_id": 99999}, "image 99999 is not an image of attempt 1"),
        ("attempt", {"attempt": 99999}, "attempt 99999 is not one of the attempts"),
        ("fly", {}, "unknown message 'fly'"),
    ]
    for kind, fields, message in refused:
        reply = send(kind, **fields)
        assert not reply["ok"], (kind, fields)
        assert message in reply["error"]
        assert w.error == reply["error"]
        assert w.draft == before
    assert send.file == "im0.png"
    # a save refused on the way to the next image (rita is no reviewer for a moment): she stays, the draft kept
    mona = as_user(url, "mona")
    mona.members.add("rita", "annotator")
    reply = send("open", asset_id=w.images[1]["asset_id"], from_asset=w.item["asset_id"], comment="kept")
    assert not reply["ok"]
    assert "reviewer" in reply["error"]
    assert send.file == "im0.png"
    assert w.draft["stars"] == {str(cat): 4}
    assert w.draft["comment"] == "kept"
    assert grade_events(url) == 0
    mona.members.add("rita", "reviewer")
    # the rating made before the bad messages is saved when the grader moves on
    assert send("open", asset_id=w.images[1]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert w.error == ""
    assert exam.attempt(attempt.id).graded().set_index("annotation").loc[cat, "stars"] == 4


def test_images_not_handed_in_are_shown_but_not_gradable(url: str) -> None:
    attempt = sc.sit(url, hand_in=1)  # im0 handed in; im1 and im2 still being drawn
    assert attempt.state == "started"
    rita = as_user(url, "rita")
    assert rita.exam_grader(sc.EXAM).attempts == []  # nothing handed in to list yet
    send = Driver(rita.exam_grader(attempt))  # the attempt itself opens
    w = send.w
    assert [r["state"] for r in w.images] == ["handed_in", "drawing", "drawing"]
    assert send.file == "im0.png"
    assert send("accept")["ok"]
    assert send("open", asset_id=w.images[1]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert images(url, attempt).loc["im0.png", "state"] == "graded"  # the handed-in one saved on the way
    assert not w.item["gradable"]
    assert "im1.png is not handed in yet" in w.item["note"]
    assert w.image  # shown all the same
    for kind in ("accept", "save"):
        reply = send(kind)
        assert not reply["ok"]
        assert "not handed in yet" in reply["error"]
    assert send("open", asset_id=w.images[2]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert grade_events(url) == 1


def test_switching_attempts_saves_the_open_grade(url: str) -> None:
    tina, tom = sc.sit(url, "tina"), sc.sit(url, "tom")
    rita = as_user(url, "rita")
    send = Driver(rita.exam_grader(sc.EXAM))
    w = send.w
    assert [a["user"] for a in w.attempts] == ["tina", "tom"]
    assert w.attempt_info["id"] == tina.id
    assert send("accept")["ok"]
    reply = send("attempt", attempt=tom.id, from_asset=w.item["asset_id"], comment="fine")
    assert reply["ok"], reply
    assert w.attempt_info["user"] == "tom"
    assert send.file == "im0.png"
    assert images(url, tina).loc["im0.png", "comment"] == "fine"
    assert images(url, tom).loc["im0.png", "state"] == "handed_in"


def grade_all(send: Driver, stars: int | None = None) -> None:
    """Grade every image of the open attempt as a grader pressing keys would: each instance given ``stars``
    (None: the proposals accepted), saved by moving on; the last one saved with S."""
    w = send.w
    for i, row in enumerate(w.images):
        if w.item["asset_id"] != row["asset_id"]:
            assert send("open", asset_id=row["asset_id"], from_asset=w.item["asset_id"])["ok"]
        if stars is not None:
            for e in w.item["trainee"]:
                assert send("rate", annotation=e["id"], stars=stars)["ok"]
        assert send("accept")["ok"]
        if i == len(w.images) - 1:
            assert send("save")["ok"]


def test_passing_in_the_grader_checks_the_mark_and_grants_the_credential(url: str) -> None:
    attempt = sc.sit(url)
    mona, rita, tina = as_user(url, "mona"), as_user(url, "rita"), as_user(url, "tina")
    mona.jobs.create("pet-work", ["im3.png"], credentials=["pets"]).launch()
    send = Driver(rita.exam_grader(attempt))
    w = send.w
    d = w.decision
    assert (d["state"], d["decidable"], d["mark_met"], d["decided_by"]) == ("submitted", True, None, None)
    assert d["unmet"] == ["3 of 3 images not graded"]
    assert d["mark"] == "mean stars >= 3, F1 >= 0.5, missed <= 2"
    assert (d["grants"], d["locked"], d["auto_met"]) == (["pets"], "", True)

    # refused before every image is graded, saying what is missing; nothing is decided
    reply = send("decide", decision="pass", attempt=attempt.id)
    assert not reply["ok"]
    assert "does not meet the pass mark: 3 of 3 images not graded" in reply["error"]
    assert w.error == reply["error"]
    grade_all(send, stars=1)
    reply = send("decide", decision="pass", attempt=attempt.id)
    assert not reply["ok"]
    assert "does not meet the pass mark: mean stars 1.00, the mark is >= 3" in reply["error"]
    assert (w.decision["mark_met"], w.decision["unmet"]) == (False, ["mean stars 1.00, the mark is >= 3"])
    assert mona.exams[sc.EXAM].attempt(attempt.id).state == "submitted"
    with pytest.raises(lb.AccessDenied, match=r"needs the credential 'pets' \(passing the exam 'pets-101' grants it\)"):
        tina.next_task(job="pet-work")
    # a decision about another attempt than the open one is refused
    assert "not the open attempt 1 of 'tina'" in send("decide", decision="pass", attempt=attempt.id + 99)["error"]
    assert "decision must be 'pass' or 'fail'" in send("decide", decision="maybe", attempt=attempt.id)["error"]

    # graded again as proposed, the last image's grade left unsaved with a comment: the decision saves it first
    t1 = sc.ids_by_label(rita, attempt, "im1.png")
    for row in w.images:
        assert send("open", asset_id=row["asset_id"], from_asset=w.item["asset_id"])["ok"]
        for e in w.item["trainee"]:
            assert send("rate", annotation=e["id"], stars=e["proposed"])["ok"]
    assert w.item["file_name"] == "im2.png"
    assert w.draft["dirty"]
    assert w.decision["mark_met"] is False  # as stored: im2 still at 1 star
    events = grade_events(url)
    reply = send("decide", decision="pass", attempt=attempt.id, from_asset=w.item["asset_id"], comment="well done")
    assert reply["ok"], reply
    assert grade_events(url) == events + 1
    assert images(url, attempt).loc["im2.png", "comment"] == "well done"
    decided = mona.exams[sc.EXAM].attempt(attempt.id)
    assert (decided.state, decided.decided_by) == ("passed", "rita")
    assert mona.members.held("tina") == ["pets"]
    task = tina.next_task(job="pet-work")
    assert task is not None
    assert task.asset.file_name == "im3.png"
    assert w.status.startswith("Saved im2.png")
    assert "Passed attempt 1 of tina: granted 'pets'; the attempt is read-only now" in w.status
    d = w.decision
    assert (d["state"], d["decided_by"], d["decidable"], d["mark_met"]) == ("passed", "rita", False, True)
    assert w.summary["result"] == "passed"
    assert d["locked"] == "attempt 1 of 'tina' was passed by 'rita': it is read-only, no more grading"

    # read-only now: every grading message refused, nothing changed; moving between images still works
    assert (w.item["gradable"], w.item["scored"]) == (False, True)  # its verdicts still shown
    assert w.item["note"] == d["locked"]
    cat = t1[("cat", 64)]
    assert send("open", asset_id=w.images[1]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert not w.item["gradable"]
    before = dict(w.draft)
    for kind, fields in [("rate", {"annotation": cat, "stars": 2}), ("accept", {}), ("save", {}), ("undo", {}),
                         ("comment", {"comment": "more"})]:  # fmt: skip
        reply = send(kind, **fields)
        assert not reply["ok"], kind
        assert "was passed by 'rita': it is read-only, no more grading; nothing was changed" in reply["error"]
        assert w.draft == before
    for decision in ("pass", "fail"):
        assert "only a handed-in attempt is decided" in send("decide", decision=decision, attempt=attempt.id)["error"]
    assert grade_events(url) == events + 1
    assert mona.exams[sc.EXAM].attempt(attempt.id).state == "passed"
    # opened again later, the attempt shows as decided from the start
    again = rita.exam_grader(attempt)
    assert (again.decision["state"], again.item["gradable"]) == ("passed", False)


def test_failing_in_the_grader_and_a_decision_made_elsewhere(url: str) -> None:
    tina, tom = sc.sit(url, "tina"), sc.sit(url, "tom", hand_in=2)  # tom's attempt is still being drawn
    rita = as_user(url, "rita")
    send = Driver(rita.exam_grader(tom))
    w = send.w
    assert (w.decision["state"], w.decision["decidable"]) == ("started", False)
    for decision in ("pass", "fail"):
        reply = send("decide", decision=decision, attempt=tom.id)
        assert "is started; only a handed-in attempt is decided" in reply["error"]
    # tina's: failed at once, nothing graded (Fail needs no mark)
    assert send("attempt", attempt=tina.id)["ok"]
    assert w.decision["mark_met"] is None
    reply = send("decide", decision="fail", attempt=tina.id)
    assert reply["ok"], reply
    assert as_user(url, "mona").exams[sc.EXAM].attempt(tina.id).state == "failed"
    assert (w.decision["state"], w.decision["decided_by"]) == ("failed", "rita")
    assert w.summary["result"] == "failed"
    assert "Failed attempt 1 of tina; the attempt is read-only now" in w.status
    assert not w.item["gradable"]
    assert "read-only" in send("accept")["error"]
    assert as_user(url, "mona").members.held("tina") == []
    assert as_user(url, "tina").exams.start(sc.EXAM).number == 2  # a retake is allowed

    # ravi decides tom's attempt in his own notebook while rita's grade of it is unsaved: hers is dropped
    # (it could never be saved), she moves on, and the grader shows the attempt decided
    task = as_user(url, "tom").next_task()  # his last image handed in
    assert task is not None
    task.submit()
    assert send("attempt", attempt=tom.id)["ok"]
    assert w.decision["decidable"]
    assert send("accept")["ok"]
    assert w.draft["dirty"]
    as_user(url, "ravi").exams[sc.EXAM].fail(tom)
    events = grade_events(url)
    assert send("open", asset_id=w.images[1]["asset_id"], from_asset=w.item["asset_id"])["ok"]
    assert grade_events(url) == events
    assert "The changed grade of im0.png was not saved: attempt 1 of 'tom' was failed by 'ravi'" in w.status
    assert (w.decision["state"], w.decision["decided_by"], w.item["gradable"]) == ("failed", "ravi", False)


def test_auto_pass_shows_as_passed_on_the_last_save(project_url: str) -> None:
    url = project_url
    sc.make_exam(url, auto_pass=True, pass_mark={"stars": 2.0})
    attempt, tom = sc.sit(url), sc.sit(url, "tom")
    send = Driver(as_user(url, "rita").exam_grader(attempt))
    w = send.w
    assert w.decision["mark"] == "mean stars >= 2"
    grade_all(send)
    assert as_user(url, "mona").exams[sc.EXAM].attempt(attempt.id).state == "passed"
    assert as_user(url, "mona").members.held("tina") == ["pets"]
    assert (w.decision["state"], w.decision["decided_by"], w.decision["mark_met"]) == ("passed", "rita", True)
    assert w.status.startswith("Saved im2.png")
    assert "Passed attempt 1 of tina: granted 'pets' (the exam passes automatically once the mark is met)" in w.status
    assert not w.item["gradable"]
    assert "read-only" in send("rate", annotation=w.item["trainee"][0]["id"], stars=3)["error"]

    # tom's: the last grade left unsaved, P confirmed: the save passes it, the decision is that pass
    assert send("attempt", attempt=tom.id)["ok"]
    for row in w.images:
        if w.item["asset_id"] != row["asset_id"]:
            assert send("open", asset_id=row["asset_id"], from_asset=w.item["asset_id"])["ok"]
        assert send("accept")["ok"]
    assert w.decision["state"] == "submitted"
    reply = send("decide", decision="pass", attempt=tom.id)
    assert reply["ok"], reply
    assert (w.decision["state"], w.decision["decided_by"]) == ("passed", "rita")
    assert "Passed attempt 1 of tom: granted 'pets'" in w.status
    assert as_user(url, "mona").members.held("tom") == ["pets"]
