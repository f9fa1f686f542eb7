"""CVAT for images 1.1 XML, read and written.

``<box>`` -> Box, ``<polygon>`` -> Polygon, ``<mask>`` -> Mask (CVAT's run-length code over the mask's
own box), ``<skeleton>`` and ``<points>`` -> Keypoints, ``<tag>`` -> Tag. ``<attribute>`` children become
attributes where the schema defines them, typed by it (the others are dropped with one warning). New
labels are added; skeleton classes take their points (``<label>`` with that ``<parent>``) and edges
(the label's ``<svg>``) from ``<meta>``.

A project export (``<meta><project>`` with several tasks) works too: each image keeps its ``subset``
(as its split, ``p.assets.df.split``) and its task (``p.assets.df.cvat_task``, the task's name); its file
is looked for under ``images/<subset>/`` (``images=`` may be the export's root or its ``images`` folder).
CVAT numbers images per subset and keeps names unique only within one, so a name two subsets use
becomes ``<subset>/<name>``.

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
import html
import math
import warnings
from collections import Counter
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET  # writing only; parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from labnb.errors import GeometryError, ImportProblems
from labnb.formats.common import LabelRegistry
from labnb.formats.export import ExportImage, ExportObject, ExportOptions, export_images, split_images
from labnb.formats.ingest import ImageEntry, ImportPlan, OnError, ingest
from labnb.formats.rle_codecs import cvat_rle_to_mask, mask_to_cvat_rle
from labnb.geometry import Box, Keypoints, Mask, Polygon, Tag
from labnb.schema import Attribute, LabelClass, Schema

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
) -> pd.DataFrame:
    """Import a CVAT for images 1.1 XML file; returns the skipped items (see :func:`~labnb.formats.ingest.ingest`)."""
    plan, registry = read_cvat(path, images=images, source=source, schema=project.schema)
    result = ingest(project, plan, on_error=on_error, progress=progress)
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


# -- export ----------------------------------------------------------------------------------------


def export_cvat(
    project: Project, path: str | Path, *, source: str | Sequence[str] | None, options: ExportOptions
) -> Path:
    """Write a CVAT for images 1.1 XML file: the images, their objects and a ``<meta>`` label list.

    An image without annotations is an ``<image>`` with no shapes unless ``skip_empty``. With a split the
    file is shaped like a CVAT project export: ``<meta><project>`` with one ``<task>`` per split (its
    ``<subset>``), and each ``<image>`` with ``subset`` and ``task_id``, numbered from 0 within its task.
    """
    path = Path(path)
    schema, images = export_images(project, source)
    chosen = split_images(project, images, options)
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    extra: dict[str, set[str]] = {}  # label -> is_crowd / group attributes the objects need
    tag_values: list[str] = []
    skipped = 0
    body = []
    for task_id, (split, imgs) in enumerate(chosen.items(), 1):
        where = {} if split is None else {"subset": split, "task_id": str(task_id)}
        for frame, img in enumerate(imgs):
            size = {"width": str(img.width), "height": str(img.height)}
            image = ET.Element("image", {"id": str(frame), "name": img.file_name, **where, **size})
            group_ids = iter(range(1, 1 << 31))
            for obj in img.objects:
                skipped += not _write_object(image, img, obj, schema, extra, tag_values, group_ids)
            body.append(image)
    sizes = {name: len(imgs) for name, imgs in chosen.items()}
    root.append(_meta(project.name, schema, sizes, extra, tag_values))
    root.extend(body)
    if skipped:
        warnings.warn(f"{skipped} empty mask(s) were left out: CVAT cannot hold an empty mask", stacklevel=4)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _f(value: float) -> str:
    """Shortest exact text of a coordinate: CVAT's own two decimals would move points by up to 0.005 px."""
    return repr(float(value))


def _write_object(
    image: ET.Element,
    img: ExportImage,
    obj: ExportObject,
    schema: Schema,
    extra: dict[str, set[str]],
    tag_values: list[str],
    group_ids: Iterator[int],
) -> bool:
    """Append the element(s) of one object; ``False`` when CVAT cannot hold it (an empty mask)."""
    shape = obj.shape
    attrs = {k: str(v) for k, v in shape.attributes.items()}
    label = str(getattr(shape, "label", ""))
    common = {"label": label, "source": "manual", "occluded": "0", "z_order": "0"}
    elements: list[ET.Element] = []
    if isinstance(shape, Tag):
        if shape.value not in tag_values:
            tag_values.append(shape.value)
        if shape.group is not None:
            attrs[GROUP] = shape.group
            extra.setdefault(shape.value, set()).add(GROUP)
        elements.append(ET.Element("tag", {"label": shape.value, "source": "manual"}))
    elif isinstance(shape, Box):
        corners = {"xtl": shape.x, "ytl": shape.y, "xbr": shape.x + shape.w, "ybr": shape.y + shape.h}
        elements.append(ET.Element("box", {**common, **{k: _f(v) for k, v in corners.items()}}))
    elif isinstance(shape, Polygon):
        group = {"group_id": str(next(group_ids))} if len(shape.parts) > 1 else {}
        for part in shape.parts:
            points = ";".join(f"{_f(x)},{_f(y)}" for x, y in part)
            elements.append(ET.Element("polygon", {**common, "points": points, **group}))
    elif isinstance(shape, Keypoints):
        skeleton = ET.Element("skeleton", {"label": label, "source": "manual", "z_order": "0"})
        for name in schema.get(label).keypoints:
            x, y, v = shape.points.get(name, (0.0, 0.0, 0))
            point = {"label": name, "source": "manual", "points": f"{_f(x)},{_f(y)}"}
            point.update(outside="1" if v == 0 else "0", occluded="1" if v == 1 else "0")
            ET.SubElement(skeleton, "points", point)
        elements.append(skeleton)
    else:
        encoded = mask_to_cvat_rle(shape.to_array())
        if encoded is None:
            return False
        counts, left, top, width, height = encoded
        box = {"left": str(left), "top": str(top), "width": str(width), "height": str(height)}
        rle = ", ".join(map(str, counts))  # CVAT writes ", " between counts and splits on ","
        elements.append(ET.Element("mask", {**common, "rle": rle, **box}))
        if obj.iscrowd:
            attrs[CROWD] = "true"
            extra.setdefault(label, set()).add(CROWD)
    for el in elements:
        for name, value in attrs.items():
            ET.SubElement(el, "attribute", name=name).text = value
        image.append(el)
    return True


