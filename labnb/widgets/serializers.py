"""Shapes to and from the plain dicts the annotator's front end speaks (``js/src/types.ts``).

One module for every conversion, so the wire format has one definition on the Python side. Geometry is
in full-resolution image pixels; masks travel as uncompressed COCO runs (column-major, background
first), which the front end can paint and produce without a compressor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from labnb.errors import GeometryError
from labnb.geometry import Box, Keypoints, Mask, Polygon, Shape, Tag, check_inside
from labnb.schema import Schema, plain_text


def safe_text(text: str) -> str:
    """Defence in depth: the schema already refuses names that are not plain text (see
    :func:`labnb.schema.plain_text`), so for every stored name this is the identity; the front end
    inserts names as text, never as HTML."""
    return plain_text(text)


def schema_payload(schema: Schema) -> dict[str, Any]:
    """The schema as the front end needs it, with every name sanitised."""
    return {
        "classes": [
            {
                "id": c.id,
                "name": safe_text(c.name),
                "color": c.color,
                "hotkey": c.hotkey,
                "keypoints": [safe_text(k) for k in c.keypoints],
                "skeleton": [list(e) for e in c.skeleton],
            }
            for c in schema.classes
        ],
        "tools": list(schema.tools),
        "tags": [
            {"name": safe_text(g.name), "options": [safe_text(o) for o in g.options], "multi": g.multi}
            for g in schema.tags
        ],
        "attributes": [
            {
                "name": safe_text(a.name),
                "type": a.type,
                "options": [safe_text(o) for o in a.options],
                "classes": None if a.classes is None else [safe_text(c) for c in a.classes],
            }
            for a in schema.attributes
        ],
    }


def mask_runs(mask: Mask) -> dict[str, Any]:
    """Uncompressed column-major runs of a mask (what the front end paints from)."""
    flat = mask.to_array().ravel(order="F")
    change = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        runs = [0, *runs]  # runs start with background
    h, w = mask.size
    return {"size": [h, w], "counts": runs}


def shape_to_dto(shape: Shape, cid: str, origin: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The wire form of a shape. ``origin`` ({"model", "score", "prediction_id"}) is set for an annotation
    that records a model (a committed suggestion): the front end shows the score and knows the suggestion
    is taken. Those keys are read-only: :func:`dto_to_shape` ignores them."""
    geometry: dict[str, Any]
    if isinstance(shape, Box):
        geometry = {"kind": "box", "x": shape.x, "y": shape.y, "w": shape.w, "h": shape.h}
    elif isinstance(shape, Polygon):
        geometry = {"kind": "polygon", "parts": [p.ravel().tolist() for p in shape.parts]}
    elif isinstance(shape, Keypoints):
        geometry = {"kind": "keypoints", "points": {k: list(v) for k, v in shape.points.items()}}
    elif isinstance(shape, Mask):
        geometry = {"kind": "mask", "rle": mask_runs(shape)}
    else:
        geometry = {"kind": "tag", "value": shape.value, "group": shape.group}
    dto = {
        "id": shape.id,
        "cid": cid,
        "label": None if isinstance(shape, Tag) else shape.label,
        "attributes": dict(shape.attributes),
        "track_id": shape.track_id,
        "geometry": geometry,
    }
    if origin is not None:
        dto["model"] = origin.get("model")
        dto["score"] = origin.get("score")
        dto["prediction_id"] = origin.get("prediction_id")
    return dto


def suggestion_dto(shape: Shape, model: str) -> dict[str, Any]:
    """A model's stored prediction as a suggestion ("ghost"): cid ``g<prediction id>``, no annotation id
    of its own (it is not editable), its ``prediction_id``, ``model`` and ``score``."""
    assert shape.id is not None, "a suggestion is a stored prediction"
    dto = shape_to_dto(shape, f"g{shape.id}", {"model": model, "score": shape.score, "prediction_id": shape.id})
    dto["id"] = None
    return dto


def dto_to_shape(dto: Mapping[str, Any]) -> Shape:
    """Build a shape from a front-end dict; malformed input raises :class:`GeometryError`."""
    try:
        geometry = dto["geometry"]
        kind = geometry["kind"]
        common: dict[str, Any] = {
            "label": dto.get("label"),
            "attributes": dict(dto.get("attributes") or {}),
            "track_id": dto.get("track_id"),
        }
        if kind == "box":
            return Box(geometry["x"], geometry["y"], geometry["w"], geometry["h"], **common)
        if kind == "polygon":
            return Polygon(geometry["parts"], **common)
        if kind == "keypoints":
            return Keypoints(geometry["points"], **common)
        if kind == "mask":
            return Mask(geometry["rle"], **common)
        if kind == "tag":
            common.pop("label")
            return Tag(geometry["value"], group=geometry.get("group"), **common)
    except (KeyError, TypeError) as exc:
        raise GeometryError(f"malformed shape from the annotator: missing or wrong field {exc}") from exc
    raise GeometryError(f"unknown shape kind {kind!r}")


def validate_dtos(value: Any, width: int, height: int) -> list[dict[str, Any]]:
    """Check a list of shape dicts set from Python: every shape well formed and inside the image."""
    if not isinstance(value, list):
        raise GeometryError(f"shapes must be a list of shape dicts, got {type(value).__name__}")
    for i, dto in enumerate(value):
        shape = dto_to_shape(dto)
        try:
            check_inside(shape, width, height)
        except GeometryError as exc:
            raise GeometryError(f"shape #{i}: {exc}") from exc
    return value


def ms_to_seconds(ms: Any) -> float | None:
    """Active milliseconds the browser measured, as seconds; anything but a finite number >= 0 is unknown."""
    if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not math.isfinite(ms) or ms < 0:
        return None
    return float(ms) / 1000.0
