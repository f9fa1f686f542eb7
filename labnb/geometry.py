"""Shapes in image pixels and the maths every layer shares.

A shape is a small dataclass that validates itself when built, so a NaN coordinate or a two-point
polygon fails where it is written, with a message, not later as a blank canvas or a broken export.
Coordinates are always full-resolution image pixels, origin top-left, x right, y down.

Storage form (``to_data`` / ``shape_from_row``) is JSON-friendly and compact because a project may hold
millions of annotations: a box lives entirely in the bbox columns, a polygon is COCO's list of flat
``[x0, y0, x1, y1, ...]`` parts, keypoints a flat ``[x, y, v, ...]`` list in the class's point order,
a mask a compressed COCO RLE.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray
from pycocotools import mask as _rle

from labnb.errors import GeometryError

Kind = Literal["box", "polygon", "keypoints", "mask", "tag"]
BBox = tuple[float, float, float, float]

#: COCO keypoint visibility: 0 not labelled, 1 labelled but hidden, 2 labelled and visible.
VISIBILITY = (0, 1, 2)


def _finite(values: Iterable[float], what: str) -> list[float]:
    out = [float(v) for v in values]
    bad = [v for v in out if not math.isfinite(v)]
    if bad:
        raise GeometryError(f"{what}: coordinates must be finite numbers, got {bad[0]!r}")
    return out


@dataclass(kw_only=True)
class _Common:
    """Fields every shape carries besides its geometry."""

    label: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    track_id: int | None = None
    score: float | None = None
    #: Annotation id once stored; ``None`` for a shape not yet written.
    id: int | None = None

    def _check_common(self) -> None:
        if self.score is not None and not (math.isfinite(self.score) and 0.0 <= self.score <= 1.0):
            raise GeometryError(f"{self._name()}: score must be in [0, 1], got {self.score!r}")
        if self.track_id is not None and int(self.track_id) != self.track_id:
            raise GeometryError(f"{self._name()}: track_id must be an integer, got {self.track_id!r}")

    def _name(self) -> str:
        ident = f" {self.id}" if self.id is not None else ""
        lab = f" '{self.label}'" if self.label else ""
        return f"{type(self).__name__}{ident}{lab}"


@dataclass
class Box(_Common):
    """An axis-aligned box: top-left corner ``(x, y)``, width ``w`` and height ``h`` in pixels."""

    x: float
    y: float
    w: float
    h: float
    kind: ClassVar[Kind] = "box"

    def __post_init__(self) -> None:
        self.x, self.y, self.w, self.h = _finite((self.x, self.y, self.w, self.h), self._name())
        if self.w <= 0 or self.h <= 0:
            raise GeometryError(f"{self._name()}: width and height must be positive, got w={self.w:g}, h={self.h:g}")
        self._check_common()

    @property
    def bbox(self) -> BBox:
        return (self.x, self.y, self.w, self.h)

    @property
    def area(self) -> float:
        return self.w * self.h

    def to_data(self) -> Any:
        return None


@dataclass
class Polygon(_Common):
    """A polygon of one or more parts (COCO allows several disjoint parts per object).

    ``Polygon([(x, y), ...])`` gives one part; ``Polygon([[(x, y), ...], [(x, y), ...]])`` several.
    Flat COCO lists ``[x0, y0, x1, y1, ...]`` are accepted too, as one part or a list of parts.
    """

    points: Any
    kind: ClassVar[Kind] = "polygon"
    parts: list[NDArray[np.float64]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.parts = _parse_parts(self.points, self._name())
        self.points = [[(float(x), float(y)) for x, y in part] for part in self.parts]
        self._check_common()

    @property
    def bbox(self) -> BBox:
        allp = np.concatenate(self.parts)
        x0, y0 = allp.min(axis=0)
        x1, y1 = allp.max(axis=0)
        return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    @property
    def area(self) -> float:
        """Sum of the parts' shoelace areas (COCO treats parts as a union; they rarely overlap)."""
        return float(sum(polygon_area(p) for p in self.parts))

    def to_data(self) -> Any:
        return [p.ravel().tolist() for p in self.parts]


