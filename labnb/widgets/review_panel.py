"""The Review panel widget: a reviewer works through a job's review queue in a notebook cell.

``p.review_panel(job)`` lists the job's draw passes awaiting review that the current user may review (never
their own drawing) and the review they hold. Opening an item claims its review task
(:func:`labnb.workflow.claims.claim`); the image is shown with every drawn pass of it in per-drawer colours,
the pass under review editable when the reviewer fixes it in place. Decisions go to
:meth:`labnb.workflow.tasks.Task.review`: accept, reject (with a comment) or fix (the edits, made through
:func:`labnb.workflow.editing.apply_edits` on the pass, then accepted). Every rule (roles, credentials,
claims, who may edit what) is the workflow backend's; this module reads the queue and passes messages on.

The front end is ``js/src/review.ts`` (bundled into ``labnb/static/review.js``); it reuses the Annotator's
editor for the pass under review, whose wire format (``js/src/types.ts``: ``shapes``, edits and acks) the
matching traits and messages here follow. Messages from the browser (``{"type": ..., "seq": n}``): ``open``
(``review_task``), ``filter`` (``agreement_below``, ``drawer``, ``label``), ``accept``, ``reject``
(``comment``), ``fix`` (the first starts fixing, the second records the fix), ``refresh``, ``poll``, and the
editor's ``edits``, ``want_full`` and ``tiles`` (the image, as for the Annotator). Decisions name the
``review_task`` they are about and may carry ``duration_ms`` (active time on the item). Python updates the
traits, then answers ``{"type": "reply", "seq": n, "ok": bool, "error": str}``. ``poll`` (no ``seq``, no
reply) comes every :attr:`ReviewPanel.poll_seconds` while the panel is on screen: it costs one cheap query
(:func:`labnb.workflow.review_queue.queue_stamp`) and sends nothing back unless the queue changed, so passes
handed in meanwhile appear (and open, when nothing is open) by themselves.

The open item's side (its image through :class:`labnb.widgets.imagefeed.ImageFeed`, its passes, the fix's
edits, the Project's notices of shapes written) is :class:`labnb.widgets.review_item.ReviewItem`, which
the widget extends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import traitlets

from labnb.clock import aware, now
from labnb.errors import LabnbError
from labnb.widgets.annotator import DEFAULT_KEYMAP
from labnb.widgets.errors import answer, error_text
from labnb.widgets.review_item import ReviewItem
from labnb.widgets.serializers import ms_to_seconds, safe_text, schema_payload
from labnb.workflow.claims import claim
from labnb.workflow.guides import render_guide
from labnb.workflow.review_queue import filter_queue, held_row, job_drawers, queue_stamp, review_queue, task_seqs
from labnb.workflow.tasks import Decision, TaskStateError, load

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job
    from labnb.workflow.tasks import Task

STATIC = Path(__file__).resolve().parent.parent / "static"

#: The panel's keys; ``p.review_panel(job, keymap={...})`` overrides any of them. ArrowRight and ArrowLeft
#: also move through the queue unless remapped to something else. None of them is a key of the editor's
#: (:data:`EDITOR_KEYMAP`), whose keys keep working while fixing.
REVIEW_KEYMAP: dict[str, str] = {
    "accept": "a",
    "reject": "r",
    "fix": "f",
    "next_item": "ArrowDown",
    "prev_item": "ArrowUp",
    "side_by_side": "s",
    "guide": "g",
    "refresh": "u",
    "labels": "l",
    "queue": "q",
    "classes": "c",
    "full_width": "z",
}

#: How often an open panel asks whether the queue changed, by default (seconds).
POLL_SECONDS = 10.0

#: The Annotator's keys while fixing: its own defaults, without image navigation (the arrows move through the
#: queue) and without model assist (the panel has no model).
EDITOR_KEYMAP: dict[str, str] = {
    k: v
    for k, v in DEFAULT_KEYMAP.items()
    if k not in ("next_image", "prev_image", "accept_suggestions", "accept_all_suggestions", "toggle_assist")
}

NO_FILTERS: dict[str, Any] = {"agreement_below": None, "drawer": None, "label": None}


class ReviewPanel(ReviewItem):
    """Review a job's draw passes: accept, reject with a comment, or fix in place, with the keyboard.

    Build it with ``p.review_panel(job)`` (reviewers and above). Keys (``keymap`` remaps them): Up/Down (or
    Left/Right) open the previous/next item of the queue, A accepts, R rejects (type the comment, Enter sends
    it), F fixes (the pass under review becomes editable with the Annotator's tools; F again, or A, accepts
    it as fixed), S shows the passes side by side or overlaid, G the review guide, U reads the queue again,
    L shows or hides the class names written on every shape, Q and C fold the queue and the class list, Z
    gives the image the panel's full width (the browser remembers these choices). After each decision the
    panel opens the next item; passes handed in meanwhile join the queue by themselves (``poll_seconds``).
    Only the job's passes are ever shown, never ground truth.

    Opening an item claims its review task (:func:`labnb.workflow.claims.claim`, which gives back the review
    held before); the panel starts on the review this user holds, else on the first free item. A claim left
    open when the reviewer stops lapses after the job's ``claim_minutes`` (or :meth:`release` gives it back).
    Edits made while fixing are saved to the pass at once; a pass rejected after edits goes back with them.
    """

    _esm = STATIC / "review.js"
    _css = STATIC / "review.css"

    job_info = traitlets.Dict().tag(sync=True)
    """``{"id", "name"}`` of the job under review."""

    user = traitlets.Unicode("").tag(sync=True)
    """The reviewer (the project's current user)."""

    queue: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """The items the filters let through, in the job's order: ``review_task``, ``draw_task``, ``asset_id``,
    ``file_name`` (as stored: the browser inserts every name as text), ``drawer``, ``pass`` (0-based),
    ``agreement`` (of the image's passes; None while unknown), ``labels`` (classes in the pass), ``held`` (the
    review this user holds)."""

    queue_total = traitlets.Int(0).tag(sync=True)
    """How many items there are before the filters."""

    filters = traitlets.Dict(dict(NO_FILTERS)).tag(sync=True)
    """``agreement_below`` (only images whose agreement is known and under it), ``drawer`` (one drawer's
    passes), ``label`` (passes with that class); None: no filter. Set by the ``filter`` message."""

    drawers: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """``[{"name", "color"}]``: every drawer of the job's passes and their colour (filter and legend)."""

    schema = traitlets.Dict().tag(sync=True)
    """The project's classes, tools, tags and attributes (names sanitised), for the editor."""

    keymap = traitlets.Dict().tag(sync=True)
    """Review action -> key (:data:`REVIEW_KEYMAP` merged with the user's remapping)."""

    editor_keymap = traitlets.Dict().tag(sync=True)
    """The editor's keys while fixing (:data:`EDITOR_KEYMAP`)."""

    guide_html = traitlets.Unicode("").tag(sync=True)
    """The job's review guide, markdown rendered and sanitised in Python."""

    side_by_side = traitlets.Bool(False).tag(sync=True)
    """Passes in separate panes (True) or overlaid (False); the browser toggles it."""

    poll_seconds = traitlets.Float(POLL_SECONDS).tag(sync=True)
    """How often the browser asks whether the queue changed (0: never; Refresh still works). Only while the
    panel is on screen and the page visible; an unchanged queue costs one small query and no message back."""

    def __init__(
        self,
        project: Project,
        job: Job | int | str,
        *,
        keymap: Mapping[str, str] | None = None,
        side_by_side: bool = False,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        the_job = project.jobs[job]
        project.members.require("reviewer", f"review job '{the_job.name}'")
        unknown = set(keymap or {}) - set(REVIEW_KEYMAP)
        if unknown:
            raise LabnbError(f"unknown keymap action(s) {sorted(unknown)}; known: {sorted(REVIEW_KEYMAP)}")
        if isinstance(poll_seconds, bool) or not isinstance(poll_seconds, (int, float)) or not poll_seconds >= 0:
            raise LabnbError(f"poll_seconds must be a number of seconds >= 0 (0: never), got {poll_seconds!r}")
        self._setup_item(project)  # the open item's state: image feed, lock, colours (review_item.py)
        self._job = the_job
        self._filters: dict[str, Any] = dict(NO_FILTERS)
        self._rows: list[dict[str, Any]] = []
        self._stamp: tuple[Any, ...] = ()
        #: nothing is open because nothing could be: an item handed in later opens by itself (not after release)
        self._waiting_for_items = False
        super().__init__(
            job_info={"id": the_job.id, "name": safe_text(the_job.name)},
            user=safe_text(project.user),
            schema=schema_payload(project.schema),
            keymap={**REVIEW_KEYMAP, **(keymap or {})},
            editor_keymap=dict(EDITOR_KEYMAP),
            guide_html=render_guide(the_job.review_guide, project),
            side_by_side=side_by_side,
            poll_seconds=float(poll_seconds),
        )
        self.on_msg(self._on_message)
        with self._lock:
            try:
                self._reload_queue()
                held = next((r for r in self._rows if r["held"]), None)
                if held is not None:
                    self._open(held["review_task"])
                else:
                    self._open_next(None)
            except LabnbError as exc:
                self.error = str(exc)
        project._watchers.add(self)  # shapes of the open image written through `project` are shown at once

    # -- Python-side API -------------------------------------------------------------------------
    @property
    def task(self) -> Task | None:
        """The review task open now (claimed by this user), or None."""
        return self._task

    def refresh(self) -> None:
        """Read the queue again (other reviewers claim and decide, drawers hand passes in meanwhile) and, with
        no item open, open the first one that can be claimed (Refresh in the panel, U)."""
        with self._lock:
            self._reload_queue()
            if self._task is None and not self.fixing:
                self._open_next(None)
            n = len(self.queue)
            self.status = f"{n} item{'s' if n != 1 else ''} in the queue" + (
                f" of {self.queue_total}" if n != self.queue_total else ""
            )
            if self._task is not None:
                self.status += f"; reviewing {self.current.get('file_name', '')}"

    def release(self) -> None:
        """Give the open review back unfinished, for someone else to claim, and close the item."""
        with self._lock:
            task = self._task
            if task is None:
                return
            task.release()
            self._reload_queue()
            self._clear()
            self._waiting_for_items = False  # given back on purpose: polling must not open it again
            self.status = f"Gave back review task {task.id}"

    # -- messages --------------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        with self._lock:  # trait changes stay apart from those of the image feed's threads
            self._dispatch(content)

    def _dispatch(self, content: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "edits":
            self._handle_edits(content)
            return
        if kind in ("poll", "want_full", "tiles"):  # no reply to these
            try:
                if kind == "poll":
                    self._poll()
                elif kind == "want_full":
                    self._feed.want_full(content)
                else:
                    self._feed.request(content)
            except Exception as exc:  # shown in the widget
                self.error = error_text(exc)
            return
        answer(self, content, self._handle)

    def _poll(self) -> None:
        """The browser's periodic question: has the queue changed? Nothing is read or sent when it has not."""
        if queue_stamp(self._project, self._job.id) == self._stamp:
            return
        self._reload_queue()
        if self._task is None and not self.fixing and self._waiting_for_items and self._open_next(None):
            self.status = f"New in the queue. {self.status}"

    def _handle(self, content: Any) -> None:
        if not isinstance(content, dict):
            raise LabnbError(f"unexpected message from the review panel: {str(content)[:80]}")
        kind = content.get("type")
        if kind == "open":
            target = content.get("review_task")
            if not isinstance(target, int) or isinstance(target, bool):
                raise LabnbError(f"open needs a review task id, got {target!r}")
            if self.fixing and (self._task is None or target != self._task.id):
                raise LabnbError("finish the fix first: F or A accepts it as fixed, R sends it back")
            try:
                self._open(target)
            finally:
                self._reload_queue()  # an item someone else took meanwhile leaves the list
        elif kind == "filter":
            self._set_filters(content)
        elif kind == "refresh":
            self.refresh()
        elif kind in ("accept", "reject", "fix"):
            self._decide(kind, content)
        else:
            raise LabnbError(f"unknown message {kind!r} from the review panel")

    def _set_filters(self, content: Mapping[str, Any]) -> None:
        below = content.get("agreement_below")
        if below is not None:
            if isinstance(below, bool) or not isinstance(below, (int, float)) or math.isnan(below):
                raise LabnbError(f"agreement_below must be a number or None, got {below!r}")
            below = float(below)
        drawer = content.get("drawer") or None
        label = content.get("label") or None
        for name, value in (("drawer", drawer), ("label", label)):
            if value is not None and not isinstance(value, str):
                raise LabnbError(f"{name} must be a name or None, got {value!r}")
        self._filters = {"agreement_below": below, "drawer": drawer, "label": label}
        self._reload_queue()
        shown = len(self.queue)
        self.status = f"{shown} of {self.queue_total} item{'s' if self.queue_total != 1 else ''} shown"

    def _decide(self, kind: str, content: Mapping[str, Any]) -> None:
        task = self._task
        if task is None:
            raise LabnbError("no item is open: pick one in the queue")
        named = content.get("review_task")
        if named is not None and named != task.id:
            raise LabnbError(f"review task {named} is not the open item ({task.id}); nothing was decided")
        if kind == "fix" and not self.fixing:
            self._start_fix(task)
            return
        decision: Decision = "fix" if self.fixing and kind == "accept" else cast("Decision", kind)
        comment = content.get("comment") if kind == "reject" else None
        if comment is not None and not isinstance(comment, str):
            raise LabnbError(f"the comment must be text, got {type(comment).__name__}")
        ms = content.get("duration_ms")
        duration = ms_to_seconds(ms)
        task = self._renewed(task)
        row = self.current
        task.review(decision, comment, duration=duration)  # writes no shapes: the fix's edits are saved already
        what = {"accept": "Accepted", "reject": "Sent back", "fix": "Fixed and accepted"}[decision]
        done = f"{what} {row.get('file_name', '')} ({row.get('drawer', '')}, pass {int(row.get('pass', 0)) + 1})"
        self._task = None
        self.fixing = False
        self._reload_queue()
        self._open_next(task.id)
        self.status = done + ("" if self._task is not None else "; the queue is done")

    def _start_fix(self, task: Task) -> None:
        self._project.members.require("reviewer", "fix a pass under review")
        task = self._renewed(task)
        if task.state != "review" or task.assignee != self._project.user:
            raise LabnbError(f"review task {task.id} is no longer yours to fix")
        self.fixing = True
        self.status = "Fixing: edit the pass, then F (or A) accepts it as fixed"

    def _renewed(self, task: Task) -> Task:
        """The task, claimed again if the claim lapsed meanwhile (and nobody took it)."""
        task.refresh()
        expires = task.expires_at
        if expires is not None and aware(expires) < now():
            task = claim(self._project, task.id)
            self._task = task
        return task

    # -- the queue -------------------------------------------------------------------------------
    def _reload_queue(self) -> None:
        self._stamp = queue_stamp(self._project, self._job.id)  # first: a change while reading shows next time
        rows = review_queue(self._project, self._job)
        for name in sorted({r["drawer"] for r in rows} | set(job_drawers(self._project, self._job.id))):
            self._color(name)
        shown = filter_queue(rows, self._filters)
        self._rows = shown
        with self.hold_sync():
            self.queue = shown
            self.queue_total = len(rows)
            self.filters = dict(self._filters)
            self.drawers = [{"name": n, "color": c} for n, c in self._colors.items()]
            if self._task is not None and self.image_info:
                ids = [r["review_task"] for r in shown]
                index = ids.index(self._task.id) if self._task.id in ids else -1
                self.image_info = {**self.image_info, "index": max(index, 0), "count": len(shown)}

    def _open_next(self, after: int | None) -> bool:
        """Open the first item after review task ``after`` in the job's order (or the first one) that can
        still be claimed; nothing when the queue is empty. Whether one was opened."""
        rows = self._rows
        order = [r["review_task"] for r in rows]
        start = 0
        if after is not None:
            seqs = task_seqs(self._project, [after, *order])
            mine = seqs.get(after, 0)
            start = next((i for i, t in enumerate(order) if seqs.get(t, 0) > mine), 0)
        for row in rows[start:] + rows[:start]:
            try:
                self._open(row["review_task"])
                self._waiting_for_items = False
                return True
            except TaskStateError:
                continue  # taken by another reviewer meanwhile: try the next
        self._clear()
        self._waiting_for_items = True
        return False

    def _open(self, review_task: int) -> None:
        task = load(self._project, review_task)
        if task.job_id != self._job.id or task.kind != "review":
            raise LabnbError(f"task {review_task} is not a review task of job '{self._job.name}'")
        task = claim(self._project, review_task)
        self._reload_queue()
        ids = [r["review_task"] for r in self._rows]
        row = next((r for r in self._rows if r["review_task"] == task.id), None) or held_row(self._project, task)
        with self.hold_sync():
            self._show(task, row, ids.index(task.id) if task.id in ids else 0, len(ids))
            self.drawers = [{"name": n, "color": c} for n, c in self._colors.items()]

    def _clear(self) -> None:
        with self.hold_sync():
            self._hide_item()
            self.status = (
                "Nothing to review"
                if not self.queue_total
                else "No item matches the filters"
                if not self.queue
                else "No item is open: pick one in the queue"
            )
