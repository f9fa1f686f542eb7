"""What a widget sends of an image, and when: a small level at once, the rest in the background.

Used by the Annotator and the Review panel (``labnb/widgets/review_panel.py``), whose front ends share the
image layer (``js/src/imagelayer.ts``, ``js/src/tiles.ts``). The message that shows an image (the widget's
creation, navigation, another item of the review queue) carries only what paints at once:

- an image no larger than the stored 1024-px preview travels whole (it is its own preview; a few hundred kB);
- a larger one sends its stored preview (``labnb.pyramid``, ~50-150 kB) as ``preview``; once a view has
  painted it, the browser asks for the rest (``{"type": "want_full"}``), a background thread reads the file
  (and transcodes TIFF, CMYK, 16-bit or EXIF-rotated files) and sets ``image`` to it, and the browser swaps
  it in once decoded, with the preview on screen until then (sent at once, the file's megabytes would travel
  ahead of the cell's output and compete with the first paint for the CPU);
- a huge one (:func:`labnb.pyramid.is_tiled`) sends its preview and never its full bitmap: the browser asks
  for the tiles of what it shows (``{"type": "tiles", ...}``) and another background thread answers each
  with a ``{"type": "tile", ...}`` message whose one binary buffer is the encoded tile.

So the kernel's message loop never decodes an image (a 20000x15000 JPEG took 17.5 s to build the widget
before this), the first paint waits only for a small blob read from the store, and edits keep being saved
while images are read or tiles cut. A project made before the previews existed (migration 0007) gets them
here, in the background, the first time each image is shown.

Threads: one worker follows each shown image (full image, previews to make), one serves tiles; both set
traits or send only under the widget's lock and only while the image they worked for is still shown (a
``token`` per image shown), like model assist does (``labnb/widgets/annotator.py``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from labnb.errors import LabnbError
from labnb.imaging import display_image
from labnb.pyramid import (
    PREVIEW_SIDE,
    TILE_SIZE,
    Preview,
    TileSource,
    ensure_previews,
    is_tiled,
    load_preview,
    sides_for,
)
from labnb.widgets.errors import error_text

if TYPE_CHECKING:
    import anywidget

    from labnb.assets import Asset
    from labnb.project import Project


@dataclass
class _Shown:
    token: int
    asset: Asset
    tiles: TileSource | None
    #: the preview sent with the image's first message (None: the full image went instead, or none stored)
    preview: Preview | None
    #: the background work for it has started (once, whichever view asks)
    full_asked: bool = False


class ImageFeed:
    """The image traits of one widget (``widget``: ``image``, ``preview``, ``image_info``, ``error``):
    ``initial`` for the message that shows an image, then the background work (``follow``) and the tile
    requests (``request``); ``hide`` when the widget shows no image any more. ``lock`` is the widget's:
    every trait change and message from the threads is made under it."""

    def __init__(self, project: Project, widget: anywidget.AnyWidget, lock: threading.RLock) -> None:
        self._project = project
        self._widget = widget
        self._lock = lock
        self._token = 0
        self._shown: _Shown | None = None
        self._follower: ThreadPoolExecutor | None = None
        self._tiler: ThreadPoolExecutor | None = None
        #: the newest tile request of each view: an older one still being served stops
        self._latest: dict[str, int] = {}

    @property
    def token(self) -> int:
        return self._token

    def initial(self, asset: Asset, info: dict[str, Any]) -> dict[str, Any]:
        """The image traits that show ``asset`` now (``info`` is the rest of ``image_info``). Reads a small
        stored blob, or for an image no larger than its preview the file itself; decodes nothing."""
        self._token += 1
        w, h = asset.width, asset.height
        tiles = TileSource(asset.sha256 or asset.uri, _name(asset), w, h, asset.read_bytes) if is_tiled(w, h) else None
        preview = None
        if PREVIEW_SIDE in sides_for(w, h) and asset.sha256:
            with self._project._engine.connect() as conn:
                preview = load_preview(conn, asset.sha256, PREVIEW_SIDE)
        self._shown = _Shown(self._token, asset, tiles, preview)
        image = b""
        mime = ""
        if PREVIEW_SIDE not in sides_for(w, h):  # small: the image is its own preview
            shown = display_image(asset.read_bytes(), _name(asset))
            image, mime = shown.data, shown.mime
        info = {
            **info, "shown": self._token,
            "bitmap_width": w, "bitmap_height": h, "mime": mime,
            "preview_width": preview.width if preview else 0, "preview_height": preview.height if preview else 0,
            "preview_mime": preview.mime if preview else "",
            "tiles": {"size": TILE_SIZE, "levels": tiles.levels} if tiles else {},
        }  # fmt: skip
        return {"image_info": info, "image": image, "preview": preview.data if preview else b""}

    def follow(self) -> None:
        """Start the background work for the image ``initial`` showed last: its stored previews when an
        older project has none, and then the full image (unless sent already or tiled). When the preview was
        sent, the full image waits for the browser to ask (``want_full``: it has painted the preview): sent
        at once, its megabytes would travel ahead of the cell's output and share the CPU with the first paint."""
        shown = self._shown
        if shown is None or shown.preview is not None:
            return
        needs_full = shown.tiles is None and PREVIEW_SIDE in sides_for(shown.asset.width, shown.asset.height)
        if needs_full or sides_for(shown.asset.width, shown.asset.height):
            self._start(shown, needs_full)

    def want_full(self, content: Mapping[str, Any]) -> None:
        """A view has painted the preview and asks for the full image (``js/src/types.ts`` FullImageRequest)."""
        shown = self._shown
        if shown is None or content.get("asset_id") != shown.asset.id or shown.full_asked or shown.tiles is not None:
            return
        if shown.preview is None:
            return  # no preview was sent: follow() sent the full image already
        self._start(shown, needs_full=True)

    def _start(self, shown: _Shown, needs_full: bool) -> None:
        shown.full_asked = True
        if self._follower is None:
            self._follower = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labnb-image")
        self._follower.submit(self._follow, shown, needs_full)

    def _follow(self, shown: _Shown, needs_full: bool) -> None:
        asset = shown.asset
        try:
            if shown.token != self._token:
                return  # the user has moved on before this started
            data = asset.read_bytes()
            if needs_full:
                full = display_image(data, _name(asset))
                self._apply(shown.token, {"image": full.data, "mime": full.mime})
            if shown.preview is None:
                made = ensure_previews(self._project._engine, asset, data)
                if shown.tiles is not None and made:  # a huge image needs its preview to show anything
                    p = made[0]
                    self._apply(
                        shown.token,
                        {
                            "preview": p.data,
                            "preview_width": p.width,
                            "preview_height": p.height,
                            "preview_mime": p.mime,
                        },
                    )
        except Exception as exc:  # shown in the widget: a worker's exception would be lost
            self._apply(shown.token, {"error": error_text(exc)})

    def _apply(self, token: int, changes: Mapping[str, Any]) -> None:
        """Set ``image``, ``preview``, ``error`` and the rest into ``image_info``, in one message, if the image
        the work was for is still shown (called from the threads)."""
        w = self._widget
        traits = {k: changes[k] for k in ("image", "preview", "error") if k in changes}
        info = {k: v for k, v in changes.items() if k not in traits}
        with contextlib.suppress(Exception), self._lock:  # a closed widget: nothing to show it in
            if token != self._token:
                return
            with w.hold_sync():
                if info:
                    w.image_info = {**w.image_info, **info}
                for name, value in traits.items():
                    setattr(w, name, value)

    def _send(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        self._widget.send(content, buffers)

    # -- tiles --------------------------------------------------------------------------------------
    def request(self, content: Mapping[str, Any]) -> None:
        """A tile request from a view (``js/src/types.ts`` TilesRequest): ``[level, tx, ty]`` triples, served
        in their order by the tile worker. A newer request from the same view supersedes it: the tiles it
        still wants are in that one."""
        shown = self._shown
        rid, view, tiles = content.get("id"), str(content.get("view", "")), content.get("tiles")
        if shown is None or content.get("asset_id") != shown.asset.id:
            return  # for an image no longer shown
        if shown.tiles is None:
            raise LabnbError(f"{shown.asset.file_name} is not shown as tiles")
        levels = shown.tiles.levels
        ok = isinstance(tiles, list) and all(
            isinstance(t, list) and len(t) == 3 and all(isinstance(v, int) for v in t) and 0 <= t[0] < levels
            for t in tiles
        )
        if not isinstance(rid, int) or not ok:
            raise LabnbError(f"malformed tile request (levels 0..{levels - 1}): {str(dict(content))[:120]}")
        assert isinstance(tiles, list)
        self._latest[view] = rid
        if self._tiler is None:
            self._tiler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labnb-tiles")
        self._tiler.submit(self._serve, shown, view, rid, [(t[0], t[1], t[2]) for t in tiles])

    def _serve(self, shown: _Shown, view: str, rid: int, wanted: list[tuple[int, int, int]]) -> None:
        assert shown.tiles is not None
        try:
            for level, tx, ty in wanted:
                if self._latest.get(view) != rid or shown.token != self._token:
                    return  # superseded, or another image is shown
                data, mime = shown.tiles.tile(level, tx, ty)
                head = {"type": "tile", "id": rid, "asset_id": shown.asset.id, "level": level, "tx": tx, "ty": ty}
                with self._lock:
                    if shown.token == self._token:
                        self._send({**head, "mime": mime}, [data])
        except Exception as exc:
            with self._lock, contextlib.suppress(Exception):
                message = error_text(exc)
                self._send({"type": "tile_error", "id": rid, "asset_id": shown.asset.id, "message": message}, [])
            self._apply(shown.token, {"error": error_text(exc)})

    def hide(self) -> None:
        """No image is shown any more (the review queue ran out): work still running for one stops showing it,
        and requests for it are ignored."""
        self._token += 1
        self._shown = None

    def close(self) -> None:
        self.hide()  # whatever is running is no longer shown
        for pool in (self._follower, self._tiler):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
        self._follower = self._tiler = None


def _name(asset: Asset) -> str:
    return f"asset {asset.id} ({asset.file_name})"