def _parse_parts(points: Any, name: str) -> list[NDArray[np.float64]]:
    if isinstance(points, np.ndarray):
        points = points.tolist()
    if not isinstance(points, Sequence) or len(points) == 0:
        raise GeometryError(f"{name}: a polygon needs at least 3 points, got none")
    first = points[0]
    if isinstance(first, (int, float, np.number)):  # one flat COCO part
        raw_parts: list[Any] = [points]
    elif isinstance(first, Sequence) and len(first) > 0 and isinstance(first[0], (int, float, np.number)):
        # either a list of (x, y) pairs (one part) or a list of flat parts
        raw_parts = [points] if all(len(p) == 2 for p in points) else list(points)
    else:
        raw_parts = list(points)
    parts = []
    for i, part in enumerate(raw_parts):
        arr = np.asarray(part, dtype=np.float64)
        if arr.ndim == 1:
            if arr.size % 2:
                raise GeometryError(f"{name}: part {i} has an odd number of coordinates ({arr.size})")
            arr = arr.reshape(-1, 2)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise GeometryError(f"{name}: part {i} is not a list of (x, y) points")
        if not np.isfinite(arr).all():
            raise GeometryError(f"{name}: part {i} has a coordinate that is not a finite number")
        if len(arr) < 3:
            raise GeometryError(f"{name}: a polygon needs at least 3 points, part {i} has {len(arr)}")
        parts.append(arr)
    return parts


