"""COCO JSON: boxes, polygons (multi-part), RLE masks (crowd or not), keypoints, image tags.

What a COCO user expects to survive a round trip does: category ids and supercategories, image ids
and licence/attribution fields, each object's ``bbox`` and ``area`` exactly as the file gave them
(COCO's area is of the rasterised polygon, not its shoelace area), crowd RLE masks. A COCO object
with both keypoints and a segmentation becomes two labnb shapes (keypoints carry the object's box).
Exports give every object a ``segmentation``, so that ``annToMask`` works on each: a box, and an
object that is only keypoints, is written as its box's rectangle (a 4-corner polygon) and marked
``"labnb_kind": "box"`` (or ``"keypoints"``). The importer reads such a marked rectangle back as a box
(or as nothing beside the keypoints); an unmarked one, as another tool writes a rectangular region, stays
the polygon it is. The mark is per object, not in ``info``, so that it survives files being merged.
Labnb extras that COCO readers ignore: image ``tags``, annotation ``attributes``, ``track_id``, ``score``,
``labnb_kind``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from labnb.errors import ImportProblems
from labnb.formats.common import LabelRegistry, load_json, stable_ids
from labnb.formats.export import ExportOptions, split_assets, split_file
from labnb.formats.ingest import ImageEntry, ImportPlan, OnError, Row, ingest
from labnb.geometry import Box, Keypoints, Mask, Polygon, Tag
from labnb.pyramid import Previews
from labnb.schema import Schema

if TYPE_CHECKING:
    import pandas as pd

    from labnb.project import Project

IMAGE_META_KEYS = ("license", "flickr_url", "coco_url", "date_captured")
#: The tag group of image-level labels (an annotation with a category and no geometry), unless the
#: project already has a group offering that category.
LABELS_GROUP = "labels"


def _need_list(doc: Mapping[str, Any], key: str, source: str) -> list[Any]:
    value = doc.get(key)
    if not isinstance(value, list):
        raise ImportProblems(source, [(source, f"'{key}' must be a list, got {type(value).__name__}")])
    return value


_NUMBER = frozenset((int, float))
#: The annotation key by which an export marks the rectangle it wrote as the segmentation of a box
#: (``"box"``) or of keypoints (``"keypoints"``). pycocotools and other COCO readers ignore it.
KIND_KEY = "labnb_kind"


def box_outline(x: float, y: float, w: float, h: float) -> list[list[float]]:
    """A box's rectangle as a one-part COCO polygon, corners clockwise from the top left.

    COCO has no box-only objects: pycocotools' ``annToMask`` (and every segmentation tool built on it)
    needs a ``segmentation``, so exports write a box, and an object that is only keypoints, as its box's
    rectangle, marked with :data:`KIND_KEY`. :func:`written_outline` recognises it on import, so the
    object comes back as it was.
    """
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


def is_box_outline(seg: Any, bbox: tuple[float, float, float, float] | None) -> bool:
    """``seg`` is exactly the rectangle of ``bbox`` (any corner order): the box written as a polygon."""
    if bbox is None or type(seg) is not list or len(seg) != 1 or type(seg[0]) is not list or len(seg[0]) != 8:
        return False
    flat, (x, y, w, h) = seg[0], bbox
    if flat[0] not in (x, x + w) or flat[1] not in (y, y + h):  # a traced outline fails here, cheaply
        return False
    want = box_outline(x, y, w, h)[0]
    corners = set(zip(want[::2], want[1::2], strict=True))
    return flat == want or (len(corners) == 4 and set(zip(flat[::2], flat[1::2], strict=True)) == corners)


def written_outline(ann: Mapping[str, Any], kind: str, bbox: tuple[float, float, float, float] | None) -> bool:
    """``ann``'s segmentation is the rectangle a labnb export wrote for a ``kind`` object (box, keypoints).

    The mark is what decides: a rectangular region another tool drew (a window, a page, a sign) has the
    same geometry, and it must stay the polygon it is, with vertex handles, not become a box.
    """
    return ann.get(KIND_KEY) == kind and is_box_outline(ann.get("segmentation"), bbox)


def _finite_bbox(value: Any) -> tuple[float, float, float, float] | None:
    """``(x, y, w, h)`` when ``value`` is 4 finite numbers with non-negative size, else ``None``."""
    if type(value) is not list or len(value) != 4:
        return None
    x, y, w, h = value
    if type(x) not in _NUMBER or type(y) not in _NUMBER or type(w) not in _NUMBER or type(h) not in _NUMBER:
        return None
    # a NaN or infinity anywhere makes the sum non-finite: one test instead of four
    if w < 0 or h < 0 or not math.isfinite(x + y + w + h):
        return None
    return x, y, w, h


def read_coco(
    path: str | Path, *, images: str | Path | None, source: str, schema: Schema
) -> tuple[ImportPlan, LabelRegistry]:
    """Parse a COCO file into an :class:`ImportPlan` (nothing is written here)."""
    path = Path(path)
    doc = load_json(path)
    plan = ImportPlan(source=path.name)
    if not isinstance(doc, dict):
        raise ImportProblems(path.name, [(path.name, f"the top level must be an object, got {type(doc).__name__}")])
    imgs, anns, cats = (_need_list(doc, k, path.name) for k in ("images", "annotations", "categories"))
    if any(isinstance(a, dict) and "segments_info" in a for a in anns[:100]):
        message = (
            "is a COCO panoptic file (segments_info with PNG masks), which labnb does not read; convert it to "
            "instances first (panopticapi's converters/panoptic2detection_coco_format.py) and import that"
        )
        raise ImportProblems(path.name, [(path.name, message)])

    registry = LabelRegistry(schema, plan)
    categories: dict[Any, dict[str, Any]] = {}
    unusable: set[Any] = set()
    for i, cat in enumerate(cats):
        if not isinstance(cat, dict) or "id" not in cat or not isinstance(cat.get("name"), str):
            plan.problem(f"category #{i}", "needs an 'id' and a string 'name'")
            continue
        if cat["id"] in categories:
            plan.problem(f"category {cat['id']}", "category id listed twice")
            continue
        categories[cat["id"]] = cat
    # "keypoints": [] (Datumaro): the objects say how many points there are
    counts = _points_per_object(anns, {cid for cid, c in categories.items() if c.get("keypoints") == []})
    keypoint_names: dict[Any, list[str]] = {}
    for cid, cat in categories.items():
        item = f"category {cid} ({cat['name']!r})"
        try:
            points, skeleton = _point_spec(cat, counts.get(cid, 0))
        except (TypeError, ValueError):
            plan.problem(item, "keypoints must be a list of names and skeleton a list of [a, b] pairs")
            unusable.add(cid)
            continue
        cls = registry.ensure(cat["name"], item, points, skeleton)
        if cls is None:
            unusable.add(cid)
            continue
        # the file's point names, else the class's: Datumaro writes "keypoints": [] for a project's skeletons
        keypoint_names[cid] = list(cat.get("keypoints") or []) or list(cls.keypoints)
    names = {cid: c["name"] for cid, c in categories.items()}
    plan.format_settings["coco"] = _carried_settings(doc)

    folder = Path(images) if images is not None else None
    as_tag: set[Any] = set()
    for i, img in enumerate(imgs):
        if not isinstance(img, dict) or "id" not in img or not isinstance(img.get("file_name"), str):
            plan.problem(f"image #{i}", "needs an 'id' and a 'file_name'")
            continue
        meta = {k: img[k] for k in IMAGE_META_KEYS if k in img}
        meta["coco_id"] = img["id"]
        plan.images.append(
            ImageEntry(
                key=img["id"],
                file_name=img["file_name"],
                path=folder / img["file_name"] if folder is not None else None,
                width=img.get("width"),
                height=img.get("height"),
                uri=img.get("coco_url"),
                meta=meta,
            )
        )
        for t, tag in enumerate(img.get("tags") or []):
            value, group = (tag.get("value"), tag.get("group")) if isinstance(tag, dict) else (tag, None)
            plan.add_shape(
                img["id"],
                f"image {img['id']} tag #{t}",
                lambda v=value, g=group: Tag(v, group=g),
                source=source,
            )

    for i, ann in enumerate(anns):
        if not isinstance(ann, dict):
            plan.problem(f"annotation #{i}", "is not an object")
            continue
        aid = ann.get("id")
        item = f"annotation {aid}" if aid is not None else f"annotation #{i}"
        cid = ann.get("category_id")
        if cid not in names:
            plan.problem(item, f"unknown category id {cid!r} (not in 'categories')")
            continue
        if cid in unusable:
            plan.problem(item, f"its category {cid!r} cannot be used (see that category's problem)")
            continue
        if "image_id" not in ann:
            plan.problem(item, "has no image_id")
            continue
        if ann.get("bbox") is None and _is_image_label(ann):  # the cheap test first: most objects have a bbox
            value, image = names[cid], ann["image_id"]
            group = registry.tag_group(value, LABELS_GROUP)
            plan.add_shape(image, item, lambda v=value, g=group: Tag(v, group=g), source=source)
            as_tag.add(cid)
            continue
        _read_annotation(plan, registry, ann, item, names[cid], keypoint_names[cid], source)
    if as_tag:  # a category used only as an image label is a tag option, not also a class to draw
        drawn = {a.get("category_id") for a in anns if type(a) is dict and not _is_image_label(a)}
        tag_only = {names[cid] for cid in as_tag - drawn} - set(schema.names)
        plan.new_labels = [c for c in plan.new_labels if c.name not in tag_only]
    return plan, registry


def _is_image_label(ann: dict[str, Any]) -> bool:
    """A category and no geometry: an image-level label (Datumaro's COCO "labels" task)."""
    return not ann.get("segmentation") and not ann.get("keypoints") and ann.get("bbox") is None


def _points_per_object(anns: list[Any], cids: set[Any]) -> dict[Any, int]:
    """For categories whose file lists no point names: how many points their objects have (the most
    common length of ``keypoints`` / 3), so that the points can be named ``0 .. n-1``."""
    if not cids:
        return {}
    lengths: dict[Any, Counter[int]] = {}
    for ann in anns:
        kps = ann.get("keypoints") if type(ann) is dict else None  # None for nearly every instance object
        if kps and type(kps) is list and len(kps) % 3 == 0 and ann.get("category_id") in cids:
            lengths.setdefault(ann["category_id"], Counter())[len(kps) // 3] += 1
    return {cid: c.most_common(1)[0][0] for cid, c in lengths.items()}


def _point_spec(cat: dict[str, Any], count: int) -> tuple[list[str], list[tuple[int, int]]]:
    """A category's point names and 0-based skeleton; raises ``TypeError``/``ValueError`` when malformed.

    Without names the points are ``"0" .. "n-1"`` (``count`` from the objects). COCO numbers skeleton
    points from 1; a skeleton holding a 0 is 0-based, as Datumaro writes one for points without names.
    A skeleton of a category that has no points at all is left out: it joins nothing.
    """
    names = [str(n) for n in cat.get("keypoints") or []] or [str(i) for i in range(count)]
    pairs = [(int(a), int(b)) for a, b in cat.get("skeleton") or []]
    if not names:
        return [], []
    base = 0 if any(0 in pair for pair in pairs) else 1
    return names, [(a - base, b - base) for a, b in pairs]


_NUMBERS_ONLY = re.compile(r"^\[\[[0-9eE+\-.,\[\]]*\]\]$")


def _polygon_json(seg: Any) -> str | None:
    """The stored JSON of a COCO polygon list when it is plainly valid, else ``None`` (slow path).

    Valid: a list of parts, each a list of at least 3 (x, y) pairs. Checking the JSON text for
    anything but digits and list punctuation rejects strings, nulls, booleans and non-finite values
    (which serialise as null) at C speed, instead of testing millions of coordinates in Python.
    """
    if not isinstance(seg, list) or not seg:
        return None
    for part in seg:
        if type(part) is not list or len(part) < 6 or len(part) % 2:
            return None
    text = orjson.dumps(seg).decode()
    return text if _NUMBERS_ONLY.match(text) else None


def _read_annotation(
    plan: ImportPlan,
    registry: LabelRegistry,
    ann: dict[str, Any],
    item: str,
    label: str,
    kp_names: list[str],
    source: str,
) -> None:
    image = ann["image_id"]
    raw_bbox = ann.get("bbox")
    bbox = _finite_bbox(raw_bbox)
    area = ann.get("area")
    area = float(area) if isinstance(area, (int, float)) and math.isfinite(area) and area >= 0 else None
    seg = ann.get("segmentation")
    common: dict[str, Any] = {"label": label, "track_id": ann.get("track_id"), "score": ann.get("score")}
    if isinstance(ann.get("attributes"), dict):
        kept = registry.attributes(label, ann["attributes"])
        if kept:
            common["attributes"] = kept
    kw: dict[str, Any] = {"source": source}
    kps = ann.get("keypoints")
    if kps is not None and not isinstance(kps, list):
        plan.problem(item, f"keypoints must be a flat list [x, y, v, ...], got {type(kps).__name__}")
        return
    has_kps = bool(kps) and any(isinstance(v, (int, float)) and v > 0 for v in (kps or [])[2::3])
    if has_kps and not kp_names:
        plan.problem(item, f"has labelled keypoints, but class '{label}' has no keypoints to hold them")
        return
    if not has_kps and bbox is not None and len(common) == 3 and common["track_id"] is None and common["score"] is None:
        # Fast path for the bulk of real files: plain boxes and polygons, stored without building shapes.
        if (not seg or written_outline(ann, "box", bbox)) and bbox[2] > 0 and bbox[3] > 0:
            x, y, w, h = bbox
            plan.rows.append(
                Row(
                    image,
                    item,
                    label,
                    "box",
                    None,
                    x,
                    y,
                    w,
                    h,
                    w * h if area is None else area,
                    False,
                    None,
                    None,
                    None,
                    source,
                )
            )
            return
        text = _polygon_json(seg) if area is not None else None
        if text is not None and area is not None:
            plan.rows.append(Row(image, item, label, "polygon", text, *bbox, area, False, None, None, None, source))
            return
    if has_kps:
        plan.add_shape(image, item, lambda: Keypoints.from_flat(ann["keypoints"], kp_names, **common), bbox=bbox, **kw)
        if written_outline(ann, "keypoints", bbox):
            return  # the rectangle an export writes for segmentation tools, not a second object
    if isinstance(seg, dict):
        plan.add_shape(
            image, item, lambda: Mask(seg, iscrowd=bool(ann.get("iscrowd", 0)), **common), area=area, bbox=bbox, **kw
        )
    elif isinstance(seg, list) and seg:
        if bbox is None and raw_bbox is not None:
            plan.problem(item, f"bbox must be 4 finite numbers with non-negative size, got {raw_bbox!r}")
            return
        if bbox is not None and written_outline(ann, "box", bbox):
            plan.add_shape(image, item, lambda: Box(*bbox, **common), area=area, **kw)
            return
        plan.add_shape(image, item, lambda: Polygon(seg, **common), area=area, bbox=bbox, **kw)
    elif not has_kps:
        if raw_bbox is None:
            plan.problem(item, "has neither a segmentation nor a bbox")
            return
        if not isinstance(raw_bbox, Sequence) or len(raw_bbox) != 4:
            plan.problem(item, f"bbox must be [x, y, width, height], got {raw_bbox!r}")
            return
        plan.add_shape(image, item, lambda: Box(*raw_bbox, **common), area=area, **kw)


def import_coco(
    project: Project,
    path: str | Path,
    *,
    images: str | Path | None,
    on_error: OnError,
    source: str,
    progress: bool,
    previews: Previews,
) -> pd.DataFrame:
    plan, registry = read_coco(path, images=images, source=source, schema=project.schema)
    result = ingest(project, plan, on_error=on_error, progress=progress, previews=previews)
    registry.warn_dropped()
    return result


def _carried_settings(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Category ids/supercategories and licences to carry to the export (attribution matters)."""
    cats = {
        c["name"]: {"id": c["id"], "supercategory": c.get("supercategory")}
        for c in doc.get("categories", [])
        if isinstance(c, dict) and "name" in c and "id" in c
    }
    out: dict[str, Any] = {"categories": cats}
    if isinstance(doc.get("licenses"), list):
        out["licenses"] = doc["licenses"]
    if isinstance(doc.get("info"), dict):
        out["info"] = doc["info"]
    return out


def export_coco(
    project: Project, path: str | Path, *, source: str | Sequence[str] | None, options: ExportOptions
) -> Path | dict[str, Path]:
    """Write COCO JSON that pycocotools loads; returns its path.

    Images without annotations are listed with none (background images) unless ``skip_empty``. With a
    ``split``, one file per split beside ``path`` (``out.json`` -> ``out_train.json``, ``out_val.json``), with
    the same category and image ids in each, and a ``{split: path}`` mapping is returned.
    """
    path = Path(path)
    sources = [source] if isinstance(source, str) else source
    asset_rows, rows = project._export_rows(sources)
    chosen = split_assets(project, [(a.id, a.file_name) for a in asset_rows], {r.asset_id for r in rows}, options)
    path.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for split, ids in chosen.items():
        doc = _document(project, asset_rows, rows, keep=set(ids) if len(ids) < len(asset_rows) else None)
        target = path if split is None else split_file(path, split)
        target.write_bytes(orjson.dumps(doc))
        written[str(split)] = target
    return path if options.split is None else written


def coco_document(project: Project, *, source: str | Sequence[str] | None = None) -> dict[str, Any]:
    """The project's images and annotations as one COCO document (a dict, not written anywhere)."""
    return _document(project, *project._export_rows([source] if isinstance(source, str) else source))


def _document(
    project: Project, asset_rows: Sequence[Any], rows: Sequence[Any], keep: set[int] | None = None
) -> dict[str, Any]:
    """The document of the assets in ``keep`` (default all); image ids are numbered over all of them,
    so that every split's file gives an image the same id."""
    saved = project._format_settings("coco")
    schema = project.schema
    cat_ids = stable_ids([c.name for c in schema.classes], {n: v["id"] for n, v in saved.get("categories", {}).items()})
    categories = []
    for c in schema.classes:
        entry: dict[str, Any] = {"id": cat_ids[c.name], "name": c.name}
        sup = saved.get("categories", {}).get(c.name, {}).get("supercategory")
        if sup is not None:
            entry["supercategory"] = sup
        if c.keypoints:
            entry["keypoints"] = list(c.keypoints)
            entry["skeleton"] = [[a + 1, b + 1] for a, b in c.skeleton]
        categories.append(entry)
    by_class_id = {c.id: c for c in schema.classes}
    metas = {a.id: orjson.loads(a.meta) if a.meta else {} for a in asset_rows}
    image_ids = stable_ids([a.id for a in asset_rows], {aid: m.get("coco_id") for aid, m in metas.items()})
    if keep is not None:
        asset_rows = [a for a in asset_rows if a.id in keep]
        rows = [r for r in rows if r.asset_id in keep]
    images = []
    for a in asset_rows:
        entry = {"id": image_ids[a.id], "file_name": a.file_name, "width": int(a.width), "height": int(a.height)}
        entry.update({k: metas[a.id][k] for k in IMAGE_META_KEYS if k in metas[a.id]})
        images.append(entry)
    tags: dict[int, list[Any]] = {}
    annotations: list[dict[str, Any]] = []
    for r in rows:
        if r.kind == "tag":
            tag = orjson.loads(r.data)
            tags.setdefault(r.asset_id, []).append(tag["value"] if tag.get("group") is None else tag)
            continue
        cls = by_class_id[r.label_id]
        ann: dict[str, Any] = {
            "id": len(annotations) + 1,
            "image_id": image_ids[r.asset_id],
            "category_id": cat_ids[cls.name],
            "bbox": [r.x, r.y, r.w, r.h],
            "area": r.area,
            "iscrowd": int(bool(r.iscrowd)),
        }
        data: Any = orjson.loads(r.data) if r.data is not None else None
        if r.kind in {"polygon", "mask"}:
            ann["segmentation"] = data
        else:  # a box or keypoints: the rectangle, marked so that the importer knows it is not a polygon
            ann["segmentation"], ann[KIND_KEY] = box_outline(r.x, r.y, r.w, r.h), r.kind
        if r.kind == "keypoints":
            ann["keypoints"] = data
            ann["num_keypoints"] = sum(1 for v in data[2::3] if v > 0)
        if r.attributes:
            ann["attributes"] = orjson.loads(r.attributes)
        if r.track_id is not None:
            ann["track_id"] = r.track_id
        if r.score is not None:
            ann["score"] = r.score
        annotations.append(ann)
    by_asset = {a.id: image for a, image in zip(asset_rows, images, strict=True)}
    for aid, values in tags.items():
        by_asset[aid]["tags"] = values
    doc: dict[str, Any] = {
        "info": saved.get("info", {"description": f"labnb export of project '{project.name}'"}),
        "licenses": saved.get("licenses", []),
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }
    return doc