def _meta(
    name: str, schema: Schema, sizes: dict[str | None, int], extra: dict[str, set[str]], tag_values: list[str]
) -> ET.Element:
    """``<meta><task>`` (or, with splits, ``<meta><project>`` and a task per split) with the label list CVAT
    and Datumaro read: types, attributes, skeleton parts."""
    meta = ET.Element("meta")
    if list(sizes) == [None]:
        owner = ET.SubElement(meta, "task")
        for key, value in (("name", name), ("size", str(sizes[None])), ("mode", "annotation")):
            ET.SubElement(owner, key).text = value
    else:
        owner = ET.SubElement(meta, "project")
        ET.SubElement(owner, "name").text = name
        tasks = ET.SubElement(owner, "tasks")
        for task_id, (split, size) in enumerate(sizes.items(), 1):
            task = ET.SubElement(tasks, "task")
            fields = (("id", str(task_id)), ("name", f"{name} {split}"), ("size", str(size)), ("mode", "annotation"))
            for key, value in (*fields, ("subset", str(split))):
                ET.SubElement(task, key).text = value
        ET.SubElement(owner, "subsets").text = "\n".join(str(split) for split in sizes)
    labels = ET.SubElement(owner, "labels")
    entries: list[tuple[str, str, LabelClass | None]] = [
        (c.name, "skeleton" if c.keypoints else "any", c) for c in schema.classes
    ]
    entries += [(v, "tag", None) for v in tag_values if v not in schema.names]
    for label, kind, cls in entries:
        el = ET.SubElement(labels, "label")
        ET.SubElement(el, "name").text = label
        if cls is not None and cls.color:
            ET.SubElement(el, "color").text = cls.color
        ET.SubElement(el, "type").text = kind
        attributes = ET.SubElement(el, "attributes")
        for attr in schema.attributes_for(label).values():
            _meta_attribute(attributes, attr.name, INPUT_TYPES[attr.type], attr.options, attr.default)
        for special in sorted(extra.get(label, ())):
            _meta_attribute(attributes, special, "checkbox" if special == CROWD else "text", [], None)
        if cls is not None and cls.keypoints:
            ET.SubElement(el, "svg").text = _skeleton_svg(cls)
            for point in cls.keypoints:
                sub = ET.SubElement(labels, "label")
                ET.SubElement(sub, "name").text = point
                ET.SubElement(sub, "type").text = "points"
                ET.SubElement(sub, "attributes")
                ET.SubElement(sub, "parent").text = cls.name
    return meta


def _meta_attribute(parent: ET.Element, name: str, input_type: str, values: Sequence[str], default: Any) -> None:
    attr = ET.SubElement(parent, "attribute")
    fallback = values[0] if values else ("false" if input_type == "checkbox" else "")
    fields = (
        ("name", name),
        ("mutable", "False"),
        ("input_type", input_type),
        ("default_value", fallback if default is None else str(default)),
        ("values", "\n".join(values) if values else fallback),
    )
    for key, value in fields:
        ET.SubElement(attr, key).text = value


def _skeleton_svg(cls: LabelClass) -> str:
    """A minimal CVAT skeleton drawing: points on a circle (CVAT draws them 0-100), edges as lines."""
    n = len(cls.keypoints)
    at = [(50 + 40 * math.cos(2 * math.pi * i / n), 50 + 40 * math.sin(2 * math.pi * i / n)) for i in range(n)]
    lines = [
        f'<line x1="{at[a][0]:.2f}" y1="{at[a][1]:.2f}" x2="{at[b][0]:.2f}" y2="{at[b][1]:.2f}" '
        f'data-type="edge" data-node-from="{a + 1}" data-node-to="{b + 1}"></line>'
        for a, b in cls.skeleton
    ]
    circles = [
        f'<circle r="1.5" cx="{x:.2f}" cy="{y:.2f}" data-type="element node" data-element-id="{i + 1}" '
        f'data-node-id="{i + 1}" data-label-name="{html.escape(name)}"></circle>'
        for i, (name, (x, y)) in enumerate(zip(cls.keypoints, at, strict=True))
    ]
    return "".join(lines + circles)
