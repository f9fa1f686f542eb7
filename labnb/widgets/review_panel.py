"""The Review panel widget: a reviewer works through a job's review queue in a notebook cell.

``p.review_panel(job)`` lists the job's draw passes awaiting review that the current user may review (never
their own drawing) and the review they hold. Opening an item claims its review task
(:func:`labnb.workflow.tasks.claim`); the image is shown with every drawn pass of it in per-drawer colours,
the pass under review editable when the reviewer fixes it in place. Decisions go to
:meth:`labnb.workflow.tasks.Task.review`: accept, reject (with a comment) or fix (the edits, made through
:func:`labnb.workflow.editing.apply_edits` on the pass, then accepted). Every rule (roles, credentials,
claims, who may edit what) is the workflow backend's; this module reads the queue and passes messages on.

The front end is ``js/src/review.ts`` (bundled into ``labnb/static/review.js``); it reuses the Annotator's
editor for the pass under review, whose wire format (``js/src/types.ts``: ``shapes``, edits and acks) the
matching traits and messages here follow. Messages from the browser (``{"type": ..., "seq": n}``): ``open``
(``review_task``), ``filter`` (``agreement_below``, ``drawer``, ``label``), ``accept``, ``reject``
(``comment``), ``fix`` (the first starts fixing, the second records the fix), ``refresh``, and the editor's
``edits``. Decisions name the ``review_task`` they are about and may carry ``duration_ms`` (active time on
the item). Python updates the traits, then answers ``{"type": "reply", "seq": n, "ok": bool, "error": str}``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anywidget
import sqlalchemy as sa
import traitlets

from labnb.errors import LabnbError
from labnb.imaging import display_image
from labnb.store.tables import annotation_rows, assets, tasks
from labnb.widgets.annotator import DEFAULT_KEYMAP
from labnb.widgets.serializers import safe_text, schema_payload, shape_to_dto
from labnb.workflow.editing import apply_edits
from labnb.workflow.guides import render_guide
from labnb.workflow.tasks import DRAWN, Decision, TaskStateError, claim, eligible_jobs, load, task_shapes

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job
    from labnb.workflow.tasks import Task

STATIC = Path(__file__).resolve().parent.parent / "static"

#: The panel's keys; ``p.review_panel(job, keymap={...})`` overrides any of them. ArrowRight and ArrowLeft
#: also move through the queue unless remapped to something else.
REVIEW_KEYMAP: dict[str, str] = {
    "accept": "a",
    "reject": "r",
    "fix": "f",
    "next_item": "ArrowDown",
    "prev_item": "ArrowUp",
    "side_by_side": "s",
    "guide": "g",
}

#: The Annotator's keys while fixing: its own defaults, without image navigation (the arrows move through the
#: queue) and without model assist (the panel has no model).
EDITOR_KEYMAP: dict[str, str] = {
    k: v
    for k, v in DEFAULT_KEYMAP.items()
    if k not in ("next_image", "prev_image", "accept_suggestions", "accept_all_suggestions", "toggle_assist")
}

#: Per-drawer colours (distinct hues that read on dark, light and grey images); cycled beyond ten drawers.
DRAWER_COLORS = (
    "#e6194b",
    "#4363d8",
    "#3cb44b",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#9a6324",
    "#469990",
)

NO_FILTERS: dict[str, Any] = {"agreement_below": None, "drawer": None, "label": None}


class ReviewPanel(anywidget.AnyWidget):
    """Review a job's draw passes: accept, reject with a comment, or fix in place, with the keyboard.

    Build it with ``p.review_panel(job)`` (reviewers and above). Keys (``keymap`` remaps them): Up/Down (or
    Left/Right) open the previous/next item of the queue, A accepts, R rejects (type the comment, Enter sends
    it), F fixes (the pass under review becomes editable with the Annotator's tools; F again, or A, accepts
    it as fixed), S shows the passes side by side or overlaid, G the review guide. After each decision the
    panel opens the next item. Only the job's passes are ever shown, never ground truth.

    Opening an item claims its review task (:func:`labnb.workflow.tasks.claim`, which gives back the review
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

    current = traitlets.Dict().tag(sync=True)
    """The open item (a queue row, with ``color``, ``state`` and the drawer's earlier rejection ``comment``),
    or ``{}`` when nothing is open."""

    image = traitlets.Bytes(b"").tag(sync=True)
    """The open item's image, encoded (as the Annotator's ``image``)."""

    image_info = traitlets.Dict().tag(sync=True)
    """As the Annotator's: asset id, file name, sizes, mime; ``index``/``count`` in the queue."""

    shapes: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """The shapes of the pass under review (``js/src/types.ts`` ShapeDTO): what the editor shows and fixes."""

    passes: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """Every drawn pass of the image in this job: ``draw_task``, ``drawer``, ``pass``, ``state``, ``color``,
    ``reviewed`` and ``shapes`` (empty for the reviewed pass, whose shapes are ``shapes``)."""

    schema = traitlets.Dict().tag(sync=True)
    """The project's classes, tools, tags and attributes (names sanitised), for the editor."""

    keymap = traitlets.Dict().tag(sync=True)
    """Review action -> key (:data:`REVIEW_KEYMAP` merged with the user's remapping)."""

    editor_keymap = traitlets.Dict().tag(sync=True)
    """The editor's keys while fixing (:data:`EDITOR_KEYMAP`)."""

    guide_html = traitlets.Unicode("").tag(sync=True)
    """The job's review guide, markdown rendered and sanitised in Python."""

    fixing = traitlets.Bool(False).tag(sync=True)
    """True while the reviewer fixes the pass in place (its shapes editable); set by the ``fix`` message."""

    side_by_side = traitlets.Bool(False).tag(sync=True)
    """Passes in separate panes (True) or overlaid (False); the browser toggles it."""

    status = traitlets.Unicode("").tag(sync=True)
    """What just happened, in words ("Accepted im0.png (alice, pass 1)")."""

    error = traitlets.Unicode("").tag(sync=True)
    """The last error from Python, shown in the widget (ipywidgets would swallow it otherwise)."""

    def __init__(
        self,
        project: Project,
        job: Job | int | str,
        *,
        keymap: Mapping[str, str] | None = None,
        side_by_side: bool = False,
    ) -> None:
        the_job = project.jobs[job]
        project.members.require("reviewer", f"review job '{the_job.name}'")
        unknown = set(keymap or {}) - set(REVIEW_KEYMAP)
        if unknown:
            raise LabnbError(f"unknown keymap action(s) {sorted(unknown)}; known: {sorted(REVIEW_KEYMAP)}")
        self._project = project
        self._job = the_job
        self._filters: dict[str, Any] = dict(NO_FILTERS)
        self._colors: dict[str, str] = {}
        self._cids: dict[int, str] = {}
        self._counter = itertools.count()
        self._task: Task | None = None
        self._rows: list[dict[str, Any]] = []
        super().__init__(
            job_info={"id": the_job.id, "name": safe_text(the_job.name)},
            user=safe_text(project.user),
            schema=schema_payload(project.schema),
            keymap={**REVIEW_KEYMAP, **(keymap or {})},
            editor_keymap=dict(EDITOR_KEYMAP),
            guide_html=render_guide(the_job.review_guide, project),
            side_by_side=side_by_side,
        )
        self.on_msg(self._on_message)
        try:
            self._reload_queue()
            held = next((r for r in self._rows if r["held"]), None)
            if held is not None:
                self._open(held["review_task"])
            else:
                self._open_next(None)
        except LabnbError as exc:
            self.error = str(exc)

    # -- Python-side API -------------------------------------------------------------------------
    @property
    def task(self) -> Task | None:
        """The review task open now (claimed by this user), or None."""
        return self._task

    def refresh(self) -> None:
        """Read the queue again (other reviewers claim and decide meanwhile)."""
        self._reload_queue()

    def release(self) -> None:
        """Give the open review back unfinished, for someone else to claim, and close the item."""
        task = self._task
        if task is None:
            return
        task.release()
        self._reload_queue()
        self._clear()
        self.status = f"Gave back review task {task.id}"

    # -- messages --------------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "edits":
            self._handle_edits(content)
            return
        seq = content.get("seq") if isinstance(content, dict) else None
        error = ""
        try:
            self._handle(content)
            self.error = ""
        except Exception as exc:  # shown in the widget: ipywidgets swallows callback errors
            error = f"{type(exc).__name__}: {exc}"
            self.error = error
        self.send({"type": "reply", "seq": seq, "ok": error == "", "error": error})

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
            self._reload_queue()
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
        duration = float(ms) / 1000.0 if isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0 else None
        task = self._renewed(task)
        row = self.current
        task.review(decision, comment, duration=duration)
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
        if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=timezone.utc)) < _now():
            task = claim(self._project, task.id)
            self._task = task
        return task

    # -- the queue -------------------------------------------------------------------------------
    def _reload_queue(self) -> None:
        rows = review_queue(self._project, self._job)
        for name in sorted({r["drawer"] for r in rows} | set(_job_drawers(self._project, self._job.id))):
            self._colors.setdefault(name, DRAWER_COLORS[len(self._colors) % len(DRAWER_COLORS)])
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

    def _open_next(self, after: int | None) -> None:
        """Open the first item after review task ``after`` in the job's order (or the first one) that can
        still be claimed; nothing when the queue is empty."""
        rows = self._rows
        order = [r["review_task"] for r in rows]
        start = 0
        if after is not None:
            seqs = _seqs(self._project, [after, *order])
            mine = seqs.get(after, 0)
            start = next((i for i, t in enumerate(order) if seqs.get(t, 0) > mine), 0)
        for row in rows[start:] + rows[:start]:
            try:
                self._open(row["review_task"])
                return
            except TaskStateError:
                continue  # taken by another reviewer meanwhile: try the next
        self._clear()

    def _open(self, review_task: int) -> None:
        task = load(self._project, review_task)
        if task.job_id != self._job.id or task.kind != "review":
            raise LabnbError(f"task {review_task} is not a review task of job '{self._job.name}'")
        task = claim(self._project, review_task)
        self._reload_queue()
        self._show(task)

    def _show(self, task: Task) -> None:
        asset = self._project.asset(task.asset_id)
        shown = display_image(asset.read_bytes(), f"asset {asset.id} ({asset.file_name})")
        self._task = task
        ids = [r["review_task"] for r in self._rows]
        row = next((r for r in self._rows if r["review_task"] == task.id), None) or _row_of(self._project, task)
        draw = load(self._project, int(task.draw_task_id or 0))
        drawer = str(draw.assignee)
        color = self._colors.setdefault(drawer, DRAWER_COLORS[len(self._colors) % len(DRAWER_COLORS)])
        self._cids = {}
        with self.hold_sync():
            self.fixing = False
            self.current = {**row, "color": color, "state": task.state, "comment": draw.comment}
            self.image = b""  # the same image for another pass: send the bytes again, the editor reloads
            self.image_info = {
                "asset_id": asset.id, "file_name": asset.file_name, "width": asset.width, "height": asset.height,
                "bitmap_width": shown.width, "bitmap_height": shown.height, "mime": shown.mime,
                "index": ids.index(task.id) if task.id in ids else 0, "count": len(ids),
            }  # fmt: skip
            self.image = shown.data
            self.shapes = self._pass_dtos(draw.id)
            self.passes = self._passes(task)
            self.drawers = [{"name": n, "color": c} for n, c in self._colors.items()]
            self.error = ""
            self.status = f"Reviewing {asset.file_name}: {drawer}, pass {task.pass_index + 1}"

    def _clear(self) -> None:
        self._task = None
        with self.hold_sync():
            self.fixing = False
            self.current = {}
            self.shapes = []
            self.passes = []
            self.image_info = {}
            self.image = b""
            self.status = "Nothing to review" if not self.queue_total else "No item matches the filters"

    def _passes(self, task: Task) -> list[dict[str, Any]]:
        t = tasks
        with self._project._engine.connect() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.assignee, t.c.pass_index, t.c.state)
                .where(t.c.job_id == task.job_id, t.c.asset_id == task.asset_id, t.c.kind == "draw")
                .where(t.c.state.in_(DRAWN))
                .order_by(t.c.pass_index)
            ).all()
        out = []
        for r in rows:
            drawer = str(r.assignee)
            reviewed = r.id == task.draw_task_id
            color = self._colors.setdefault(drawer, DRAWER_COLORS[len(self._colors) % len(DRAWER_COLORS)])
            shapes = [] if reviewed else [shape_to_dto(s, f"p{r.id}-{s.id}") for s in task_shapes(self._project, r.id)]
            out.append({
                "draw_task": r.id, "drawer": safe_text(drawer), "pass": r.pass_index, "state": r.state,
                "color": color, "reviewed": reviewed, "shapes": shapes,
            })  # fmt: skip
        return out

    def _pass_dtos(self, draw_task: int) -> list[dict[str, Any]]:
        return [shape_to_dto(s, self._cid(s.id)) for s in task_shapes(self._project, draw_task)]

    def _cid(self, annotation_id: int | None) -> str:
        if annotation_id is None:
            return f"py{next(self._counter)}"
        return self._cids.setdefault(annotation_id, f"s{annotation_id}")

    # -- fixing: the editor's edits ----------------------------------------------------------------
    def _handle_edits(self, content: Mapping[str, Any]) -> None:
        """Apply the editor's edits to the pass under review (as the Annotator does for a task's pass) and
        acknowledge them with the stored form of what they touched."""
        try:
            task = self._task
            if task is None or not self.fixing:
                raise LabnbError("the pass can be edited only while fixing it (F)")
            asset_id = content.get("asset_id")
            if asset_id != task.asset_id:
                raise LabnbError(f"edits for image {asset_id!r}, which is not the image under review")
            draw_id = int(task.draw_task_id or 0)
            edits = list(content.get("edits") or [])
            results = apply_edits(self._project, task.asset_id, edits, source="human", task_id=draw_id)
            for r in results:
                if r["ok"]:
                    self._cids[r["id"]] = r["cid"]
            stored = self._pass_dtos(draw_id)
            cids = {str(r["cid"]) for r in results}
            upsert = [d for d in stored if d["cid"] in cids]
            ack = {
                "type": "ack",
                "batch": content.get("batch"),
                "asset_id": task.asset_id,
                "results": results,
                "upsert": upsert,
                "removed": sorted(cids - {d["cid"] for d in upsert}),
            }
            with self._lock_property(shapes=stored):  # the ack carries the change; the trait is not resent
                self.shapes = stored
            self.send(ack)
            failed = [r["message"] for r in results if not r["ok"]]
            saved = len(results) - len(failed)
            with self.hold_sync():
                self.status = f"{saved} edit{'s' if saved != 1 else ''} saved" + (
                    f", {len(failed)} refused" if failed else ""
                )
                self.error = "; ".join(failed)
        except Exception as exc:  # shown in the widget: ipywidgets swallows callback errors
            self.error = f"{type(exc).__name__}: {exc}"
            results = [
                {"cid": str(e.get("cid", "")), "ok": False, "message": str(exc)}
                for e in (content.get("edits") or [])
                if isinstance(e, dict)
            ]
            self.send({"type": "ack", "batch": content.get("batch"), "results": results})


