"""Writing "CVAT for images 1.1" XML; :mod:`labnb.formats.cvat` (the reader) says how each shape maps and why."""

from __future__ import annotations

import html
import math
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from labnb.formats.cvat import CROWD, GROUP, INPUT_TYPES
from labnb.formats.export import ExportImage, ExportObject, ExportOptions, export_images, split_images
from labnb.formats.rle_codecs import mask_to_cvat_rle
from labnb.geometry import Box, Keypoints, Polygon, Tag
from labnb.schema import LabelClass, Schema

if TYPE_CHECKING:
    from labnb.project import Project


def export_cvat(
    project: Project, path: str | Path, *, source: str | Sequence[str] | None, options: ExportOptions
) -> Path:
    """Write a CVAT for images 1.1 XML file: the images, their objects and a ``<meta>`` label list.

    An image without annotations is an ``<image>`` with no shapes unless ``skip_empty``. With a split the
    file is shaped like a CVAT project export: ``<meta><project>`` with its ``<task>`` elements (each with
    its ``<subset>``), and each ``<image>`` with ``subset`` and ``task_id``, numbered from 0 within its
    subset as CVAT does. The tasks are those the images came from in a CVAT project import (their name
    and id, ``p.assets.df.cvat_task``), so that a project goes back as it came; other images make one
    task per split.
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
    tasks = _tasks(project.name, chosen)
    names: dict[int, str] = {}
    for subset in dict.fromkeys(t.subset for t in tasks):
        names |= _cvat_names([img for t in tasks if t.subset == subset for img in t.images])
    frames: Counter[str | None] = Counter()  # CVAT numbers a project's images per subset, across its tasks
    for task in tasks:
        where = {} if task.subset is None else {"subset": task.subset, "task_id": task.id}
        for img in task.images:
            size = {"width": str(img.width), "height": str(img.height)}
            frame = str(frames[task.subset])
            frames[task.subset] += 1
            image = ET.Element("image", {"id": frame, "name": names[img.asset_id], **where, **size})
            group_ids = iter(range(1, 1 << 31))
            for obj in img.objects:
                skipped += not _write_object(image, img, obj, schema, extra, tag_values, group_ids)
            body.append(image)
    root.append(_meta(project.name, schema, tasks, extra, tag_values))
    root.extend(body)
    if skipped:
        warnings.warn(f"{skipped} empty mask(s) were left out: CVAT cannot hold an empty mask", stacklevel=4)
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return path


@dataclass
class _Task:
    """One ``<task>`` of the export: its CVAT id and name, its subset (``None``: a task export)."""

    id: str
    name: str
    subset: str | None
    images: list[ExportImage]


def _tasks(project_name: str, chosen: dict[str | None, list[ExportImage]]) -> list[_Task]:
    """The export's tasks: without a split one task of every image; with one, per split the CVAT tasks
    its images came from (``meta["cvat_task"]``, ``meta["cvat_task_id"]``) and one "<project> <split>"
    task of the others. A CVAT task whose images now fall in several splits becomes one task per split,
    named "<task> <split>" with new ids (a CVAT task has one subset)."""
    if list(chosen) == [None]:
        return [_Task("1", project_name, None, chosen[None])]
    groups: dict[tuple[str, Any, str | None], list[ExportImage]] = {}
    for split, imgs in chosen.items():
        for img in imgs:
            name = img.meta.get("cvat_task")
            key = (str(split), img.meta.get("cvat_task_id"), name if isinstance(name, str) else None)
            groups.setdefault(key, []).append(img)
    splits_of = Counter((cvat_id, name) for _, cvat_id, name in groups if name is not None)
    kept = [str(cvat_id) for (cvat_id, name), n in splits_of.items() if n == 1 and cvat_id is not None]
    taken = {i for i, n in Counter(kept).items() if n == 1}  # an id two kept tasks claim is given to neither
    fresh = iter(range(max((int(i) for i in taken if i.isdigit()), default=0) + 1, 1 << 31))
    tasks = []
    for (split, cvat_id, name), imgs in groups.items():
        whole = name is not None and splits_of[(cvat_id, name)] == 1
        task_id = str(cvat_id) if whole and str(cvat_id) in taken else str(next(fresh))
        title = name if whole else f"{name or project_name} {split}"
        tasks.append(_Task(task_id, str(title), split, imgs))
    return tasks


def _cvat_names(images: list[ExportImage]) -> dict[int, str]:
    """Each image's ``name`` within one subset: the one CVAT gave it (``meta["cvat_name"]``: a name two
    subsets share, kept as ``<subset>/<name>`` in labnb) where that is unique here, else its file name."""
    wanted = [str(img.meta.get("cvat_name") or img.file_name) for img in images]
    counts = Counter(wanted)
    pairs = zip(images, wanted, strict=True)
    return {img.asset_id: name if counts[name] == 1 else img.file_name for img, name in pairs}


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
    name: str, schema: Schema, tasks: list[_Task], extra: dict[str, set[str]], tag_values: list[str]
) -> ET.Element:
    """``<meta><task>`` (or, with splits, ``<meta><project>`` and its tasks) with the label list CVAT
    and Datumaro read: types, attributes, skeleton parts."""
    meta = ET.Element("meta")
    if [t.subset for t in tasks] == [None]:
        owner = ET.SubElement(meta, "task")
        for key, value in (("name", name), ("size", str(len(tasks[0].images))), ("mode", "annotation")):
            ET.SubElement(owner, key).text = value
    else:
        owner = ET.SubElement(meta, "project")
        ET.SubElement(owner, "name").text = name
        listed = ET.SubElement(owner, "tasks")
        for t in tasks:
            task = ET.SubElement(listed, "task")
            fields = (("id", t.id), ("name", t.name), ("size", str(len(t.images))), ("mode", "annotation"))
            for key, value in (*fields, ("subset", str(t.subset))):
                ET.SubElement(task, key).text = value
        ET.SubElement(owner, "subsets").text = "\n".join(dict.fromkeys(str(t.subset) for t in tasks))
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
