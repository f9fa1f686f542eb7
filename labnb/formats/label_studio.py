"""Label Studio JSON: the task list of Label Studio's "JSON" export, read and written.

``rectanglelabels`` -> Box, ``polygonlabels`` -> Polygon, ``keypointlabels`` -> Keypoints, ``brushlabels``
(``"format": "rle"``) -> Mask, image-level ``choices`` -> a Tag per choice, ``group`` = the control's
``from_name``; coordinates are percentages of ``original_width/height``. Choices, text areas, numbers and
ratings sharing a region's ``id`` (per-region classifications) become the object's attributes where the
schema defines them; the others are dropped with one warning, as a config often has fields labnb lacks.

Where the two tools differ:

- Only ``annotations`` are read (cancelled ones skipped): ``predictions`` need a model name and their
  own source, so they are ignored with a warning. Of several annotations the ``ground_truth`` one, else
  the last, is taken, with a warning: taking all would duplicate objects.
- A rotated rectangle is a problem of its result: straightening it would be silently wrong.
- Label Studio keypoints are single points of no object. They are grouped into one Keypoints only when
  a ``labnb`` entry ``{"object", "label"}`` (written by :func:`export_label_studio`) says so; any other
  point becomes a one-point Keypoints of a class named after its label.
- Polygons are single rings: a multi-part polygon is one result per part sharing ``labnb.object``, read
  back as one polygon; unmarked results stay separate polygons.
- ``labnb`` also carries ``iscrowd`` of masks, ``group: null`` of ungrouped tags and keypoint class
  definitions. Label Studio keeps unknown result keys, but its editor may drop them when a region is
  edited; the fallbacks above then apply.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlparse

import orjson

from labnb.errors import GeometryError, ImportProblems
from labnb.formats.common import LabelRegistry, load_json, stable_ids
from labnb.formats.export import ExportImage, ExportObject, ExportOptions, export_images, split_images
from labnb.formats.ingest import ImageEntry, ImportPlan, OnError, ingest
from labnb.formats.rle_codecs import decode_brush_rle, encode_brush_rle
from labnb.geometry import Box, Keypoints, Mask, Polygon, Tag
from labnb.imaging import probe_file
from labnb.pyramid import Previews
from labnb.schema import LabelClass, Schema

if TYPE_CHECKING:
    import pandas as pd

    from labnb.project import Project

MARK = "labnb"
REGION_TYPES = ("rectanglelabels", "polygonlabels", "keypointlabels", "brushlabels")
#: Per-region classification result types and the key of their value.
ATTRIBUTE_TYPES = {"choices": "choices", "textarea": "text", "number": "number", "rating": "rating"}
#: Control tag names (``from_name``) written for each result type; the image is ``TO_NAME``.
FROM_NAMES = dict(zip(REGION_TYPES, ("label", "polygon", "keypoint", "brush"), strict=True))
TO_NAME = "image"
DEFAULT_TAG_GROUP = "tags"
#: The task ``data`` key holding an image's split (Label Studio shows data keys as Data Manager columns).
SPLIT = "split"
REMOTE_SCHEMES = ("http", "https", "s3", "gs", "azure-blob")
#: Label Studio's upload store prefixes names with 8 hex digits: ``/data/upload/3/1a2b3c4d-cat.jpg``.
_UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(.+)$")


def import_label_studio(
    project: Project,
    path: str | Path,
    *,
    images: str | Path | None,
    on_error: OnError,
    source: str,
    progress: bool,
    previews: Previews,
) -> pd.DataFrame:
    """Import a Label Studio JSON export; returns the skipped items (see :func:`~labnb.formats.ingest.ingest`)."""
    plan, registry = read_label_studio(path, images=images, source=source, schema=project.schema)
    result = ingest(project, plan, on_error=on_error, progress=progress, previews=previews)
    registry.warn_dropped()
    return result


def read_label_studio(
    path: str | Path, *, images: str | Path | None, source: str, schema: Schema
) -> tuple[ImportPlan, LabelRegistry]:
    """Parse a Label Studio export into an :class:`ImportPlan` (nothing is written here)."""
    path = Path(path)
    doc = load_json(path)
    if isinstance(doc, dict) and "data" in doc:
        doc = [doc]
    if not isinstance(doc, list):
        raise ImportProblems(path.name, [(str(path), f"expected a list of tasks, got {type(doc).__name__}")])
    plan = ImportPlan(source=path.name)
    reader = _Reader(plan, LabelRegistry(schema, plan), Path(images) if images is not None else None, source)
    for index, task in enumerate(doc):
        reader.task(index, task)
    if reader.with_predictions:
        warnings.warn(f"predictions of {reader.with_predictions} task(s) were ignored", stacklevel=4)
    if reader.several:
        some = ", ".join(map(str, reader.several[:5])) + (", ..." if len(reader.several) > 5 else "")
        warnings.warn(f"{some}: several annotations; the ground truth, else the last, was taken", stacklevel=4)
    return plan, reader.registry


def image_names(ref: str) -> list[str]:
    """File names a Label Studio image reference may stand for, the literal one first."""
    parsed = urlparse(ref)
    local = parse_qs(parsed.query).get("d")  # local storage: /data/local-files/?d=folder/cat.jpg
    base = PurePosixPath(unquote(local[0] if local else parsed.path)).name
    stripped = _UPLOAD_PREFIX.match(base)
    return [base, stripped.group(1)] if stripped else [base]


def _scaled(points: Any, scale: tuple[float, float]) -> list[tuple[float, float]]:
    """Percent ``[[x, y], ...]`` to pixels; raises on anything but a list of number pairs."""
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise GeometryError(f"points must be a list of [x, y] pairs, got {str(points)[:80]}")
    return [(float(x) * scale[0], float(y) * scale[1]) for x, y in points]


def _mark(r: Mapping[str, Any]) -> dict[str, Any]:
    value = r.get(MARK)
    return value if isinstance(value, dict) else {}


@dataclass
class _Group:
    """Results making one labnb object: the parts of a polygon, the points of one instance."""

    kind: str
    label: str
    item: str
    pieces: list[Any] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    definition: dict[str, Any] = field(default_factory=dict)


class _Reader:
    def __init__(self, plan: ImportPlan, registry: LabelRegistry, folder: Path | None, source: str) -> None:
        self.plan, self.registry, self.folder, self.source = plan, registry, folder, source
        self.with_predictions = 0
        self.several: list[Any] = []
        # the task being read: its key, image size, pixels per percent and grouped results
        self.key: Hashable = None
        self.size, self.scale = (0, 0), (0.0, 0.0)
        self.groups: dict[Any, _Group] = {}

    def task(self, index: int, task: Any) -> None:
        if not isinstance(task, dict):
            self.plan.problem(f"task #{index}", "is not an object")
            return
        name = key = f"task {task['id']}" if isinstance(task.get("id"), (int, str)) else f"task #{index}"
        data: dict[str, Any] = task["data"] if isinstance(task.get("data"), dict) else {}
        strings = [v for k, v in data.items() if isinstance(v, str) and k != SPLIT]
        ref = data["image"] if isinstance(data.get("image"), str) else (strings[0] if len(strings) == 1 else None)
        if ref is None:
            self.plan.problem(name, "has no image reference (expected a string in data.image)")
            return
        self.with_predictions += bool(task.get("predictions"))
        results = self._results(task, key, name)
        names = image_names(ref)
        file_name = next((n for n in names if self.folder and (self.folder / n).is_file()), names[-1])
        path = self.folder / file_name if self.folder is not None else None
        size, info = _task_size(results), None
        if size is None and results and path is not None and path.is_file():
            with contextlib.suppress(ValueError):  # a bad file is reported by ingest
                info = probe_file(path)  # no result says the size, and the percentages need it
                size = (info.width, info.height)
        uri = ref if urlparse(ref).scheme in REMOTE_SCHEMES else None
        width, height = size or (None, None)
        meta = {"label_studio_id": task.get("id"), "label_studio_image": ref}
        if isinstance(data.get(SPLIT), str) and data[SPLIT].strip():
            meta[SPLIT] = data[SPLIT]
        self.plan.images.append(ImageEntry(key, file_name, path, width, height, uri=uri, meta=meta, info=info))
        self._read_results(key, name, results, size)

    def _results(self, task: dict[str, Any], key: Any, name: str) -> list[Any]:
        anns = task.get("annotations", task.get("completions")) or []  # "completions": Label Studio < 1.0
        if not isinstance(anns, list):
            self.plan.problem(name, "'annotations' must be a list")
            return []
        usable = [a for a in anns if isinstance(a, dict) and not a.get("was_cancelled")]
        if not usable:
            return []
        if len(usable) > 1:
            self.several.append(key)
        chosen = next((a for a in usable if a.get("ground_truth")), usable[-1])
        results = chosen.get("result") or []
        if not isinstance(results, list):
            self.plan.problem(f"{name} annotation {chosen.get('id')}", "'result' must be a list")
            return []
        return results

    def _read_results(self, key: Hashable, name: str, results: list[Any], size: tuple[int, int] | None) -> None:
        regions = {r.get("id") for r in results if isinstance(r, dict) and r.get("type") in REGION_TYPES}
        per_region: dict[Any, dict[str, Any]] = {}
        for r in results:
            if isinstance(r, dict) and r.get("id") in regions and r.get("type") in ATTRIBUTE_TYPES:
                per_region.setdefault(r["id"], {})[str(r.get("from_name"))] = _attribute_value(r)
        self.key, self.groups = key, {}
        if size is not None:
            self.size, self.scale = size, (size[0] / 100.0, size[1] / 100.0)
        for j, r in enumerate(results):
            rid = r.get("id", f"#{j}") if isinstance(r, dict) else f"#{j}"
            item = f"{name} result '{rid}'"
            if not isinstance(r, dict):
                self.plan.problem(item, "is not an object")
                continue
            kind, value = r.get("type"), r.get("value")
            if kind in ATTRIBUTE_TYPES and rid in regions:
                continue  # read above as an attribute of its region
            if not isinstance(value, dict):
                self.plan.problem(item, "has no 'value' object")
            elif kind == "choices":
                self._tags(key, item, r, value)
            elif kind not in REGION_TYPES:
                supported = ", ".join(REGION_TYPES)
                self.plan.problem(item, f"unsupported result type {kind!r}; labnb reads {supported} and choices")
            elif size is None:
                self.plan.problem(item, "has no original_width/original_height and the image size is unknown")
            elif (own := (r.get("original_width"), r.get("original_height"))) != size and None not in own:
                self.plan.problem(item, f"original size {own[0]}x{own[1]} differs from the task's {size[0]}x{size[1]}")
            else:
                self._region(item, r, value, per_region.get(rid, {}))
        for group in self.groups.values():
            self._finish(group)

    def _tags(self, key: Hashable, item: str, r: dict[str, Any], value: dict[str, Any]) -> None:
        mark = _mark(r)
        group = mark["group"] if "group" in mark else r.get("from_name")
        choices = value.get("choices")
        if not isinstance(choices, list):
            self.plan.problem(item, "value.choices must be a list")
            return
        for c in choices:
            self.plan.add_shape(key, item, lambda c=c: Tag(c, group=group), source=self.source)

    def _region(self, item: str, r: dict[str, Any], value: dict[str, Any], attrs: dict[str, Any]) -> None:
        kind: str = r["type"]
        labels = value.get(kind)
        if not (isinstance(labels, list) and len(labels) == 1 and isinstance(labels[0], str)):
            self.plan.problem(item, f"needs exactly one label in value.{kind}, got {labels!r}")
            return
        label, mark = labels[0], _mark(r)
        if kind == "keypointlabels":
            self._point(item, label, value, mark, attrs)
            return
        if self.registry.ensure(label, item) is None:
            return
        if kind == "polygonlabels" and "object" in mark:
            self._join(mark, "polygon", label, item, attrs).pieces.append(value.get("points"))
            return
        at, scale = self.registry.attributes(label, attrs), self.scale
        build: Any
        if kind == "rectanglelabels":
            rotation = value.get("rotation") or 0
            if not isinstance(rotation, (int, float)) or rotation % 360:
                self.plan.problem(item, f"is rotated by {rotation!r} degrees; labnb boxes are axis-aligned")
                return
            xywh = [value.get(k) for k in ("x", "y", "width", "height")]
            if not all(isinstance(v, (int, float)) for v in xywh):
                self.plan.problem(item, f"x, y, width and height must be numbers, got {xywh!r}")
                return
            corner, extent = _scaled([xywh[:2], xywh[2:]], scale)
            build = lambda: Box(*corner, *extent, label=label, attributes=at)  # noqa: E731
        elif kind == "polygonlabels":
            build = lambda: Polygon([_scaled(value.get("points"), scale)], label=label, attributes=at)  # noqa: E731
        elif value.get("format") != "rle" or not isinstance(value.get("rle"), list):
            self.plan.problem(item, f"brush format {value.get('format')!r} is not supported (labnb reads 'rle')")
            return
        else:
            size, crowd = self.size, bool(mark.get("iscrowd"))
            build = lambda: Mask(decode_brush_rle(value["rle"], *size), label=label, iscrowd=crowd, attributes=at)  # noqa: E731
        self.plan.add_shape(self.key, item, build, source=self.source)

    def _point(self, item: str, label: str, value: dict[str, Any], mark: dict[str, Any], attrs: dict[str, Any]) -> None:
        xy = [value.get("x"), value.get("y")]
        if not all(isinstance(v, (int, float)) for v in xy):
            self.plan.problem(item, f"value.x and value.y must be numbers, got {xy!r}")
            return
        (x, y), v = _scaled([xy], self.scale)[0], 1 if value.get("hidden") else 2
        if "object" in mark and isinstance(mark.get("label"), str):
            group = self._join(mark, "keypoints", mark["label"], item, attrs)
            group.pieces.append((label, (x, y, v)))
            group.definition.update({k: mark[k] for k in ("keypoints", "skeleton") if k in mark})
            return
        cls = self.registry.ensure(label, item, keypoints=[label])
        if cls is None:
            return
        if len(cls.keypoints) != 1:
            have = f"keypoints {cls.keypoints}" if cls.keypoints else "no keypoints"
            self.plan.problem(item, f"label '{label}' has {have}; an ungrouped Label Studio point needs exactly one")
            return
        at = self.registry.attributes(label, attrs)
        build = lambda: Keypoints({cls.keypoints[0]: (x, y, v)}, label=label, attributes=at)  # noqa: E731
        self.plan.add_shape(self.key, item, build, source=self.source)

    def _join(self, mark: dict[str, Any], kind: str, label: str, item: str, attrs: dict[str, Any]) -> _Group:
        group = self.groups.setdefault((kind, str(mark["object"])), _Group(kind, label, item))
        group.attributes.update(attrs)
        return group

    def _finish(self, group: _Group) -> None:
        build: Any
        if group.kind == "polygon":
            at = self.registry.attributes(group.label, group.attributes)
            parts, scale = group.pieces, self.scale
            build = lambda: Polygon([_scaled(p, scale) for p in parts], label=group.label, attributes=at)  # noqa: E731
            self.plan.add_shape(self.key, group.item, build, source=self.source)
            return
        names = [n for n, _ in group.pieces]
        spec = group.definition
        cls = self.registry.ensure(group.label, group.item, spec.get("keypoints", names), spec.get("skeleton", ()))
        if cls is None:
            return
        if set(names) - set(cls.keypoints) or len(set(names)) != len(names):
            self.plan.problem(
                group.item, f"points {names} do not match the keypoints {cls.keypoints} of class '{group.label}'"
            )
            return
        at = self.registry.attributes(group.label, group.attributes)
        points = dict(group.pieces)
        build = lambda: Keypoints(points, label=group.label, attributes=at)  # noqa: E731
        self.plan.add_shape(self.key, group.item, build, source=self.source)


def _task_size(results: list[Any]) -> tuple[int, int] | None:
    sizes = [(r.get("original_width"), r.get("original_height")) for r in results if isinstance(r, dict)]
    return next(((w, h) for w, h in sizes if isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0), None)


def _attribute_value(r: dict[str, Any]) -> Any:
    value = r.get("value") if isinstance(r.get("value"), dict) else {}
    got = value.get(ATTRIBUTE_TYPES[str(r.get("type"))])  # type: ignore[union-attr]
    if isinstance(got, list) and len(got) == 1:
        return got[0]
    if isinstance(got, list) and r.get("type") == "textarea":
        return "\n".join(map(str, got))
    return got


# -- export ----------------------------------------------------------------------------------------


def export_label_studio(
    project: Project, path: str | Path, *, source: str | Sequence[str] | None, options: ExportOptions
) -> Path:
    """Write a Label Studio JSON task list: one task per image, one annotation holding every object.

    Images without objects get no annotation, so Label Studio shows them as not yet labelled (unless
    ``skip_empty`` leaves them out). Label Studio has no splits: a split is written as each task's
    ``data.split``, a column of its Data Manager to filter by, and read back into the image's split.
    """
    path = Path(path)
    schema, all_images = export_images(project, source)
    chosen = split_images(project, all_images, options)
    split_of = {img.asset_id: name for name, imgs in chosen.items() for img in imgs}
    images = [img for imgs in chosen.values() for img in imgs]
    images.sort(key=lambda img: img.asset_id)
    classes = {c.name: c for c in schema.classes}
    attr_types: dict[str, str] = {a.name: a.type for a in schema.attributes}
    ids = stable_ids([i.asset_id for i in images], {i.asset_id: i.meta.get("label_studio_id") for i in images})
    tasks = []
    for img in images:
        results: list[dict[str, Any]] = []
        tags: dict[str | None, list[str]] = {}
        for obj in img.objects:
            if isinstance(obj.shape, Tag):
                tags.setdefault(obj.shape.group, []).append(obj.shape.value)
            else:
                results += _region_results(img, obj, classes, attr_types)
        for group, values in tags.items():
            tag: dict[str, Any] = {"id": f"tags-{len(results)}", "type": "choices", "to_name": TO_NAME}
            tag.update({"from_name": group or DEFAULT_TAG_GROUP, "value": {"choices": values}})
            results.append({**tag, MARK: {"group": None}} if group is None else tag)
        tid = ids[img.asset_id]
        annotation = {"id": tid, "result": results, "was_cancelled": False, "ground_truth": False}
        data = {"image": _image_ref(img)}
        if split_of[img.asset_id] is not None:
            data[SPLIT] = str(split_of[img.asset_id])
        tasks.append({"id": tid, "data": data, "annotations": [annotation] if results else [], "predictions": []})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(tasks))
    return path


def _image_ref(img: ExportImage) -> str:
    """The original Label Studio reference when the image came from there, else a URL or the file name."""
    kept = img.meta.get("label_studio_image")
    if isinstance(kept, str):
        return kept
    return img.uri if urlparse(img.uri).scheme in REMOTE_SCHEMES else img.file_name


def _region_results(
    img: ExportImage, obj: ExportObject, classes: dict[str, LabelClass], attr_types: dict[str, str]
) -> list[dict[str, Any]]:
    """The results of one object: its region(s), then its attributes as per-region results."""
    shape, rid = obj.shape, f"lb{obj.shape.id}"
    label = str(getattr(shape, "label", ""))
    px, py = 100.0 / img.width, 100.0 / img.height
    regions: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (type, value, labnb mark)
    if isinstance(shape, Box):
        box = {"x": shape.x * px, "y": shape.y * py, "width": shape.w * px, "height": shape.h * py, "rotation": 0}
        regions.append(("rectanglelabels", {**box, "rectanglelabels": [label]}, {}))
    elif isinstance(shape, Polygon):
        mark = {"object": rid} if len(shape.parts) > 1 else {}
        for part in shape.parts:
            points = [[float(x) * px, float(y) * py] for x, y in part]
            regions.append(("polygonlabels", {"points": points, "closed": True, "polygonlabels": [label]}, mark))
    elif isinstance(shape, Keypoints):
        cls = classes[label]
        spec = {"keypoints": list(cls.keypoints), "skeleton": [list(e) for e in cls.skeleton]}
        for k, (name, (x, y, v)) in enumerate(shape.labelled().items()):
            point: dict[str, Any] = {"x": x * px, "y": y * py, "width": 0.5, "keypointlabels": [name]}
            if v == 1:
                point["hidden"] = True  # COCO "labelled but not visible", as label-studio-converter writes it
            regions.append(("keypointlabels", point, {"object": rid, "label": label, **(spec if k == 0 else {})}))
    elif isinstance(shape, Mask):
        brush = {"format": "rle", "rle": encode_brush_rle(shape.to_array()), "brushlabels": [label]}
        regions.append(("brushlabels", brush, {"iscrowd": True} if obj.iscrowd else {}))
    out: list[dict[str, Any]] = []
    for k, (kind, value, mark) in enumerate(regions):
        result: dict[str, Any] = {"id": rid if k == 0 else f"{rid}-{k}", "type": kind, "to_name": TO_NAME}
        result.update({"from_name": FROM_NAMES[kind], "original_width": img.width, "original_height": img.height})
        result.update({"image_rotation": 0, "value": value})
        out.append({**result, MARK: mark} if mark else result)
    for name, v in shape.attributes.items() if regions else ():  # with no region they would read as tags
        kind = {"choice": "choices", "number": "number"}.get(attr_types.get(name, ""), "textarea")
        wrapped = v if kind == "number" else [v if kind == "choices" else str(v)]
        value = {ATTRIBUTE_TYPES[kind]: wrapped}
        out.append({"id": rid, "type": kind, "from_name": name, "to_name": TO_NAME, "value": value})
    return out
