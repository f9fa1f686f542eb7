"""The Annotator widget: label images in a notebook cell.

A thin anywidget: documented traits and a message handler. Drawing, hit-testing, undo and the keyboard
live in the browser (``js/src``, bundled into ``labnb/static/annotator.js``); pointer moves never reach
the kernel. Finished edits arrive debounced as one message, are applied through the Project (one
transaction and one event each, with the active time the browser measured) and acknowledged with their
ids and revisions. The wire format is ``js/src/types.ts``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from labnb.errors import GeometryError, LabnbError
from labnb.imaging import display_image
from labnb.widgets.serializers import schema_payload, shape_to_dto, validate_dtos
from labnb.workflow.editing import apply_edits
from labnb.workflow.guides import render_guide

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.project import Project

STATIC = Path(__file__).resolve().parent.parent / "static"

#: Default keys; ``p.annotator(keymap={...})`` overrides any of them. "Ctrl" means Cmd on a Mac.
DEFAULT_KEYMAP: dict[str, str] = {
    "tool_select": "v",
    "tool_box": "b",
    "tool_polygon": "p",
    "tool_keypoints": "k",
    "tool_mask": "m",
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
}


class Annotator(anywidget.AnyWidget):
    """Label a queue of images: every shape kind of the project's schema, with the keyboard.

    Build it with ``p.annotator(assets=None, keymap=None, guide=None)``. It shows and edits one source
    of annotations (``human`` by default); ground truth never reaches an annotator's widget unless asked
    for with ``source="ground_truth"``, which takes the reviewer role.
    """

    _esm = STATIC / "annotator.js"
    _css = STATIC / "annotator.css"

    image = traitlets.Bytes(b"").tag(sync=True)
    """The shown image's encoded bytes (the file itself when the browser can show it; never base64)."""

    image_info = traitlets.Dict().tag(sync=True)
    """Asset id, file name, full-resolution size, bitmap size, mime type, queue index and length."""

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
    ) -> None:
        unknown = set(keymap or {}) - set(DEFAULT_KEYMAP)
        if unknown:
            raise LabnbError(f"unknown keymap action(s) {sorted(unknown)}; known: {sorted(DEFAULT_KEYMAP)}")
        self._project = project
        self._source = source
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
            first = self._image_state(0)
        except LabnbError as exc:
            first = {"error": str(exc)}
        super().__init__(
            schema=schema_payload(project.schema),
            keymap={**DEFAULT_KEYMAP, **(keymap or {})},
            guide_html=render_guide(guide),
            readonly=readonly,
            **first,
        )
        self.on_msg(self._on_message)

    # -- Python-side API -------------------------------------------------------------------------
    @property
    def asset(self) -> Asset:
        """The image shown now."""
        assert self._asset is not None
        return self._asset

    def refresh(self) -> None:
        """Reload the shown image's shapes from the store (after writing with ``p.annotate``, say)."""
        self.shapes = self._stored_dtos()

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

    @traitlets.observe("position")
    def _on_position(self, change: dict[str, Any]) -> None:
        self._load(int(change["new"]))

    def _load(self, index: int) -> None:
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

    def _image_state(self, index: int) -> dict[str, Any]:
        """The traits that show image ``index`` of the queue (and make it the current asset)."""
        if not 0 <= index < len(self._queue):
            raise LabnbError(f"no image at position {index}; the queue has {len(self._queue)}")
        asset = self._project.asset(self._queue[index])
        shown = display_image(asset.read_bytes(), f"asset {asset.id} ({asset.file_name})")
        self._asset = asset
        return {
            "image_info": {
                "asset_id": asset.id, "file_name": asset.file_name, "width": asset.width, "height": asset.height,
                "bitmap_width": shown.width, "bitmap_height": shown.height, "mime": shown.mime,
                "index": index, "count": len(self._queue),
            },
            "image": shown.data,
            "shapes": self._stored_dtos(),
            "error": "",
            "status": "",
        }  # fmt: skip

    def _take_stored(self, cids: set[str]) -> dict[str, Any]:
        """Note what the store now holds for the shown image, and return the part that changed: the stored
        form of the shapes a batch touched (``upsert``) and the touched ones no longer stored (``removed``).

        The ack carries only this delta; every view of the widget applies it (a refused edit is undone there
        by the stored form coming back). The ``shapes`` trait is updated without being sent, so a view shown
        later, or a reloaded page, starts from the current state, while an edit never costs a resend of
        every shape of the image (700 kB at 5,000 objects)."""
        stored = self._stored_dtos()
        upsert = [d for d in stored if d["cid"] in cids]
        removed = sorted(cids - {d["cid"] for d in upsert})
        with self._lock_property(shapes=stored):
            self.shapes = stored
        return {"upsert": upsert, "removed": removed}

    def _stored_dtos(self) -> list[dict[str, Any]]:
        shapes = self._project.get_annotations(self.asset.id, source=self._source)
        return [shape_to_dto(s, self._cid(s.id)) for s in shapes]

    def _cid(self, annotation_id: int | None) -> str:
        if annotation_id is None:
            return f"py{next(self._counter)}"
        return self._cids.setdefault(annotation_id, f"s{annotation_id}")

    # -- messages --------------------------------------------------------------------------------
    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        try:
            if not isinstance(content, dict) or content.get("type") != "edits":
                raise LabnbError(f"unexpected message from the annotator: {str(content)[:80]}")
            asset_id = content.get("asset_id")
            if asset_id not in self._queue:
                raise LabnbError(f"edits for image {asset_id!r}, which is not in this annotator's queue")
            results = apply_edits(self._project, asset_id, list(content.get("edits") or []), source=self._source)
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
            self.error = f"{type(exc).__name__}: {exc}"
