"""The Review panel's Python side, without a browser: the queue, filters, claims and decisions.

The kernel side is driven with the same messages the front end sends (``js/src/review/types.ts``), against a
real SQLite project that a team opens each as themselves (``lb.Project.open(path, user=...)``); what counts
is what reaches the store: task states, comments, shapes, events. The browser half is
tests/browser/test_review_panel.py.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import PIL.ImageFile
import pytest
import traitlets
from PIL import Image

# pytest puts tests/ on sys.path. `plain_comm` (autouse, so here too): widgets talk through comm's kernel-less
# stand-in, which sends state updates (solara's pytest plugin gives comms without a kernel, which send none),
# so a test sees what would reach the browser (Driver.updates).
from test_pyramid import CHECKER, HUGE, checkerboard, huge_jpeg, plain_comm, wait_for  # noqa: F401

import labnb as lb
from labnb import pyramid
from labnb.clock import using_clock
from labnb.widgets.errors import error_text
from labnb.widgets.review_panel import ReviewPanel
from labnb.workflow.claims import claim
from labnb.workflow.tasks import TaskStateError

TEAM = {"alice": "annotator", "bob": "annotator", "carol": "reviewer", "dave": "reviewer", "mona": "manager"}

#: What each drawer draws per image: im0 the two agree, im1 they do not, im2 alice sees a dog, bob a cat.
ALICE = {
    "im0.png": [lb.Box(10, 10, 40, 30, label="cat")],
    "im1.png": [lb.Box(10, 10, 40, 30, label="cat")],
    "im2.png": [lb.Box(100, 50, 30, 30, label="dog")],
    "im3.png": [lb.Box(5, 5, 20, 20, label="cat")],
}
BOB = {
    "im0.png": [lb.Box(10, 10, 40, 30, label="cat")],
    "im1.png": [lb.Box(120, 60, 30, 30, label="cat")],
    "im2.png": [lb.Box(100, 50, 30, 30, label="cat")],
}
CAROL = {"im3.png": [lb.Box(5, 5, 22, 20, label="cat")]}


def as_user(path: Path | str, user: str) -> lb.Project:
    return lb.Project.open(path, user=user)


def draw_all(p: lb.Project, shapes: dict[str, list[Any]]) -> None:
    """Claim and hand in passes until this user has none left among ``shapes``' images."""
    while (t := p.next_task("draw")) is not None:
        name = t.asset.file_name
        if name not in shapes:
            t.release()
            return
        t.submit(shapes[name])


@pytest.fixture
def path(tmp_path: Path) -> Path:
    location = tmp_path / "team.labnb"
    p = lb.Project.create(location, labels=["cat", "dog"], user="olga")
    for i in range(4):
        Image.fromarray(np.full((100, 200, 3), 40 * i, np.uint8)).save(tmp_path / f"im{i}.png")
    p.add_images(sorted(tmp_path.glob("im*.png")), progress=False)
    for user, role in TEAM.items():
        p.members.add(user, role)
    mona = as_user(location, "mona")
    mona.jobs.create("rev", passes_per_file=2, review_frequency=1, review_guide="Check the *tails*").launch()
    draw_all(as_user(location, "alice"), ALICE)  # pass 0 of every image
    draw_all(as_user(location, "bob"), BOB)  # pass 1 of im0..im2
    draw_all(as_user(location, "carol"), CAROL)  # pass 1 of im3: a reviewer may draw too
    return location


