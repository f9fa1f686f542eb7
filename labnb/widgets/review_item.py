"""The open item of the Review panel: its image, the pass under review and the other passes, and the fix.

Split from :mod:`labnb.widgets.review_panel` (the queue, the messages, the decisions), which subclasses
:class:`ReviewItem`. What the item shows:

- the image, as the Annotator shows it (:class:`labnb.widgets.imagefeed.ImageFeed`): the stored 1024-px
  preview in the message that opens the item, the full image when the browser has painted that and asks
  (``want_full``), and a huge image (a side over 8192 px or over 40 MP) as tiles the browser asks for, cut in
  a background thread. Nothing is decoded in the kernel's thread, so opening a 20000x15000 scan costs what a
  photo does. The feed's threads change traits only under the widget's lock, which every message handler
  holds too;
- the pass under review (``shapes``, in the Annotator's wire format: the Annotator's editor shows and fixes it)
  and every other drawn pass of the image (``passes``), read again whenever the Project writes shapes of the
  image (:meth:`ReviewItem._store_changed`) unless the write is the panel's own (``_applying``), as for the
  Annotator.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from labnb.errors import LabnbError
from labnb.widgets.errors import error_text
from labnb.widgets.imagefeed import ImageFeed
from labnb.widgets.serializers import safe_text, shape_to_dto
from labnb.workflow.editing import apply_edits
from labnb.workflow.review_queue import drawn_passes
from labnb.workflow.tasks import load, task_shapes

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.tasks import Task

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


class ReviewItem(anywidget.AnyWidget):
    """The traits and kernel side of the Review panel's open item (see the module docstring); the widget is
    :class:`labnb.widgets.review_panel.ReviewPanel`."""

    current = traitlets.Dict().tag(sync=True)
    """The open item (a queue row, with ``color``, ``state`` and the drawer's earlier rejection ``comment``),
    or ``{}`` when nothing is open."""

    image = traitlets.Bytes(b"").tag(sync=True)
    """The open item's image, encoded, as the Annotator's ``image`` (:mod:`labnb.widgets.imagefeed`): sent at
    once when no larger than its stored preview, else when the browser asks (``want_full``), never for a huge
    image (tiles instead)."""

    preview = traitlets.Bytes(b"").tag(sync=True)
    """The open item's stored small level (at most 1024 px a side), painted first; as the Annotator's."""

    image_info = traitlets.Dict().tag(sync=True)
    """As the Annotator's: asset id, file name, sizes, mime, the preview's size and mime, ``tiles``, ``shown``
    (a new number for every item opened, so another pass of the same image resets the editor);
    ``index``/``count`` in the queue."""

    shapes: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """The shapes of the pass under review (``js/src/types.ts`` ShapeDTO): what the editor shows and fixes."""

    passes: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """Every drawn pass of the image in this job: ``draw_task``, ``drawer``, ``pass``, ``state``, ``color``,
    ``reviewed`` and ``shapes`` (empty for the reviewed pass, whose shapes are ``shapes``)."""

    fixing = traitlets.Bool(False).tag(sync=True)
    """True while the reviewer fixes the pass in place (its shapes editable); set by the ``fix`` message."""

    status = traitlets.Unicode("").tag(sync=True)
    """What just happened, in words ("Accepted im0.png (alice, pass 1)")."""

    error = traitlets.Unicode("").tag(sync=True)
    """The last error from Python, shown in the widget (ipywidgets would swallow it otherwise)."""

    _project: Project

    def _setup_item(self, project: Project) -> None:
        """State of the open item; called before the widget is built (its traits are set afterwards)."""
        self._project = project
        self._task: Task | None = None
        self._colors: dict[str, str] = {}
        self._cids: dict[int, str] = {}
        self._counter = itertools.count()
        #: the widget's lock: the kernel's trait changes and those of the image feed's threads stay apart
        self._lock = threading.RLock()
        #: this panel's own write (the fix's edits) is under way: not an outside change to reload
        self._applying = False
        self._feed = ImageFeed(project, self, self._lock)

    def close(self) -> None:
        """Close the widget: the image feed's threads stop, and writes to the project no longer reach it."""
        feed = getattr(self, "_feed", None)  # absent when __init__ failed early (close runs from __del__)
        if feed is not None:
            feed.close()
        project = getattr(self, "_project", None)
        if project is not None:
            project._watchers.discard(self)
        super().close()

    def _color(self, drawer: str) -> str:
        return self._colors.setdefault(drawer, DRAWER_COLORS[len(self._colors) % len(DRAWER_COLORS)])

    # -- showing ---------------------------------------------------------------------------------------
    def _show(self, task: Task, row: Mapping[str, Any], index: int, count: int) -> None:
        """Show ``task``'s image and passes (``row``: its queue row, at ``index`` of ``count``). Reads the
        stored preview, never decodes the image (:mod:`labnb.widgets.imagefeed`). Every showing gets a new
        ``image_info.shown``, so the editor resets for another pass of the same image, whose bytes are equal."""
        asset = self._project.asset(task.asset_id)
        draw = load(self._project, int(task.draw_task_id or 0))
        drawer = str(draw.assignee)
        info = {
            "asset_id": asset.id, "file_name": asset.file_name, "width": asset.width, "height": asset.height,
            "index": index, "count": count,
        }  # fmt: skip
        image = self._feed.initial(asset, info)
        self._task = task
        self._cids = {}
        with self.hold_sync():
            self.fixing = False
            self.current = {**row, "color": self._color(drawer), "state": task.state, "comment": draw.comment}
            self.image_info = image["image_info"]
            self.image = image["image"]
            self.preview = image["preview"]
            self.shapes = self._pass_dtos(draw.id)
            self.passes = self._passes(task)
            self.error = ""
            self.status = f"Reviewing {asset.file_name}: {drawer}, pass {task.pass_index + 1}"
        self._feed.follow()

    def _hide_item(self) -> None:
        """Show no item (the queue ran out, the review was given back)."""
        self._task = None
        self._feed.hide()
        with self.hold_sync():
            self.fixing = False
            self.current = {}
            self.shapes = []
            self.passes = []
            self.image_info = {}
            self.image = b""
            self.preview = b""

    def _store_changed(self, asset_id: int) -> None:
        """Shapes of ``asset_id`` were written through this panel's Project (``p.annotate(..., task_id=...)``,
        another widget's edits, a fix decided in Python, ``job.merge``): if it is the open image, show the pass
        under review and the other passes as stored now. Not for the panel's own edits, acknowledged with
        their delta."""
        task = self._task
        if self._applying or task is None or task.asset_id != asset_id:
            return
        try:
            with self._lock:
                if self._task is not task:
                    return  # another item opened meanwhile
                with self.hold_sync():
                    self.shapes = self._pass_dtos(int(task.draw_task_id or 0))
                    self.passes = self._passes(task)
        except Exception as exc:  # shown in the widget: the writer's caller must not fail because of a widget
            with contextlib.suppress(Exception):
                self.error = error_text(exc)

    def _passes(self, task: Task) -> list[dict[str, Any]]:
        out = []
        for r in drawn_passes(self._project, task):
            drawer = str(r.assignee)
            reviewed = r.id == task.draw_task_id
            shapes = [] if reviewed else [shape_to_dto(s, f"p{r.id}-{s.id}") for s in task_shapes(self._project, r.id)]
            out.append({
                "draw_task": r.id, "drawer": safe_text(drawer), "pass": r.pass_index, "state": r.state,
                "color": self._color(drawer), "reviewed": reviewed, "shapes": shapes,
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
            self._applying = True  # acknowledged below with its delta: not a change to reload
            try:
                results = apply_edits(self._project, task.asset_id, edits, source="human", task_id=draw_id)
            finally:
                self._applying = False
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
            self.error = error_text(exc)
            results = [
                {"cid": str(e.get("cid", "")), "ok": False, "message": str(exc)}
                for e in (content.get("edits") or [])
                if isinstance(e, dict)
            ]
            self.send({"type": "ack", "batch": content.get("batch"), "results": results})