# -- the queue, read from the store ------------------------------------------------------------------------
def review_queue(project: Project, job: Job) -> list[dict[str, Any]]:
    """The review items of ``job`` the current user may open, in the job's order: review tasks that are free
    (or whose claim lapsed) of passes drawn by someone else, and the one the user holds. Empty when the job
    is not launched or the user lacks its credentials (claiming would be refused)."""
    user = project.user
    stamp = _now()
    t, d = tasks, tasks.alias("drawn")
    with project._engine.connect() as conn:
        if not eligible_jobs(conn, project, job.id):
            return []
        live = sa.or_(t.c.expires_at.is_(None), t.c.expires_at > stamp)
        rows = conn.execute(
            sa.select(
                t.c.id,
                t.c.draw_task_id,
                t.c.asset_id,
                assets.c.file_name,
                d.c.assignee.label("drawer"),
                t.c.pass_index,
                t.c.assignee,
                t.c.state,
                t.c.expires_at,
            )
            .join(d, d.c.id == t.c.draw_task_id)
            .join(assets, assets.c.id == t.c.asset_id)
            .where(t.c.job_id == job.id, t.c.kind == "review", d.c.assignee != user)
            .where(
                sa.or_(
                    t.c.state == "none",
                    sa.and_(t.c.state == "review", sa.or_(t.c.expires_at < stamp, sa.and_(t.c.assignee == user, live))),
                )
            )
            .order_by(t.c.seq)
        ).all()
        labels = _pass_labels(project, conn, [int(r.draw_task_id) for r in rows])
    agreement = _agreement(job)
    out = []
    for r in rows:
        held = r.state == "review" and r.assignee == user and (r.expires_at is None or _aware(r.expires_at) > stamp)
        out.append({
            "review_task": r.id, "draw_task": r.draw_task_id, "asset_id": r.asset_id,
            "file_name": r.file_name, "drawer": safe_text(str(r.drawer)), "pass": r.pass_index,
            "agreement": agreement.get(r.asset_id), "labels": labels.get(int(r.draw_task_id), []), "held": held,
        })  # fmt: skip
    return out