class Driver:
    """A panel plus what it sent back: the replies to our messages and the acks of the editor's edits."""

    def __init__(self, panel: ReviewPanel) -> None:
        self.panel = panel
        self.sent: list[dict[str, Any]] = []
        real = panel._send

        #: names of the traits that changed: what ipywidgets would send to the browser (an unchanged value
        #: assigned again notifies nothing and sends nothing)
        self.changes: list[str] = []
        panel.observe(lambda change: self.changes.append(change["name"]), names=traitlets.All)
        #: the traits each update message carried to the browser
        self.updates: list[set[str]] = []
        #: the tiles sent (from the image feed's thread): the message and the encoded tile
        self.tiles: list[tuple[dict[str, Any], bytes]] = []

        def record(msg: dict[str, Any], buffers: Any = None) -> None:
            if msg.get("method") == "custom":
                self.sent.append(msg["content"])
                if msg["content"].get("type") == "tile":
                    self.tiles.append((msg["content"], bytes(buffers[0])))
            elif msg.get("method") == "update":
                self.updates.append(set(msg.get("state", {})))
            real(msg, buffers)

        panel._send = record  # type: ignore[method-assign]
        self.seq = 0

    def __call__(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Send one message as the front end does; returns the reply."""
        self.seq += 1
        self.panel._on_message(self.panel, {"type": kind, "seq": self.seq, **fields}, [])
        (reply,) = [m for m in self.sent if m.get("type") == "reply" and m.get("seq") == self.seq]
        return reply

    def edits(self, edits: list[dict[str, Any]], batch: int = 1) -> dict[str, Any]:
        asset = self.panel.current["asset_id"]
        self.panel._on_message(self.panel, {"type": "edits", "batch": batch, "asset_id": asset, "edits": edits}, [])
        (ack,) = [m for m in self.sent if m.get("type") == "ack" and m.get("batch") == batch]
        return ack

    @property
    def current(self) -> int:
        return int(self.panel.current["review_task"])


def task_row(p: lb.Project, task_id: int) -> Any:
    return p.task(task_id)


def events(p: lb.Project, kind: str) -> Any:
    ev = p.events.df
    return ev[ev.kind == kind]


def test_the_queue_lists_what_the_reviewer_may_review_and_opens_the_first(path: Path) -> None:
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    rows = panel.queue
    assert len(rows) == 7  # eight passes drawn; one is carol's own
    assert panel.queue_total == 7
    assert "carol" not in {r["drawer"] for r in rows}
    assert {r["drawer"] for r in rows} == {"alice", "bob"}
    by = {(r["file_name"], r["drawer"]): r for r in rows}
    assert by["im0.png", "alice"]["agreement"] == pytest.approx(1.0)
    assert by["im1.png", "bob"]["agreement"] < 0.5
    assert by["im2.png", "alice"]["labels"] == ["dog"]
    assert by["im3.png", "alice"]["pass"] == 0
    # the first item is open and claimed in the store
    first = rows[0]
    assert panel.current["review_task"] == first["review_task"]
    assert panel.current["held"] is True
    review = task_row(carol, first["review_task"])
    assert (review.state, review.assignee) == ("review", "carol")
    assert task_row(carol, first["draw_task"]).state == "review"
    assert panel.image_info["file_name"] == first["file_name"]
    assert panel.image[:4] == b"\x89PNG"
    # every drawn pass of the image, each drawer in its own colour; the reviewed one's shapes are `shapes`
    passes = panel.passes
    assert [p["drawer"] for p in passes] == ["alice", "bob"]
    assert len({p["color"] for p in passes}) == 2
    assert [p["reviewed"] for p in passes] == [p["draw_task"] == first["draw_task"] for p in passes]
    (reviewed_shape,) = panel.shapes
    assert reviewed_shape["geometry"] == {"kind": "box", "x": 10.0, "y": 10.0, "w": 40.0, "h": 30.0}
    other = next(p for p in passes if not p["reviewed"])
    assert len(other["shapes"]) == 1
    assert {d["name"]: d["color"] for d in panel.drawers}.keys() >= {"alice", "bob", "carol"}
    assert "<em>tails</em>" in panel.guide_html
    assert panel.user == "carol"
    assert panel.keymap["accept"] == "a"
    assert "next_image" not in panel.editor_keymap


def test_filters_by_agreement_drawer_and_class(path: Path) -> None:
    panel = as_user(path, "dave").review_panel("rev")
    send = Driver(panel)
    assert panel.queue_total == 8
    assert send("filter", agreement_below=0.5, drawer=None, label=None)["ok"]
    assert {r["file_name"] for r in panel.queue} == {"im1.png", "im2.png"}  # im0 agrees, im3 too
    assert all(r["agreement"] < 0.5 for r in panel.queue)
    assert panel.filters["agreement_below"] == 0.5
    assert "4 of 8" in panel.status
    send("filter", agreement_below=None, drawer="bob", label=None)
    assert {r["drawer"] for r in panel.queue} == {"bob"}
    assert len(panel.queue) == 3
    send("filter", agreement_below=None, drawer=None, label="dog")
    assert [(r["file_name"], r["drawer"]) for r in panel.queue] == [("im2.png", "alice")]
    send("filter", agreement_below=0.5, drawer="alice", label="cat")
    assert [(r["file_name"], r["drawer"]) for r in panel.queue] == [("im1.png", "alice")]
    send("filter", agreement_below=None, drawer=None, label=None)
    assert len(panel.queue) == 8
    bad = send("filter", agreement_below="low", drawer=None, label=None)
    assert not bad["ok"]
    assert "agreement_below" in bad["error"]
    assert "agreement_below" in panel.error


def test_opening_an_item_claims_it_and_gives_back_the_one_held(path: Path) -> None:
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    send = Driver(panel)
    first = send.current
    target = panel.queue[3]
    reply = send("open", review_task=target["review_task"])
    assert reply["ok"], reply
    assert send.current == target["review_task"]
    assert panel.image_info["index"] == 3
    assert (task_row(carol, target["review_task"]).state, task_row(carol, target["review_task"]).assignee) == (
        "review",
        "carol",
    )
    back = task_row(carol, first)
    assert (back.state, back.assignee) == ("none", None)
    assert task_row(carol, int(back.draw_task_id or 0)).state == "annotated"
    released = events(carol, "task.release")
    released = released[released.user == "carol"]
    assert list(released.task_id) == [first]
    assert released.payload.iloc[0]["for"] == target["review_task"]
    claims = events(carol, "task.claim")
    assert list(claims[claims.user == "carol"].task_id)[-2:] == [first, target["review_task"]]
    # the queue shows which one is held
    assert [r["review_task"] for r in panel.queue if r["held"]] == [target["review_task"]]


def test_accept_reject_and_fix_reach_the_store_with_events(path: Path) -> None:
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    send = Driver(panel)
    # accept: the pass is completed, the event has the active time, the next item opens
    accepted = panel.current
    assert send("accept", review_task=accepted["review_task"], duration_ms=1500)["ok"]
    assert task_row(carol, accepted["review_task"]).state == "completed"
    assert task_row(carol, accepted["draw_task"]).state == "completed"
    ev = events(carol, "review.accept")
    assert list(ev.task_id) == [accepted["review_task"]]
    assert ev.duration.iloc[0] == pytest.approx(1.5)
    assert accepted["review_task"] not in {r["review_task"] for r in panel.queue}
    assert send.current != accepted["review_task"]
    assert "Accepted im0.png (alice, pass 1)" in panel.status
    assert task_row(carol, send.current).assignee == "carol"

    # reject: a comment is required (the backend refuses an empty one), then the pass goes back to fix
    rejected = panel.current
    refused = send("reject", review_task=rejected["review_task"], comment="  ")
    assert not refused["ok"]
    assert "comment" in refused["error"]
    assert "comment" in panel.error
    assert task_row(carol, rejected["draw_task"]).state == "review"
    assert send.current == rejected["review_task"]  # still open
    assert send("reject", review_task=rejected["review_task"], comment="the tail is cut off")["ok"]
    assert panel.error == ""
    draw = task_row(carol, rejected["draw_task"])
    assert (draw.state, draw.comment) == ("to_fix", "the tail is cut off")
    assert list(events(carol, "review.reject").payload.map(lambda p: p["comment"])) == ["the tail is cut off"]

    # fix: F starts fixing, the editor's edits go to the pass, F again records the fix
    fixed = panel.current
    assert send("accept", review_task=fixed["review_task"] + 1000)["ok"] is False  # not the open item
    assert not panel.fixing
    refused_edit = send.edits([{"op": "create", "cid": "x1", "shape": _box("x1", 1), "duration_ms": 10}], batch=7)
    assert refused_edit["results"][0]["ok"] is False  # not fixing: the pass is not editable
    assert send("fix", review_task=fixed["review_task"])["ok"]
    assert panel.fixing
    (dto,) = panel.shapes
    ack = send.edits(
        [{"op": "update", "id": dto["id"], "cid": dto["cid"], "shape": _box(dto["cid"], 33, dto["id"]),
          "duration_ms": 700}]
    )  # fmt: skip
    assert ack["results"][0]["ok"], ack
    assert ack["upsert"][0]["geometry"]["x"] == 33
    assert [s.x for s in task_row(carol, fixed["draw_task"]).shapes()] == [33]
    assert send("fix", review_task=fixed["review_task"])["ok"]
    assert not panel.fixing
    draw = task_row(carol, fixed["draw_task"])
    assert draw.state == "completed"
    assert [s.x for s in draw.shapes()] == [33]
    assert list(events(carol, "review.fix").task_id) == [fixed["review_task"]]
    assert len(events(carol, "annotation.update")) == 1
    assert "Fixed and accepted" in panel.status


def test_a_in_fix_mode_records_a_fix_and_navigation_waits_for_it(path: Path) -> None:
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    send = Driver(panel)
    item = panel.current
    send("fix", review_task=item["review_task"])
    elsewhere = send("open", review_task=panel.queue[-1]["review_task"])
    assert not elsewhere["ok"]
    assert "finish the fix" in elsewhere["error"]
    assert send.current == item["review_task"]
    send("accept", review_task=item["review_task"])
    assert list(events(carol, "review.fix").task_id) == [item["review_task"]]
    assert events(carol, "review.accept").empty


def test_a_reviewer_never_gets_their_own_drawing(path: Path) -> None:
    carol = as_user(path, "carol")
    jobs = carol.jobs["rev"].tasks
    own_draw = int(jobs[(jobs.kind == "draw") & (jobs.assignee == "carol")].task.iloc[0])
    own_review = int(jobs[(jobs.kind == "review") & (jobs.draw_task == own_draw)].task.iloc[0])
    panel = carol.review_panel("rev")
    assert own_review not in {r["review_task"] for r in panel.queue}
    send = Driver(panel)
    reply = send("open", review_task=own_review)
    assert not reply["ok"]
    assert reply["error"] == f"user 'carol' drew task {own_draw} and cannot review it"  # the message, no type prefix
    assert panel.error == reply["error"]
    with pytest.raises(lb.AccessDenied, match="cannot review"):
        claim(carol, own_review)
    assert task_row(carol, own_review).state == "none"
    # dave may review it
    dave = as_user(path, "dave")
    assert own_review in {r["review_task"] for r in dave.review_panel("rev").queue}


def test_two_reviewers_never_hold_the_same_item(path: Path) -> None:
    carol_panel = as_user(path, "carol").review_panel("rev")
    dave = as_user(path, "dave")
    dave_panel = dave.review_panel("rev")
    assert carol_panel.current["review_task"] != dave_panel.current["review_task"]
    assert carol_panel.current["review_task"] not in {r["review_task"] for r in dave_panel.queue}
    reply = Driver(dave_panel)("open", review_task=carol_panel.current["review_task"])
    assert not reply["ok"]
    assert "claimed by 'carol'" in reply["error"]
    with pytest.raises(TaskStateError, match="claimed by 'carol'"):
        claim(dave, carol_panel.current["review_task"])


def test_roles_are_enforced_by_the_backend(path: Path) -> None:
    alice = as_user(path, "alice")
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        alice.review_panel("rev")
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        ReviewPanel(alice, "rev")
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    send = Driver(panel)
    item = panel.current
    as_user(path, "mona").members.add("carol", "annotator")  # demoted while the panel is open
    for kind, extra in (("accept", {}), ("reject", {"comment": "no"}), ("fix", {})):
        reply = send(kind, review_task=item["review_task"], **extra)
        assert not reply["ok"]
        assert "reviewer" in reply["error"]
        assert not reply["error"].startswith("AccessDenied")  # the message alone, as the panel shows it
    assert task_row(carol, item["draw_task"]).state == "review"
    assert events(carol, "review.accept").empty
    assert not panel.fixing


def test_credentials_and_an_empty_queue(path: Path) -> None:
    mona = as_user(path, "mona")
    mona.jobs.create("experts", credentials=["expert"]).launch()
    panel = as_user(path, "carol").review_panel("experts")
    assert panel.queue == []
    assert panel.current == {}
    assert panel.status == "Nothing to review"
    reply = Driver(panel)("accept", review_task=None)
    assert not reply["ok"]
    assert "no item is open" in reply["error"]


def test_the_queue_ends_after_the_last_decision(path: Path) -> None:
    mona = as_user(path, "mona")
    first = next(iter(mona.assets))
    mona.jobs.create("one", assets=[first.id]).launch()
    draw_all(as_user(path, "alice"), {first.file_name: [lb.Box(1, 1, 5, 5, label="cat")]})
    panel = as_user(path, "dave").review_panel("one")
    send = Driver(panel)
    assert len(panel.queue) == 1
    assert send("accept", review_task=send.current)["ok"]
    assert panel.current == {}
    assert panel.queue == []
    assert "the queue is done" in panel.status
    assert panel.image == b""


def _box(cid: str, x: float, annotation_id: int | None = None) -> dict[str, Any]:
    return {"id": annotation_id, "cid": cid, "label": "cat", "attributes": {}, "track_id": None,
            "geometry": {"kind": "box", "x": x, "y": 10, "w": 40, "h": 30}}  # fmt: skip


def test_ground_truth_never_reaches_the_panel(path: Path) -> None:
    olga = as_user(path, "olga")
    olga.annotate("im0.png", [lb.Box(150, 70, 10, 10, label="dog")], source="ground_truth")
    panel = as_user(path, "carol").review_panel("rev")
    assert panel.current["file_name"] == "im0.png"
    shown = [*panel.shapes, *(s for p in panel.passes for s in p["shapes"])]
    assert len(shown) == 2  # alice's box and bob's
    assert all(s["geometry"]["x"] == 10 for s in shown)


def test_claim_on_both_backends(backend_url: str, tmp_path: Path) -> None:
    """tasks.claim follows next_task's rules on SQLite and PostgreSQL alike."""
    owner = lb.Project.create(backend_url, labels=["cat"], user="olga", overwrite=True)
    for i in range(2):
        Image.fromarray(np.full((50, 60, 3), 60 * i, np.uint8)).save(tmp_path / f"c{i}.png")
    owner.add_images(sorted(tmp_path.glob("c*.png")), progress=False)
    for user, role in TEAM.items():
        owner.members.add(user, role)
    as_user(backend_url, "mona").jobs.create("c", claim_minutes=0.01).launch()  # claims lapse after 0.6 s
    # the test's own clock: a claim lapses when the test says, not when a loaded machine gets round to it
    clock = [datetime.now(timezone.utc)]
    with using_clock(lambda: clock[0]):
        _claim_in_turn(backend_url, clock)


def _claim_in_turn(backend_url: str, clock: list[datetime]) -> None:
    alice = as_user(backend_url, "alice")
    while (t := alice.next_task()) is not None:
        t.submit([lb.Box(1, 1, 5, 5, label="cat")])
    carol, dave = as_user(backend_url, "carol"), as_user(backend_url, "dave")
    reviews = [r["review_task"] for r in carol.review_panel("c").queue]  # the panel claims the first
    assert len(reviews) == 2
    first, second = reviews
    assert carol.task(first).assignee == "carol"
    with pytest.raises(TaskStateError, match="claimed by 'carol'"):
        claim(dave, first)
    assert claim(carol, second).assignee == "carol"  # a swap: the first goes back
    assert (carol.task(first).state, carol.task(first).assignee) == ("none", None)
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        claim(alice, first)
    clock[0] += timedelta(seconds=0.8)
    taken = claim(dave, second)  # carol's claim lapsed
    assert (taken.assignee, taken.state) == ("dave", "review")


def test_release_gives_the_open_review_back(path: Path) -> None:
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    item = panel.current
    panel.release()
    assert panel.current == {}
    assert (task_row(carol, item["review_task"]).state, task_row(carol, item["review_task"]).assignee) == ("none", None)
    assert task_row(carol, item["draw_task"]).state == "annotated"
    assert item["review_task"] in {r["review_task"] for r in panel.queue}
    assert "Gave back" in panel.status


def _one_image_job(path: Path, name: str) -> str:
    """A launched job of one image whose single pass alice has drawn; its file name."""
    mona = as_user(path, "mona")
    first = next(iter(mona.assets))
    mona.jobs.create(name, assets=[first.id]).launch()
    draw_all(as_user(path, "alice"), {first.file_name: [lb.Box(1, 1, 5, 5, label="cat")]})
    return first.file_name


def _hand_in_fix(path: Path) -> None:
    """Alice, in a Project object of her own, fixes and hands in the pass sent back to her."""
    fix = as_user(path, "alice").next_task()
    assert fix is not None
    assert fix.state == "to_fix"
    fix.submit([lb.Box(1, 1, 8, 8, label="cat")])


def test_refresh_opens_a_pass_handed_in_after_the_queue_ran_out(path: Path) -> None:
    name = _one_image_job(path, "one")
    panel = as_user(path, "dave").review_panel("one")
    send = Driver(panel)
    assert send("reject", review_task=send.current, comment="too small")["ok"]
    assert (panel.current, panel.queue) == ({}, [])
    assert panel.status.endswith("the queue is done")
    _hand_in_fix(path)
    assert panel.current == {}  # nothing happens in the kernel by itself
    assert send("refresh")["ok"]
    assert [r["file_name"] for r in panel.queue] == [name]
    assert panel.current["file_name"] == name, "the resubmitted pass is listed but not opened"
    assert panel.image_info["file_name"] == name
    assert "1 item in the queue; reviewing" in panel.status
    assert send("accept", review_task=send.current)["ok"]  # A works on it
    tasks = as_user(path, "mona").jobs["one"].tasks
    assert tasks[tasks.kind == "draw"].state.tolist() == ["completed"]


def test_polling_sends_nothing_until_the_queue_changes_then_opens_the_new_pass(path: Path) -> None:
    name = _one_image_job(path, "one")
    panel = as_user(path, "dave").review_panel("one", poll_seconds=2)
    assert panel.poll_seconds == 2
    send = Driver(panel)
    assert send("reject", review_task=send.current, comment="too small")["ok"]
    poll = {"type": "poll"}
    quiet, replies = len(send.changes), len(send.sent)
    for _ in range(3):
        panel._on_message(panel, poll, [])
    assert send.changes[quiet:] == [], "an unchanged queue sent trait updates"
    assert len(send.sent) == replies, "a poll has no reply"
    _hand_in_fix(path)
    panel._on_message(panel, poll, [])
    assert panel.current["file_name"] == name  # listed and opened, with no key pressed
    assert panel.status.startswith("New in the queue. Reviewing")
    assert {"queue", "current", "image"} <= set(send.changes[quiet:])
    assert len(send.sent) == replies
    # given back on purpose, the item is not taken again by the next poll, even when the queue changes
    panel.release()
    carol = as_user(path, "carol")
    claim(carol, int(carol.jobs["one"].tasks.query("kind == 'review' and state == 'none'").task.iloc[0])).release()
    panel._on_message(panel, poll, [])
    assert panel.current == {}
    assert [r["file_name"] for r in panel.queue] == [name]


def test_errors_read_as_messages(path: Path) -> None:
    panel = as_user(path, "carol").review_panel("rev")
    send = Driver(panel)
    reply = send("open", review_task="x")
    assert reply["error"] == "open needs a review task id, got 'x'"
    assert panel.error == reply["error"]
    assert error_text(KeyError("shapes")) == "Unexpected error (KeyError): 'shapes'"
    with pytest.raises(lb.LabnbError, match="poll_seconds"):
        as_user(path, "carol").review_panel("rev", poll_seconds=-1)


# -- the image: as the Annotator shows it (labnb/widgets/imagefeed.py) ------------------------------------
def _job_of(tmp_path: Path, files: list[Path], passes: int = 1) -> Path:
    """A project of ``files`` with a launched job ("scan") whose passes alice and bob have drawn (one box on
    each image, at 100 px for alice and 300 px for bob)."""
    location = tmp_path / "scan.labnb"
    owner = lb.Project.create(location, labels=["cat"], user="olga")
    owner.add_images(files, progress=False)
    for user, role in TEAM.items():
        owner.members.add(user, role)
    as_user(location, "mona").jobs.create("scan", passes_per_file=passes, review_frequency=1).launch()
    for user, x in (("alice", 100), ("bob", 300))[:passes]:
        draw_all(as_user(location, user), {f.name: [lb.Box(x, 100, 50, 50, label="cat")] for f in files})
    return location


def test_a_huge_image_opens_without_being_decoded_and_its_tiles_are_answered(
    tmp_path: Path,
    huge_jpeg: Path,  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 20000x15000 scan blocked the kernel for seconds while the panel decoded it (and was never shown above
    8192 px): the panel sends its stored preview, decodes nothing, and answers the tiles the browser asks for."""
    location = _job_of(tmp_path, [huge_jpeg])
    pyramid.LEVELS.clear()
    decodes = pyramid.LEVELS.decodes
    loaded: list[tuple[int, int]] = []
    real_load = PIL.ImageFile.ImageFile.load

    def counting_load(im: PIL.ImageFile.ImageFile) -> Any:
        loaded.append(im.size)
        return real_load(im)

    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", counting_load)
    panel = as_user(location, "carol").review_panel("scan")
    assert panel.current["file_name"] == "huge.jpg"
    assert loaded == [], f"the panel decoded the image to show it: {loaded}"
    assert pyramid.LEVELS.decodes == decodes
    monkeypatch.setattr(PIL.ImageFile.ImageFile, "load", real_load)
    assert panel.image == b""  # never the whole bitmap: the preview, then tiles
    assert Image.open(io.BytesIO(panel.preview)).size == (1024, 768)
    info = panel.image_info
    assert info["tiles"] == {"size": 512, "levels": 5}
    assert (info["width"], info["height"], info["bitmap_width"], info["bitmap_height"]) == (*HUGE, *HUGE)
    assert info["preview_width"] == 1024

    send = Driver(panel)
    asset = info["asset_id"]
    panel._on_message(panel, {"type": "want_full", "asset_id": asset}, [])  # tiled: no full image, ever
    x, y, _, _ = CHECKER
    tx, ty = x // 512, y // 512
    request = {"type": "tiles", "id": 1, "view": "v", "asset_id": asset, "tiles": [[3, tx >> 3, ty >> 3], [0, tx, ty]]}
    panel._on_message(panel, request, [])
    wait_for(lambda: len(send.tiles) == 2)
    (coarse_head, _), (fine_head, fine) = send.tiles
    assert (coarse_head["level"], fine_head["level"], fine_head["tx"], fine_head["ty"]) == (3, 0, tx, ty)
    pixels = np.asarray(Image.open(io.BytesIO(fine)).convert("L")).astype(int)
    assert (np.abs(pixels - checkerboard(512, 512)) < 60).mean() > 0.99  # the file's own pixels
    assert panel.image == b""
    assert panel.error == ""


def test_a_photo_shows_its_preview_then_the_full_image_and_every_pass_is_a_new_showing(tmp_path: Path) -> None:
    Image.new("RGB", (3000, 2000), (200, 30, 30)).save(tmp_path / "photo.jpg", quality=90)
    location = _job_of(tmp_path, [tmp_path / "photo.jpg"], passes=2)
    panel = as_user(location, "carol").review_panel("scan")
    send = Driver(panel)
    assert Image.open(io.BytesIO(panel.preview)).size == (1024, 683)
    assert panel.image == b""  # the 3000x2000 file waits until the browser has painted the preview
    first = panel.image_info["shown"]
    panel._on_message(panel, {"type": "want_full", "asset_id": panel.image_info["asset_id"]}, [])
    wait_for(lambda: len(panel.image) > 0)
    assert panel.image == (tmp_path / "photo.jpg").read_bytes()
    assert panel.image_info["mime"] == "image/jpeg"
    assert panel.image_info["shown"] == first  # the same showing: the editor swaps the bitmap and keeps the rest
    other = next(r for r in panel.queue if r["review_task"] != send.current)
    assert send("open", review_task=other["review_task"])["ok"]
    # the other pass of the same image: a new showing (the editor resets its shapes and undo history)
    assert panel.image_info["shown"] != first
    assert panel.image_info["asset_id"] == other["asset_id"]
    assert panel.image == b""
    assert len(panel.preview) > 0
    assert [s["geometry"]["x"] for s in panel.shapes] == [300.0 if other["drawer"] == "bob" else 100.0]


# -- shapes written through the panel's Project (labnb/annotations/writer.py notices) -----------------------
def test_shapes_written_through_the_same_project_show_in_the_open_item(path: Path) -> None:
    carol = as_user(path, "carol")
    panel = carol.review_panel("rev")
    send = Driver(panel)
    item = panel.current
    assert (item["file_name"], item["drawer"]) == ("im0.png", "alice")
    bob_pass = next(p["draw_task"] for p in panel.passes if p["drawer"] == "bob")
    # p.annotate on the pass under review (the reviewer holding its review may)
    carol.annotate("im0.png", [lb.Box(120, 40, 30, 30, label="dog")], task_id=item["draw_task"])
    assert sorted(s["label"] for s in panel.shapes) == ["cat", "dog"], "the panel still shows the pass as opened"
    # an edit through another widget of the same Project: the Annotator on the pass under review
    annotator = panel.task.annotator()
    dog = next(s for s in annotator.shapes if s["label"] == "dog")
    moved = {**dog, "geometry": {**dog["geometry"], "x": 150}}
    edits = [{"op": "update", "id": dog["id"], "cid": dog["cid"], "shape": moved, "duration_ms": 300}]
    annotator._on_message(annotator, {"type": "edits", "batch": 1, "asset_id": item["asset_id"], "edits": edits}, [])
    assert {s["label"]: s["geometry"]["x"] for s in panel.shapes} == {"cat": 10.0, "dog": 150.0}
    assert {"shapes"} <= set().union(*send.updates)  # sent to the browser, not only changed in Python
    # a fix decided in Python, of the other pass of the image shown (claiming it gives the panel's review back)
    claim(carol, _review_of(carol, bob_pass)).review("fix", shapes=[lb.Box(5, 5, 10, 10, label="dog")])
    (bob,) = [p for p in panel.passes if p["draw_task"] == bob_pass]
    assert [(s["label"], s["geometry"]["x"]) for s in bob["shapes"]] == [("dog", 5.0)]
    assert bob["state"] == "completed"
    # writes about another image leave the open item alone
    before = len(send.updates)
    carol.annotate("im1.png", [lb.Box(1, 1, 5, 5, label="cat")], source="ground_truth")
    assert len(send.updates) == before


def test_the_panels_own_edits_are_not_reloaded(path: Path) -> None:
    panel = as_user(path, "carol").review_panel("rev")
    send = Driver(panel)
    assert send("fix", review_task=send.current)["ok"]
    (dto,) = panel.shapes
    before = len(send.updates)
    ack = send.edits([{"op": "update", "id": dto["id"], "cid": dto["cid"], "shape": _box(dto["cid"], 33, dto["id"]),
                       "duration_ms": 700}])  # fmt: skip
    assert ack["upsert"][0]["geometry"]["x"] == 33  # the ack carries the change
    sent = set().union(*send.updates[before:])
    assert not sent & {"shapes", "passes"}, f"the panel's own edit was sent again in full: {sent}"
    assert [s["geometry"]["x"] for s in panel.shapes] == [33]


def _review_of(p: lb.Project, draw_task: int) -> int:
    t = p.jobs["rev"].tasks
    return int(t[(t.kind == "review") & (t.draw_task == draw_task)].task.iloc[0])
