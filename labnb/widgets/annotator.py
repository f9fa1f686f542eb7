"""The Annotator widget: label images in a notebook cell.

A thin anywidget: documented traits and a message handler. Drawing, hit-testing, undo and the keyboard
live in the browser (``js/src``, bundled into ``labnb/static/annotator.js``); pointer moves never reach
the kernel. Finished edits arrive debounced as one message, are applied through the Project (one
transaction and one event each, with the active time the browser measured) and acknowledged with their
ids and revisions. The wire format is ``js/src/types.ts``.

Model assist (``p.annotator(assist=model)``): the model's predictions for the shown image travel as
``suggestions``, which the browser draws as grey "ghosts" and commits, on a key, as ordinary edits that
name the prediction (``labnb/workflow/editing.py`` copies its model, version and score). Predictions are
cached in the store per image and model version (``labnb.assist.store``); an image the model has not seen
is predicted in one background thread, so the kernel keeps saving edits meanwhile.

Images (``labnb/widgets/imagefeed.py``): the message that shows an image carries its stored 1024-px preview
(or the image itself when it is no larger); the full image follows from a background thread, and a huge
image is served as tiles the browser asks for. Coordinates are always full-resolution image pixels.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import traitlets

from labnb.errors import GeometryError, LabnbError
from labnb.widgets.annotator_assist import AssistSide
from labnb.widgets.errors import error_text
from labnb.widgets.imagefeed import ImageFeed
from labnb.widgets.serializers import ms_to_seconds, schema_payload, shape_to_dto, validate_dtos
from labnb.workflow.editing import apply_edits, assist_origins
from labnb.workflow.guides import render_guide

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.assist.store import AssistModel
    from labnb.project import Project

STATIC = Path(__file__).resolve().parent.parent / "static"

#: Default keys; ``p.annotator(keymap={...})`` overrides any of them. "Ctrl" means Cmd on a Mac.
DEFAULT_KEYMAP: dict[str, str] = {
    "tool_select": "v",
    "tool_box": "b",
    "tool_polygon": "p",
    "tool_keypoints": "k",
    "tool_mask": "w",
    "eraser": "e",
    "next_image": "ArrowRight",
    "prev_image": "ArrowLeft",
    "undo": "Ctrl+z",
    "redo": "Ctrl+Shift+z",
    "delete": "Delete",
    "copy": "Ctrl+c",
    "paste": "Ctrl+v",
    "select_all": "Ctrl+a",
    "zoom_in": "+",
    "zoom_out": "-",
    "zoom_fit": "0",
    "toggle_visibility": "h",
    "help": "?",
    "close_polygon": "Enter",
    "cancel": "Escape",
    "brush_bigger": "]",
    "brush_smaller": "[",
    "toggle_keypoint_visibility": "x",
    "accept_suggestions": "Space",
    "accept_all_suggestions": "s",
    "toggle_assist": "m",
}


class Annotator(AssistSide):
    """Label a queue of images: every shape kind of the project's schema, with the keyboard.

    Build it with ``p.annotator(assets=None, keymap=None, guide=None, assist=None)``. It shows and edits one
    source of annotations (``human`` by default); ground truth never reaches an annotator's widget unless
    asked for with ``source="ground_truth"``, which takes the reviewer role. With ``assist`` (a model such
    as :class:`labnb.assist.OnnxDetector`) it shows the model's predictions as suggestions to accept.
    """

    _esm = STATIC / "annotator.js"
    _css = STATIC / "annotator.css"

    image = traitlets.Bytes(b"").tag(sync=True)
    """The shown image's encoded bytes (the file itself when the browser can show them; never base64). Set
    from a background thread after the image is shown when it is larger than its preview; empty for an image
    shown as tiles (``image_info["tiles"]``)."""

    preview = traitlets.Bytes(b"").tag(sync=True)
    """The shown image's stored small level (``labnb.pyramid``, at most 1024 px a side), painted first;
    empty when ``image`` is sent at once (an image no larger than its preview)."""

    image_info = traitlets.Dict().tag(sync=True)
    """Asset id, file name, full-resolution size, bitmap size and mime type of ``image``, the preview's size and
    mime type, ``tiles`` (``{"size", "levels"}`` for a huge image, else ``{}``), queue index and length."""

    shapes: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """The image's stored shapes as dicts (``js/src/types.ts`` ShapeDTO). Checked when set from Python:
    NaN or out-of-image geometry raises at assignment."""

    schema = traitlets.Dict().tag(sync=True)
    """Classes (colour, hotkey, keypoints, skeleton), tools, tag groups and attributes; names sanitised."""

    keymap = traitlets.Dict().tag(sync=True)
    """Action -> key, the defaults merged with the user's remapping."""

    guide_html = traitlets.Unicode("").tag(sync=True)
    """The draw guide, markdown rendered and sanitised in Python before it reaches the browser."""

    position = traitlets.Int(0).tag(sync=True)
    """Index of the shown image in the queue; the front end sets it to navigate, after flushing edits."""

    task = traitlets.Dict().tag(sync=True)
    """The job task this annotator is bound to (``Task.annotator()``, ``p.work()``), ``{}`` otherwise: id, job,
    pass, state, the reviewer's comment when it came back to fix, and ``can_submit`` (shows "Submit", which
    saves every pending edit first and then hands the pass in)."""

    readonly = traitlets.Bool(False).tag(sync=True)
    """When true the front end shows shapes but offers no editing."""

    status = traitlets.Unicode("").tag(sync=True)
    """Short state for the status bar ("saved", "3 edits saved", ...)."""

    error = traitlets.Unicode("").tag(sync=True)
    """The last error from Python, shown in the widget (ipywidgets would swallow it otherwise)."""

    def __init__(
        self,
        project: Project,
        assets: Sequence[int] | None = None,
        *,
        keymap: Mapping[str, str] | None = None,
        guide: str | None = None,
        readonly: bool = False,
        source: str = "human",
        assist: AssistModel | None = None,
        assist_threshold: float = 0.3,
        mapping: Mapping[str, str | None] | None = None,
        task_id: int | None = None,
        auto_next: bool = False,
    ) -> None:
        unknown = set(keymap or {}) - set(DEFAULT_KEYMAP)
        if unknown:
            raise LabnbError(f"unknown keymap action(s) {sorted(unknown)}; known: {sorted(DEFAULT_KEYMAP)}")
        if not 0.0 <= assist_threshold <= 1.0:
            raise LabnbError(f"assist_threshold must be between 0 and 1, got {assist_threshold!r}")
        self._project = project
        self._applying = False  # this widget's own edits are being written (not an outside change)
        self._source = source
        #: a job's draw pass: the widget shows and edits only that pass's shapes (Task.annotator())
        self._task_id = task_id
        #: after "Submit", claim the user's next draw task of the same job and show it (``p.work()``)
        self._auto_next = auto_next
        self._assist = assist
        self._mapping = dict(mapping) if mapping else None
        if assist is not None:  # unmapped model classes are reported now, at the user's call, not by the worker
            from labnb.assist import store  # noqa: PLC0415 - only widgets with a model need it

            store.class_map(project, assist, self._mapping)
        # One worker runs the model; the lock orders its results against the kernel's own trait changes.
        self._executor: ThreadPoolExecutor | None = None
        self._job: Future[list[dict[str, Any]]] | None = None
        self._job_asset: int | None = None
        self._assist_lock = threading.RLock()
        self._generation = 0
        self._ready = False
        self._feed = ImageFeed(project, self, self._assist_lock)
        self._queue = list(assets) if assets is not None else [int(a) for a in project.assets.df.asset_id]
        if not self._queue:
            raise LabnbError(f"project '{project.name}' has no images to label; add some with p.add_images(...)")
        self._asset: Asset | None = None
        self._cids: dict[int, str] = {}
        self._counter = itertools.count()
        # The first image travels in the message that creates the widget in the browser, so the front end
        # can start decoding it before any view exists (anywidget's `initialize`); set afterwards, it would
        # arrive as a second message, after the view.
        try:
            first = self._image_state(0, assist_on=assist is not None)
        except LabnbError as exc:
            first = {"error": str(exc)}
        super().__init__(
            schema=schema_payload(project.schema),
            keymap={**DEFAULT_KEYMAP, **(keymap or {})},
            guide_html=render_guide(guide, project),
            readonly=readonly,
            assist_on=assist is not None,
            assist_threshold=float(assist_threshold),
            assist_model={} if assist is None else {"name": str(assist.name), "version": str(assist.version)},
            task=self._task_info(),
            **first,
        )
        self.on_msg(self._on_message)
        project._watchers.add(self)
        self._ready = True
        self._feed.follow()
        self._start_prediction()

    # -- Python-side API -------------------------------------------------------------------------
    @property
    def asset(self) -> Asset:
        """The image shown now."""
        assert self._asset is not None
        return self._asset

    def refresh(self) -> None:
        """Reload the shown image's shapes (and suggestions) from the store (after ``p.annotate``, say)."""
        with self._assist_lock, self.hold_sync():
            self.shapes = self._stored_dtos()
            self._set_assist(self._assist_state(self.asset, self.assist_on))
        self._start_prediction()

    def close(self) -> None:
        """Close the widget; a prediction under way finishes in the background and is stored, not shown."""
        executor = getattr(self, "_executor", None)  # absent when __init__ failed early (close runs from __del__)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        feed = getattr(self, "_feed", None)
        if feed is not None:
            feed.close()
        super().close()

    def goto(self, index: int) -> None:
        """Show the image at ``index`` of the queue."""
        self.position = index

    # -- traits ----------------------------------------------------------------------------------
    @traitlets.validate("shapes")
    def _check_shapes(self, proposal: dict[str, Any]) -> list[dict[str, Any]]:
        info = self.image_info
        try:
            return validate_dtos(proposal["value"], int(info.get("width", 0)), int(info.get("height", 0)))
        except GeometryError as exc:
            raise traitlets.TraitError(f"Annotator.shapes for {info.get('file_name', 'the image')}: {exc}") from exc

    @traitlets.validate("assist_threshold")
    def _check_threshold(self, proposal: dict[str, Any]) -> float:
        value = float(proposal["value"])
        if not 0.0 <= value <= 1.0:
            raise traitlets.TraitError(f"assist_threshold must be between 0 and 1, got {value!r}")
        return value

    @traitlets.observe("position")
    def _on_position(self, change: dict[str, Any]) -> None:
        self._load(int(change["new"]))

    @traitlets.observe("assist_on")
    def _on_assist(self, change: dict[str, Any]) -> None:
        if self._assist is None or self._asset is None or not self._ready:
            return
        try:
            with self._assist_lock:
                self._set_assist(self._assist_state(self._asset, bool(change["new"])))
            self._start_prediction()
        except Exception as exc:  # a trait callback must not raise: the browser would never hear of it
            self.assist_status = f"{type(exc).__name__}: {exc}"

    def _load(self, index: int) -> None:
        with self._assist_lock:
            try:
                state = self._image_state(index)
            except LabnbError as exc:
                self.error = str(exc)
                return
            with self.hold_sync():
                # image_info first: the shapes are checked against its size
                self.image_info = state.pop("image_info")
                for name, value in state.items():
                    setattr(self, name, value)
        self._feed.follow()
        self._start_prediction()

    def _image_state(self, index: int, *, assist_on: bool | None = None) -> dict[str, Any]:
        """The traits that show image ``index`` of the queue (and make it the current asset)."""
        if not 0 <= index < len(self._queue):
            raise LabnbError(f"no image at position {index}; the queue has {len(self._queue)}")
        asset = self._project.asset(self._queue[index])
        info = {
            "asset_id": asset.id, "file_name": asset.file_name, "width": asset.width, "height": asset.height,
            "index": index, "count": len(self._queue),
        }  # fmt: skip
        image = self._feed.initial(asset, info)
        self._asset = asset
        return {
            **image,
            "shapes": self._stored_dtos(),
            "error": "",
            "status": "",
            **self._assist_state(asset, self.assist_on if assist_on is None else assist_on),
        }  # fmt: skip

    def _take_stored(self, cids: set[str]) -> dict[str, Any]:
        """Note what the store now holds for the shown image, and return the part that changed: the stored
        form of the shapes a batch touched (``upsert``) and the touched ones no longer stored (``removed``).

        The ack carries only this delta; every view of the widget applies it (a refused edit is undone there
        by the stored form coming back). The ``shapes`` trait is updated without being sent, so a view shown
        later, or a reloaded page, starts from the current state, while an edit never costs a resend of
        every shape of the image (700 kB at 5,000 objects)."""
        before = {d["cid"]: d for d in self.shapes}
        stored = self._stored_dtos()
        # also what changed in the store since Python's copy without this widget (another process, say)
        upsert = [d for d in stored if d["cid"] in cids or before.get(d["cid"]) != d]
        removed = sorted((cids | set(before)) - {d["cid"] for d in stored})
        with self._lock_property(shapes=stored):
            self.shapes = stored
        return {"upsert": upsert, "removed": removed}

    def _store_changed(self, asset_id: int) -> None:
        """Python wrote shapes of ``asset_id`` (``p.annotate``, an update, a delete): show them if it is the
        image shown, unless the write is this widget's own edit (acknowledged with a delta instead)."""
        if self._applying or self._asset is None or self._asset.id != asset_id:
            return
        try:
            self.refresh()
        except Exception as exc:  # shown in the widget
            self.error = error_text(exc)

    def _stored_dtos(self) -> list[dict[str, Any]]:
        if self._task_id is not None:
            from labnb.workflow.tasks import task_shapes  # noqa: PLC0415 - the workflow layer sits above widgets

            shapes = task_shapes(self._project, self._task_id)
        else:
            # work outside jobs: a job's passes are each person's blind work, opened through their task
            shapes = self._project._shapes_of(self.asset.id, (self._source,), outside_jobs=True)
        origins = assist_origins(self._project, self.asset.id, self._source)
        return [shape_to_dto(s, self._cid(s.id), origins.get(s.id) if s.id is not None else None) for s in shapes]

    def _cid(self, annotation_id: int | None) -> str:
        if annotation_id is None:
            return f"py{next(self._counter)}"
        return self._cids.setdefault(annotation_id, f"s{annotation_id}")

    # -- messages --------------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        with self._assist_lock:  # trait changes stay apart from those of the assist thread
            if isinstance(content, dict) and content.get("type") == "submit_task":
                self._submit_task(content.get("duration_ms"))
            elif isinstance(content, dict) and content.get("type") == "want_full":
                self._feed.want_full(content)
            elif isinstance(content, dict) and content.get("type") == "tiles":
                try:
                    self._feed.request(content)
                except LabnbError as exc:
                    self.error = str(exc)
            else:
                self._handle_edits(content)

    # -- a job's task ------------------------------------------------------------------------------
    def _task_info(self) -> dict[str, Any]:
        if self._task_id is None:
            return {}
        from labnb.workflow.tasks import OPEN_DRAW, load  # noqa: PLC0415 - the workflow layer sits above widgets

        t = load(self._project, self._task_id)
        return {
            "id": t.id, "job": t.job.name, "pass": t.pass_index, "state": t.state, "comment": t.comment,
            "can_submit": t.assignee == self._project.user and t.state in OPEN_DRAW,
        }  # fmt: skip

    def _submit_task(self, duration_ms: Any = None) -> None:
        """The front end has saved every edit (it sends this after the last ack): hand the pass in with the
        active time since the last edit, then show the next one when bound by ``p.work()``."""
        from labnb.workflow.claims import next_task  # noqa: PLC0415
        from labnb.workflow.tasks import load  # noqa: PLC0415

        try:
            if self._task_id is None:
                raise LabnbError("this annotator is not bound to a task")
            done = load(self._project, self._task_id).submit(duration=ms_to_seconds(duration_ms))
            nxt = next_task(self._project, "draw", done.job_id) if self._auto_next else None
            with self.hold_sync():
                if nxt is not None:
                    self._task_id = nxt.id
                    self._queue = [nxt.asset_id]
                    self._load(0)
                    self.readonly = False
                    self.guide_html = render_guide(nxt.guide(), self._project)
                    self.status = f"task {done.id} submitted; next: {nxt.asset.file_name}, pass {nxt.pass_index + 1}"
                else:
                    self.readonly = True
                    left = " (no more tasks for you in this job)" if self._auto_next else ""
                    self.status = f"task {done.id} submitted ({done.state}){left}"
                self.task = self._task_info()
                self.error = ""
        except Exception as exc:  # shown in the widget
            self.error = error_text(exc)

    def _handle_edits(self, content: Any) -> None:
        try:
            if not isinstance(content, dict) or content.get("type") != "edits":
                raise LabnbError(f"unexpected message from the annotator: {str(content)[:80]}")
            asset_id = content.get("asset_id")
            if asset_id not in self._queue:
                raise LabnbError(f"edits for image {asset_id!r}, which is not in this annotator's queue")
            edits = list(content.get("edits") or [])
            self._applying = True
            try:
                results = apply_edits(self._project, asset_id, edits, source=self._source, task_id=self._task_id)
            finally:
                self._applying = False
            for r in results:
                if r["ok"]:
                    self._cids[r["id"]] = r["cid"]
            ack: dict[str, Any] = {
                "type": "ack",
                "batch": content.get("batch"),
                "asset_id": asset_id,
                "results": results,
            }
            if self.asset.id == asset_id:
                ack.update(self._take_stored({str(r["cid"]) for r in results}))
            self.send(ack)
            failed = [r["message"] for r in results if not r["ok"]]
            with self.hold_sync():
                saved = len(results) - len(failed)
                self.status = f"{saved} edit{'s' if saved != 1 else ''} saved" + (
                    f", {len(failed)} refused" if failed else ""
                )
                self.error = "; ".join(failed)
        except Exception as exc:  # shown in the widget: ipywidgets swallows callback errors
            self.error = error_text(exc)