def polygon_area(xy: NDArray[np.float64]) -> float:
    """Shoelace area of one closed ring given as an ``(n, 2)`` array."""
    x, y = xy[:, 0], xy[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


@dataclass
class Keypoints(_Common):
    """Named points of one object, each ``(x, y, v)`` with COCO visibility ``v`` (0, 1 or 2).

    The names and skeleton come from the label class in the schema; ``(x, y)`` without ``v`` means
    visible. Points not listed are "not labelled" (v = 0).
    """

    points: Mapping[str, Sequence[float]]
    kind: ClassVar[Kind] = "keypoints"

    def __post_init__(self) -> None:
        clean: dict[str, tuple[float, float, int]] = {}
        for name, value in dict(self.points).items():
            vals = list(value)
            if len(vals) not in (2, 3):
                raise GeometryError(f"{self._name()}: point '{name}' must be (x, y) or (x, y, v)")
            x, y = _finite(vals[:2], f"{self._name()} point '{name}'")
            if len(vals) == 3 and vals[2] not in VISIBILITY:
                raise GeometryError(f"{self._name()}: point '{name}' visibility must be 0, 1 or 2, got {vals[2]!r}")
            v = int(vals[2]) if len(vals) == 3 else 2
            clean[str(name)] = (x, y, v)
        self.points = clean
        self._check_common()

    def labelled(self) -> dict[str, tuple[float, float, int]]:
        return {k: v for k, v in self.points.items() if v[2] > 0}  # type: ignore[misc]

    @property
    def bbox(self) -> BBox:
        pts = [(x, y) for x, y, _ in self.labelled().values()]
        if not pts:
            return (0.0, 0.0, 0.0, 0.0)
        arr = np.asarray(pts)
        x0, y0 = arr.min(axis=0)
        x1, y1 = arr.max(axis=0)
        return (float(x0), float(y0), float(x1 - x0), float(y1 - y0))

    @property
    def area(self) -> float:
        _, _, w, h = self.bbox
        return w * h

    def to_flat(self, names: Sequence[str]) -> list[float]:
        """COCO's flat ``[x, y, v, ...]`` in the order of ``names``; unknown names raise."""
        unknown = set(self.points) - set(names)
        if unknown:
            raise GeometryError(
                f"{self._name()}: point(s) {sorted(unknown)} are not in the class's keypoints {list(names)}"
            )
        out: list[float] = []
        for n in names:
            x, y, v = self.points.get(n, (0.0, 0.0, 0))
            out += [x, y, v] if v else [0.0, 0.0, 0]
        return out

    @classmethod
    def from_flat(cls, flat: Sequence[float], names: Sequence[str], **kw: Any) -> Keypoints:
        if len(flat) != 3 * len(names):
            raise GeometryError(
                f"keypoints: expected {3 * len(names)} numbers for points {list(names)}, got {len(flat)}"
            )
        pts = {n: (flat[3 * i], flat[3 * i + 1], int(flat[3 * i + 2])) for i, n in enumerate(names)}
        return cls({n: p for n, p in pts.items() if p[2] > 0}, **kw)

    def to_data(self) -> Any:
        return {k: list(v) for k, v in self.points.items()}


@dataclass
class Mask(_Common):
    """A binary mask, stored as compressed COCO RLE.

    Build from a 2-D array (non-zero = inside) or from an RLE dict ``{"size": [h, w], "counts": ...}``
    whose counts are COCO's compressed string or the uncompressed list of run lengths.
    """

    rle: Any
    iscrowd: bool = False
    kind: ClassVar[Kind] = "mask"

    def __post_init__(self) -> None:
        self.rle = to_compressed_rle(self.rle, self._name())
        self._check_common()

    @property
    def size(self) -> tuple[int, int]:
        h, w = self.rle["size"]
        return int(h), int(w)

    def to_array(self) -> NDArray[np.bool_]:
        decoded: NDArray[np.bool_] = _rle.decode(_bytes_rle(self.rle)).astype(bool)
        return decoded

    @property
    def bbox(self) -> BBox:
        x, y, w, h = (float(v) for v in _rle.toBbox(_bytes_rle(self.rle)))
        return (x, y, w, h)

    @property
    def area(self) -> float:
        return float(_rle.area(_bytes_rle(self.rle)))

    def to_data(self) -> Any:
        return {"size": list(self.size), "counts": self.rle["counts"]}


def _bytes_rle(rle: Mapping[str, Any]) -> dict[str, Any]:
    counts = rle["counts"]
    return {"size": list(rle["size"]), "counts": counts.encode() if isinstance(counts, str) else counts}


def to_compressed_rle(value: Any, name: str = "mask") -> dict[str, Any]:
    """Normalise an array or any COCO RLE form into ``{"size": [h, w], "counts": str}``."""
    if isinstance(value, np.ndarray) or (hasattr(value, "__array__") and not isinstance(value, Mapping)):
        arr = np.asarray(value)
        if arr.ndim != 2:
            raise GeometryError(f"{name}: a mask array must be 2-D, got shape {arr.shape}")
        enc = _rle.encode(np.asfortranarray(arr != 0, dtype=np.uint8))
        return {"size": [int(arr.shape[0]), int(arr.shape[1])], "counts": enc["counts"].decode("ascii")}
    if not isinstance(value, Mapping) or "size" not in value or "counts" not in value:
        raise GeometryError(f"{name}: expected a 2-D array or an RLE dict with 'size' and 'counts'")
    size = value["size"]
    if (
        not isinstance(size, Sequence)
        or len(size) != 2
        or not all(isinstance(s, (int, np.integer)) and s > 0 for s in size)
    ):
        raise GeometryError(f"{name}: RLE size must be [height, width] of positive integers, got {size!r}")
    h, w = int(size[0]), int(size[1])
    counts = value["counts"]
    if isinstance(counts, (list, tuple)):
        if any((not isinstance(c, (int, np.integer))) or c < 0 for c in counts):
            raise GeometryError(f"{name}: RLE counts must be non-negative integers")
        if sum(counts) != h * w:
            raise GeometryError(f"{name}: RLE counts sum to {sum(counts)}, expected h*w = {h * w}")
        enc = _rle.frPyObjects({"size": [h, w], "counts": list(counts)}, h, w)
        return {"size": [h, w], "counts": enc["counts"].decode("ascii")}
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    if not isinstance(counts, str):
        raise GeometryError(f"{name}: RLE counts must be a string or a list of integers")
    try:
        total = int(_rle.area({"size": [h, w], "counts": counts.encode("ascii")}))
    except Exception as exc:  # pycocotools raises bare Exceptions on garbage
        raise GeometryError(f"{name}: RLE counts cannot be decoded ({exc})") from exc
    if total > h * w:
        raise GeometryError(f"{name}: RLE covers {total} pixels, more than the {h}x{w} image")
    return {"size": [h, w], "counts": counts}


def polygon_to_rle(parts: Sequence[Sequence[float]], height: int, width: int) -> dict[str, Any]:
    """Rasterise flat polygon parts into one compressed RLE (COCO's definition of polygon area)."""
    rles = _rle.frPyObjects([list(p) for p in parts], height, width)
    merged = _rle.merge(rles)
    return {"size": [height, width], "counts": merged["counts"].decode("ascii")}


@dataclass
class Tag(_Common):
    """An image-level tag: a value, optionally within a named tag group of the schema."""

    value: str
    group: str | None = None
    kind: ClassVar[Kind] = "tag"

    def __post_init__(self) -> None:
        if not isinstance(self.value, str) or not self.value.strip():
            raise GeometryError("Tag: the value must be a non-empty string")
        self._check_common()

    @property
    def bbox(self) -> BBox:
        return (0.0, 0.0, 0.0, 0.0)

    @property
    def area(self) -> float:
        return 0.0

    def to_data(self) -> Any:
        return {"value": self.value, "group": self.group}


Shape = Box | Polygon | Keypoints | Mask | Tag
SHAPE_CLASSES = (Box, Polygon, Keypoints, Mask, Tag)
SHAPE_TYPES: dict[str, type[Box | Polygon | Keypoints | Mask | Tag]] = {
    "box": Box,
    "polygon": Polygon,
    "keypoints": Keypoints,
    "mask": Mask,
    "tag": Tag,
}


def inside_tolerance(width: int, height: int) -> float:
    """How far (px) a shape may stick out of the image: rounding at the border, not data.

    One rule for imports, the API and the annotator, so a shape accepted once is accepted everywhere.
    """
    return max(2.0, 0.01 * max(width, height))


def check_inside(shape: Shape, width: int, height: int, *, tolerance: float | None = None) -> None:
    """Raise when a shape lies outside a ``width`` x ``height`` image (beyond :func:`inside_tolerance`)."""
    if isinstance(shape, Tag):
        return
    if isinstance(shape, Mask):
        if shape.size != (height, width):
            raise GeometryError(f"{shape._name()}: mask is {shape.size[1]}x{shape.size[0]}, image is {width}x{height}")
        return
    tol = inside_tolerance(width, height) if tolerance is None else tolerance
    x, y, w, h = shape.bbox
    if x < -tol or y < -tol or x + w > width + tol or y + h > height + tol:
        raise GeometryError(
            f"{shape._name()}: extends outside the {width}x{height} image (bbox x={x:g}, y={y:g}, w={w:g}, h={h:g})"
        )


def box_iou(a: NDArray[np.floating[Any]], b: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
    """Pairwise IoU of boxes ``(n, 4)`` and ``(m, 4)`` in ``x, y, w, h`` form, as an ``(n, m)`` array."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    ax1, ay1 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3]
    bx1, by1 = b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax1[:, None], bx1[None]) - np.maximum(a[:, 0, None], b[None, :, 0]), 0, None)
    ih = np.clip(np.minimum(ay1[:, None], by1[None]) - np.maximum(a[:, 1, None], b[None, :, 1]), 0, None)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