def filter_queue(rows: list[dict[str, Any]], filters: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The rows that pass every filter set (see :attr:`ReviewPanel.filters`)."""
    below, drawer, label = filters.get("agreement_below"), filters.get("drawer"), filters.get("label")
    out = []
    for r in rows:
        if below is not None and (r["agreement"] is None or not r["agreement"] < below):
            continue
        if drawer is not None and r["drawer"] != drawer:
            continue
        if label is not None and label not in r["labels"]:
            continue
        out.append(r)
    return out


def _pass_labels(project: Project, conn: sa.Connection, draw_tasks: list[int]) -> dict[int, list[str]]:
    if not draw_tasks:
        return {}
    a = annotation_rows
    found = conn.execute(
        sa.select(a.c.task_id, a.c.label_id)
        .where(a.c.task_id.in_(draw_tasks), a.c.deleted.is_(False), a.c.label_id.is_not(None))
        .distinct()
    ).all()
    classes = project._classes_by_id()
    out: dict[int, set[str]] = {}
    for task_id, label_id in found:
        cls = classes.get(label_id)
        if cls is not None:
            out.setdefault(int(task_id), set()).add(safe_text(cls.name))
    return {k: sorted(v) for k, v in out.items()}


def _agreement(job: Job) -> dict[int, float | None]:
    frame = job.agreement
    return {
        int(a): (None if v is None or math.isnan(float(v)) else float(v))
        for a, v in zip(frame.asset, frame.agreement, strict=True)
    }


def _job_drawers(project: Project, job_id: int) -> list[str]:
    t = tasks
    with project._engine.connect() as conn:
        found = conn.execute(
            sa.select(t.c.assignee)
            .where(t.c.job_id == job_id, t.c.kind == "draw", t.c.state.in_(DRAWN), t.c.assignee.is_not(None))
            .distinct()
        ).scalars()
        return [safe_text(str(u)) for u in found]


def _seqs(project: Project, task_ids: list[int]) -> dict[int, int]:
    with project._engine.connect() as conn:
        return {
            int(i): int(s) for i, s in conn.execute(sa.select(tasks.c.id, tasks.c.seq).where(tasks.c.id.in_(task_ids)))
        }


def _row_of(project: Project, task: Task) -> dict[str, Any]:
    """A queue row for a held task the filters hide."""
    draw = load(project, int(task.draw_task_id or 0))
    with project._engine.connect() as conn:
        labels = _pass_labels(project, conn, [draw.id]).get(draw.id, [])
    return {
        "review_task": task.id, "draw_task": draw.id, "asset_id": task.asset_id,
        "file_name": project.asset(task.asset_id).file_name, "drawer": safe_text(str(draw.assignee)),
        "pass": task.pass_index, "agreement": _agreement(task.job).get(task.asset_id), "labels": labels, "held": True,
    }  # fmt: skip


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
