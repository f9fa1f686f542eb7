"""CVAT for images 1.1 XML, read (here) and written (:mod:`labnb.formats.cvat_export`).

``<box>`` -> Box, ``<polygon>`` -> Polygon, ``<mask>`` -> Mask (CVAT's run-length code over the mask's
own box), ``<skeleton>`` and ``<points>`` -> Keypoints, ``<tag>`` -> Tag. ``<attribute>`` children become
attributes where the schema defines them, typed by it (the others are dropped with one warning). New
labels are added; skeleton classes take their points (``<label>`` with that ``<parent>``) and edges
(the label's ``<svg>``) from ``<meta>``.

A project export (``<meta><project>`` with several tasks) works too: each image keeps its ``subset``
(as its split, ``p.assets.df.split``) and its task (``p.assets.df.cvat_task``, the task's name); its file
is looked for under ``images/<subset>/`` (``images=`` may be the export's root or its ``images`` folder).
CVAT numbers images per subset and keeps names unique only within one, so a name two subsets use
becomes ``<subset>/<name>`` (CVAT's name is kept in the asset's meta as ``cvat_name``). Exported with
``split="split"``, such a project goes back as it came: the same tasks, ids, subsets and names.

Decisions:

- ``<polyline>``, ``<ellipse>``, ``<cuboid>`` have no labnb shape: skipped with a warning, the rest
  imports. ``<track>`` ("CVAT for video") is a problem: whole tracks would vanish silently otherwise.
- A rotated box is a problem of its element, never silently straightened.
- CVAT polygons are single rings. Polygons with one label and ``group_id`` are one object (as in
  CVAT's COCO export): read as one multi-part polygon, and that is how the export writes them.
- Crowd masks carry an ``is_crowd`` attribute (CVAT's COCO convention); a tag's group a ``group`` one.
- Skeleton points: ``outside="1"`` is "not labelled" (v=0), ``occluded="1"`` is "hidden" (v=1). A plain
  ``<points>`` maps onto a keypoint class in order; a new class names its points after the label (one
  point) or 1..n, as CVAT numbers skeleton points.
- The export's ``<meta><task><labels>`` has ``skeleton`` labels with ``points`` sublabels (``<parent>``)
  and a minimal ``<svg>`` of lines and circles: CVAT and Datumaro take a skeleton's points and edges
  only from that svg, so without it the skeleton would not survive a re-import.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections import Counter
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET  # element types only; parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from labnb.errors import GeometryError, ImportProblems
from labnb.formats.common import LabelRegistry
from labnb.formats.ingest import ImageEntry, ImportPlan, OnError, ingest
from labnb.formats.rle_codecs import cvat_rle_to_mask
from labnb.geometry import Box, Keypoints, Mask, Polygon, Tag
from labnb.pyramid import Previews
from labnb.schema import Attribute, Schema

if TYPE_CHECKING:
    import pandas as pd

    from labnb.project import Project

UNSUPPORTED = ("polyline", "ellipse", "cuboid")
INPUT_TYPES = {"text": "text", "number": "number", "choice": "select"}
CROWD, GROUP = "is_crowd", "group"


def import_cvat(
    project: Project,
    path: str | Path,
    *,
    images: str | Path | None,
    on_error: OnError,
    source: str,
    progress: bool,
    previews: Previews,
) -> pd.DataFrame:
    """Import a CVAT for images 1.1 XML file; returns the skipped items (see :func:`~labnb.formats.ingest.ingest`)."""
    plan, registry = read_cvat(path, images=images, source=source, schema=project.schema)
    result = ingest(project, plan, on_error=on_error, progress=progress, previews=previews)
    registry.warn_dropped()
    return result


def read_cvat(
    path: str | Path, *, images: str | Path | None, source: str, schema: Schema
) -> tuple[ImportPlan, LabelRegistry]:
    """Parse a CVAT XML file into an :class:`ImportPlan` (nothing is written here)."""
    path = Path(path)
    try:
        root = SafeET.parse(path).getroot()
    except OSError as exc:
        raise ImportProblems(path.name, [(str(path), f"cannot read the file ({exc.strerror})")]) from exc
    except SafeET.ParseError as exc:
        raise ImportProblems(path.name, [(str(path), f"malformed XML: {exc}")]) from exc
    except DefusedXmlException as exc:  # entities, external references: refused, never expanded
        raise ImportProblems(path.name, [(str(path), f"unsafe XML refused: {exc!r}")]) from exc
    if root is None or root.tag != "annotations":
        top = "nothing" if root is None else f"<{root.tag}>"
        raise ImportProblems(path.name, [(str(path), f"expected <annotations> at the top, got {top}")])
    plan = ImportPlan(source=path.name)
    reader = _Reader(plan, LabelRegistry(schema, plan), root.find("meta"), images, source)
    elements = root.findall("image")
    subsets: dict[str, set[str | None]] = {}
    for image in elements:
        subsets.setdefault(image.get("name") or "", set()).add(image.get("subset"))
    reader.shared_names = {name for name, found in subsets.items() if len(found) > 1}
    for index, image in enumerate(elements):
        reader.image(index, image)
    for index, track in enumerate(root.findall("track")):
        plan.problem(f"<track> #{index} ('{track.get('label')}')", "tracks (CVAT for video) are not supported")
    if reader.skipped:
        warnings.warn(f"skipped shapes labnb has no kind for: {dict(reader.skipped)}", stacklevel=4)
    return plan, reader.registry


def _number(el: ET.Element, name: str) -> float:
    raw = el.get(name)
    try:
        return float(raw or "")
    except (TypeError, ValueError):
        raise GeometryError(f"{name}={raw!r} is not a number") from None


def _pairs(el: ET.Element) -> list[tuple[float, float]]:
    """``points="x0,y0;x1,y1"`` as pairs."""
    raw = el.get("points") or ""
    try:
        pairs = [tuple(float(v) for v in p.split(",")) for p in raw.split(";") if p.strip()]
    except ValueError:
        pairs = []
    if not pairs or any(len(p) != 2 for p in pairs):
        raise GeometryError(f"points={raw[:60]!r} is not a list of 'x,y' pairs separated by ';'")
    return pairs  # type: ignore[return-value]


def _skeleton_spec(meta: ET.Element | None) -> dict[str, tuple[list[str], list[tuple[int, int]]]]:
    """Skeleton labels in ``<meta>``: name -> (point names, edges as index pairs)."""
    if meta is None:
        return {}
    labels = [(lab.findtext("name") or "", lab) for lab in meta.iter("label")]
    out = {}
    for name, lab in labels:
        if lab.findtext("type") != "skeleton":
            continue
        points = [n for n, sub in labels if sub.findtext("parent") == name]
        edges: list[tuple[int, int]] = []
        try:
            svg = SafeET.fromstring(f"<svg>{lab.findtext('svg') or ''}</svg>")
        except (SafeET.ParseError, DefusedXmlException):
            svg = None  # no edges rather than no import; the points still come from <parent>
        if svg is not None:
            nodes = {c.get("data-node-id"): c.get("data-label-name") for c in svg.iter("circle")}
            for line in svg.iter("line"):
                a, b = nodes.get(line.get("data-node-from")), nodes.get(line.get("data-node-to"))
                if a in points and b in points:
                    edges.append((points.index(a), points.index(b)))
        out[name] = (points, edges)
    return out


class _Reader:
    def __init__(
        self, plan: ImportPlan, registry: LabelRegistry, meta: ET.Element | None, images: Any, source: str
    ) -> None:
        self.plan, self.registry, self.source = plan, registry, source
        self.folder = Path(images) if images is not None else None
        self.skeletons = _skeleton_spec(meta)
        # a project export's tasks: id -> name (a task export's one <task> has no images naming it)
        tasks = meta.iter("task") if meta is not None else iter(())
        self.tasks = {t.findtext("id"): t.findtext("name") or "" for t in tasks if t.findtext("id")}
        #: Names given to images of more than one subset (CVAT keeps names unique within a subset only).
        self.shared_names: set[str] = set()
        self.skipped: Counter[str] = Counter()
        self.key: Hashable = None  # the <image> being read and its size
        self.size: list[int | None] = [None, None]

    def image(self, index: int, el: ET.Element) -> None:
        name = el.get("name")
        if not name:
            self.plan.problem(f"<image> #{index}", "has no name")
            return
        subset, task = el.get("subset") or None, el.get("task_id") or None
        key = f"id {el.get('id')}" if el.get("id") is not None else f"#{index}"
        if task is not None:  # a project export numbers images per subset: ids repeat across them
            key = f"task {task} {key}"
        elif subset is not None:
            key = f"{subset} {key}"
        self.key = key
        size = self.size = [int(v) if v and v.isdigit() else None for v in (el.get("width"), el.get("height"))]
        meta: dict[str, Any] = {"cvat_id": key}
        if subset is not None:
            meta["split"] = subset
        if task is not None:
            meta["cvat_task_id"] = int(task) if task.isdigit() else task
            meta["cvat_task"] = self.tasks.get(task) or f"task {task}"
        file_name = f"{subset}/{name}" if subset is not None and name in self.shared_names else name
        if file_name != name:
            meta["cvat_name"] = name  # the export writes this name back, within its subset
        path = self._find(name, subset) if self.folder is not None else None
        self.plan.images.append(ImageEntry(key, file_name, path, size[0], size[1], meta=meta))
        seen: Counter[str] = Counter()
        groups: dict[tuple[str, str], tuple[str, list[Any], dict[str, Any]]] = {}
        for child in el:
            tag = str(child.tag)
            item = f"image '{name}' <{tag}> #{seen[tag]}"
            seen[tag] += 1
            label = child.get("label")
            if tag in UNSUPPORTED:
                self.skipped[tag] += 1
            elif not label or not label.strip():
                self.plan.problem(item, "has no label" if not label else f"has an empty label ({label!r})")
            elif tag == "tag":
                group = _raw_attributes(child).get(GROUP) or None
                self.plan.add_shape(key, item, lambda v=label, g=group: Tag(v, group=g), source=self.source)
            elif tag == "skeleton":
                self._skeleton(item, label, child)
            elif tag == "points":
                self._points(item, label, child)
            elif tag in ("box", "polygon", "mask"):
                if self.registry.ensure(label, item) is None:
                    continue
                raw = _raw_attributes(child)
                crowd = raw.pop(CROWD, "false").lower() == "true"
                attrs = self._attributes(label, raw)
                if tag == "polygon" and child.get("group_id", "0") not in ("", "0"):
                    group_key = (label, str(child.get("group_id")))
                    groups.setdefault(group_key, (item, [], attrs))[1].append(child)
                else:
                    self._shape(item, tag, label, child, attrs, crowd)
            else:
                self.plan.problem(item, "is not a CVAT for images element labnb knows")
        for (label, _), (item, parts, attrs) in groups.items():
            self._polygon_parts(item, label, parts, attrs)

    def _find(self, name: str, subset: str | None) -> Path:
        """The image file: a project export keeps it under ``images/<subset>/``, a task export under
        ``images/``; ``images=`` may be that folder or the export's root. CVAT names may keep the
        upload's sub-folders, which the saved files sometimes lose. The first place when none has it."""
        assert self.folder is not None
        places = []
        for base in (self.folder, self.folder / "images"):
            for rel in (Path(name), Path(Path(name).name)):
                places += ([base / subset / rel] if subset is not None else []) + [base / rel]
        return next((p for p in places if p.is_file()), places[0])

    def _polygon_parts(self, item: str, label: str, parts: list[ET.Element], attrs: Any) -> None:
        build = lambda: Polygon([_pairs(c) for c in parts], label=label, attributes=attrs)  # noqa: E731
        self.plan.add_shape(self.key, item, build, source=self.source)

    def _attributes(self, label: str, raw: dict[str, str]) -> dict[str, Any]:
        """Typed by the schema: a number attribute arrives as text in XML."""
        defined = self.registry.schema.attributes_for(label)
        return self.registry.attributes(label, {k: _typed(defined.get(k), v) for k, v in raw.items()})

    def _shape(self, item: str, tag: str, label: str, el: ET.Element, attrs: dict[str, Any], crowd: bool) -> None:
        build: Any
        if tag == "box":
            rotation = el.get("rotation", "0")
            if _is_rotated(rotation):
                self.plan.problem(item, f"is rotated by {rotation} degrees; labnb boxes are axis-aligned")
                return

            def build() -> Box:
                x, y = _number(el, "xtl"), _number(el, "ytl")
                return Box(x, y, _number(el, "xbr") - x, _number(el, "ybr") - y, label=label, attributes=attrs)

        elif tag == "polygon":
            build = lambda: Polygon([_pairs(el)], label=label, attributes=attrs)  # noqa: E731
        else:
            width, height = self.size
            if width is None or height is None:
                self.plan.problem(item, "needs the <image> width and height to place the mask")
                return

            def build() -> Mask:
                left, top, box_w, box_h = (int(_number(el, k)) for k in ("left", "top", "width", "height"))
                try:
                    counts = [int(v) for v in (el.get("rle") or "").split(",")]
                except ValueError:
                    raise GeometryError(f"rle={(el.get('rle') or '')[:40]!r} is not a list of integers") from None
                full = cvat_rle_to_mask(counts, left, top, box_w, box_h, width, height)
                return Mask(full, label=label, iscrowd=crowd, attributes=attrs)

        self.plan.add_shape(self.key, item, build, source=self.source)

    def _skeleton(self, item: str, label: str, el: ET.Element) -> None:
        elements = el.findall("points")
        unnamed = [i for i, p in enumerate(elements) if not (p.get("label") or "").strip()]
        if unnamed:  # the shape's fault, not its class's: name it, and keep the class for the others
            self.plan.problem(item, f"its <points> #{unnamed[0]} has no label (each skeleton point names its part)")
            return
        names = [str(p.get("label")) for p in elements]
        spec_points, spec_edges = self.skeletons.get(label, (names, []))
        cls = self.registry.ensure(label, item, spec_points, spec_edges)
        if cls is None:
            return
        if set(names) - set(cls.keypoints) or len(set(names)) != len(names):
            self.plan.problem(item, f"points {names} do not match the keypoints {cls.keypoints} of class '{label}'")
            return
        attrs = self._attributes(label, _raw_attributes(el))

        def build() -> Keypoints:
            points = {}
            for p in elements:
                if p.get("outside") != "1":
                    (x, y), v = _pairs(p)[0], 1 if p.get("occluded") == "1" else 2
                    points[str(p.get("label"))] = (x, y, v)
            return Keypoints(points, label=label, attributes=attrs)

        self.plan.add_shape(self.key, item, build, source=self.source)

    def _points(self, item: str, label: str, el: ET.Element) -> None:
        try:
            pairs = _pairs(el)
        except GeometryError as exc:
            self.plan.problem(item, str(exc))
            return
        names = [label] if len(pairs) == 1 else [str(i + 1) for i in range(len(pairs))]
        cls = self.registry.ensure(label, item, keypoints=names)
        if cls is None:
            return
        if len(cls.keypoints) != len(pairs):
            have = f"{len(cls.keypoints)} keypoints" if cls.keypoints else "no keypoints"
            self.plan.problem(item, f"has {len(pairs)} point(s) but class '{label}' has {have}")
            return
        if el.get("outside") == "1":
            return  # nothing labelled
        v = 1 if el.get("occluded") == "1" else 2
        points = {n: (x, y, v) for n, (x, y) in zip(cls.keypoints, pairs, strict=True)}
        attrs = self._attributes(label, _raw_attributes(el))
        build = lambda: Keypoints(points, label=label, attributes=attrs)  # noqa: E731
        self.plan.add_shape(self.key, item, build, source=self.source)


def _raw_attributes(el: ET.Element) -> dict[str, str]:
    return {str(a.get("name")): a.text or "" for a in el.findall("attribute")}


def _typed(attr: Attribute | None, text: str) -> Any:
    """XML holds text; a schema number attribute wants a number (bad text is left for ingest to report)."""
    if attr is None or attr.type != "number":
        return text
    with contextlib.suppress(ValueError):
        return int(text) if text.strip().lstrip("+-").isdigit() else float(text)
    return text


def _is_rotated(rotation: str) -> bool:
    try:
        angle = float(rotation)
    except ValueError:
        return True
    return not math.isfinite(angle) or angle % 360 != 0
