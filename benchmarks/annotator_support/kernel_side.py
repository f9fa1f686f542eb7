"""Imported inside the notebook's kernel: builds each widget as its users would, and counts comm bytes.

Every comm message the kernel publishes goes through ``ipykernel.comm.comm.BaseComm.publish_msg``; the hook
adds up, per message, its JSON size, its binary buffers and the part of it that is the image: a buffer that
starts with a JPEG/PNG/WebP signature, or a string that is a ``data:image`` URL or base64 of a JPEG/PNG.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import ipywidgets
from ipyannotations.images import BoxAnnotator
from ipykernel.comm.comm import BaseComm
from jupyter_bbox_widget import BBoxWidget

import labnb as lb
from annotator_support.data import CLASSES, HEIGHT, WIDTH, Box, make_boxes

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"RIFF")
_B64_MAGIC = ("data:image", "/9j/", "iVBORw0KGgo")

STATE: dict[str, Any] = {"sent": [], "t_cell": 0.0, "image": Path(), "made": [], "counting": False}
PROJECTS: dict[int, lb.Project] = {}
BOXES: dict[int, list[Box]] = {}


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list | tuple):
        return [s for v in obj for s in _strings(v)]
    return []


def _head(buffer: Any) -> bytes:
    view = memoryview(buffer)
    return view.tobytes()[:4] if not view.contiguous else bytes(view.cast("B")[:4])


def _account(msg_type: str, data: Any, buffers: Any) -> dict[str, Any]:
    bufs = [(memoryview(b).nbytes, _head(b)) for b in buffers or []]
    image = sum(n for n, head in bufs if head.startswith(_IMAGE_MAGIC))
    image += sum(len(s) for s in _strings(data) if len(s) > 10_000 and s.startswith(_B64_MAGIC))
    return {
        "t": time.time(),
        "type": msg_type,
        "json": len(json.dumps(data, default=str, separators=(",", ":"))),
        "buffers": sum(n for n, _ in bufs),
        "image": image,
    }


def install_hook() -> None:
    if getattr(BaseComm.publish_msg, "_bench", False):
        return
    original = BaseComm.publish_msg

    def publish_msg(
        self: Any, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **keys: Any
    ) -> Any:
        if STATE["counting"]:  # only while a widget is shown: a drag's messages pass untouched
            STATE["sent"].append(_account(msg_type, data, buffers))
        return original(self, msg_type, data=data, metadata=metadata, buffers=buffers, **keys)

    publish_msg._bench = True  # type: ignore[attr-defined]
    BaseComm.publish_msg = publish_msg  # type: ignore[method-assign]


def setup(work: str, image: str, counts: list[int], huge: str | None = None) -> None:
    """Projects for labnb (one per box count, and one with the huge image), box lists for the peers, the
    comm hook. Adding the images makes their stored previews, as it does for a user."""
    path = STATE["image"] = Path(image)
    if huge:
        p = lb.Project.create(Path(work) / "huge.labnb", labels=CLASSES, name="huge", overwrite=True)
        p.add_images([Path(huge)], progress=False)
        PROJECTS[0] = p
    for n in counts:
        BOXES[n] = make_boxes(n)
        p = lb.Project.create(Path(work) / f"bench{n}.labnb", labels=CLASSES, name=f"bench{n}", overwrite=True)
        p.add_images([path], progress=False)
        p.annotate(path.name, [lb.Box(b.x, b.y, b.w, b.h, label=b.label) for b in BOXES[n]])
        PROJECTS[n] = p
    install_hook()


def start_cell() -> None:
    """Called first in the displaying cell: forget earlier messages, note when the cell began."""
    STATE["sent"].clear()
    STATE["counting"] = True
    STATE["t_cell"] = time.time()


def close_last() -> None:
    """Close the widgets the last ``make`` created, except ipycanvas' process-wide canvas manager (created
    with the first canvas): closing it leaves every later ipyannotations canvas blank."""
    for model_id in STATE.pop("made", []):
        w = ipywidgets.Widget.widgets.get(model_id)
        if w is not None and type(w).__name__ != "_CanvasManager":
            w.close()


def make(kind: str, n: int, canvas_size: tuple[int, int] = (700, 500)) -> Any:
    """The widget of ``kind`` on the benchmark image with ``n`` boxes, built through its documented API."""
    before = set(ipywidgets.Widget.widgets)
    widget = _make(kind, n, canvas_size)
    STATE["made"] = [m for m in ipywidgets.Widget.widgets if m not in before]
    return widget


def _make(kind: str, n: int, canvas_size: tuple[int, int]) -> Any:
    boxes = BOXES.get(n, [])
    if kind == "labnb":
        return PROJECTS[n].annotator()
    if kind == "labnb_huge":
        return PROJECTS[0].annotator()
    if kind == "bbox":
        return BBoxWidget(
            image=str(STATE["image"]),
            classes=CLASSES,
            bboxes=[{"x": b.x, "y": b.y, "width": b.w, "height": b.h, "label": b.label} for b in boxes],
        )
    if kind == "ipyannotations":
        w = BoxAnnotator(options=CLASSES, canvas_size=canvas_size)
        w.display(STATE["image"])
        w.data = [{"type": "box", "label": b.label, "xyxy": (b.x, b.y, b.x + b.w, b.y + b.h)} for b in boxes]
        return w
    raise ValueError(kind)


def sent_summary() -> str:
    """What the kernel sent since ``start_cell``; counting stops here."""
    STATE["counting"] = False
    sent = STATE["sent"]
    return json.dumps(
        {
            "t_cell_ms": STATE["t_cell"] * 1000,
            "messages": len(sent),
            "json_bytes": sum(m["json"] for m in sent),
            "buffer_bytes": sum(m["buffers"] for m in sent),
            "image_bytes": sum(m["image"] for m in sent),
            "image_messages": sum(1 for m in sent if m["image"]),
        }
    )


def target_geometry(kind: str, widget: Any) -> list[float]:
    """The dragged box (the first of the list) as x0, y0, x1, y1 in image pixels, read from the kernel side."""
    if kind == "labnb":
        g = widget.shapes[0]["geometry"] if widget.shapes else {}
        for s in widget.shapes:
            if s["geometry"]["kind"] == "box" and s["geometry"]["w"] == 600.0 and s["geometry"]["h"] == 450.0:
                g = s["geometry"]
        return [g["x"], g["y"], g["x"] + g["w"], g["y"] + g["h"]]
    if kind == "bbox":
        b = widget.bboxes[0]
        return [b["x"], b["y"], b["x"] + b["width"], b["y"] + b["height"]]
    return list(widget.data[0]["xyxy"])


__all__ = ["HEIGHT", "WIDTH", "make", "sent_summary", "setup", "start_cell", "target_geometry"]
