"""Writing YOLO datasets (Ultralytics layout); the module docstring of :mod:`labnb.formats.yolo` says
what survives the trip and why."""

from __future__ import annotations

import math
import shutil
import warnings
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml
from numpy.typing import NDArray

from labnb.errors import LabnbError
from labnb.formats.export import (
    ExportImage,
    ExportObject,
    ExportOptions,
    distinct_objects,
    export_images,
    output_folder,
    split_images,
    unique_name,
)
from labnb.formats.yolo import SPLITS, TASKS
from labnb.geometry import Keypoints, Mask, Polygon, Tag
from labnb.schema import Schema

if TYPE_CHECKING:
    from labnb.project import Project


#: Split names read as Ultralytics' train/val/test (CVAT subsets, Roboflow folders), case aside.
SPLIT_NAMES = {"train": "train", "training": "train", "val": "val", "valid": "val", "validation": "val"}
SPLIT_NAMES |= {"test": "test", "testing": "test"}


def export_yolo(
    project: Project, path: str | Path, *, task: str | None, source: str | Sequence[str] | None, options: ExportOptions
) -> Path:
    """Write a dataset folder (images linked or copied, labels, data.yaml); returns the data.yaml path.

    An image with no annotations gets an empty label file, which Ultralytics reads as a background image.
    """
    out = Path(path)
    schema, all_images = export_images(project, source)
    chosen = split_images(project, all_images, options)
    images = [(_yolo_split(name, img), img) for name, imgs in chosen.items() for img in imgs]
    task = task or _auto_task(schema, [img for _, img in images])
    if task not in TASKS:
        raise LabnbError(f"task must be one of {TASKS}, got {task!r}")
    ids = {c.name: i for i, c in enumerate(schema.classes)}
    k = _pose_points(schema) if task == "pose" else 0
    output_folder(out)
    skipped: Counter[str] = Counter()
    no_pixels: list[str] = []
    used: set[str] = set()
    splits: set[str] = set()
    for split, img in images:
        splits.add(split)
        rel = unique_name(img, split, used)
        if not _place_image(project, img, out / "images" / split / rel):
            no_pixels.append(img.file_name)
        lines = [_line(o, img, task, ids[str(o.shape.label)], schema, k, skipped) for o in _objects(img, task, skipped)]
        target = (out / "labels" / split / rel).with_suffix(".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"{line}\n" for line in lines if line), encoding="utf-8")
    yaml_path = out / "data.yaml"
    yaml_path.write_text(_data_yaml(project, out, schema, task, k, splits), encoding="utf-8")
    if images and "val" not in splits:  # Ultralytics needs a val key, so it is written; say how to fix it first
        warnings.warn(
            f"pass split=0.2 (or a column of p.assets.df, e.g. split='split') to hold out validation images: "
            f"this YOLO export to {out} has no 'val' images, so data.yaml's val is the training images and "
            "validation metrics would be measured on the images the model trains on",
            stacklevel=3,
        )
    notes = [f"{n} {why}" for why, n in skipped.items()]
    if no_pixels:
        notes.append(
            f"{len(no_pixels)} image(s) have no local file or stored pixels (first: {no_pixels[0]}); "
            "their labels were written, put the images beside them"
        )
    if notes:
        warnings.warn(f"YOLO {task} export to {out}: " + "; ".join(notes), stacklevel=3)
    return yaml_path


def _yolo_split(asked: str | None, img: ExportImage) -> str:
    """The YOLO split of ``img``: the one asked for, else its own (``meta["split"]``), else train."""
    if asked is None:
        own = img.meta.get("split")
        return SPLIT_NAMES.get(own.lower(), "train") if isinstance(own, str) else "train"
    if asked.lower() not in SPLIT_NAMES:
        raise LabnbError(f"YOLO splits are train, val and test; got split {asked!r} (rename it in the split mapping)")
    return SPLIT_NAMES[asked.lower()]


def _auto_task(schema: Schema, images: list[ExportImage]) -> str:
    """Pose when there are keypoints to write, segment when there are polygons, else detect."""
    kinds = {o.shape.kind for img in images for o in img.objects}
    if "keypoints" in kinds and any(c.keypoints for c in schema.classes):
        return "pose"
    return "segment" if "polygon" in kinds else "detect"


def _pose_points(schema: Schema) -> int:
    counts = {c.name: len(c.keypoints) for c in schema.classes if c.keypoints}
    if len(set(counts.values())) != 1:
        raise LabnbError(
            "a pose export needs labels with keypoints, all with the same number of points "
            f"(YOLO has one kpt_shape); got {counts or 'none'}"
        )
    return next(iter(counts.values()))


def _place_image(project: Project, img: ExportImage, target: Path) -> bool:
    """Link (else copy) a local file, or write stored pixels; ``False`` when there are none to write."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = img.path
    if src is not None and src.is_file():
        try:
            target.symlink_to(src.resolve())
        except OSError:  # file systems without symlinks
            shutil.copy2(src, target)
        return True
    if img.uri.startswith("blob:"):
        target.write_bytes(project.asset(img.asset_id).read_bytes())
        return True
    return False


def _objects(img: ExportImage, task: str, skipped: Counter[str]) -> list[ExportObject]:
    out = []
    for o in distinct_objects(img, keep_keypoints=task == "pose"):
        if isinstance(o.shape, Tag):
            skipped["image tag(s) not written (YOLO has no image tags)"] += 1
        elif isinstance(o.shape, Mask) and task == "segment":
            skipped["mask(s) not written (YOLO segment holds polygons; masks are not traced)"] += 1
        else:
            out.append(o)
    return out


def _line(o: ExportObject, img: ExportImage, task: str, cid: int, schema: Schema, k: int, skipped: Counter[str]) -> str:
    w, h = img.width, img.height
    x0, y0 = max(o.bbox[0], 0.0), max(o.bbox[1], 0.0)
    x1, y1 = min(o.bbox[0] + o.bbox[2], w), min(o.bbox[1] + o.bbox[3], h)
    if x1 <= x0 or y1 <= y0:
        skipped["object(s) with an empty box inside the image not written"] += 1
        return ""
    if task == "segment":
        if isinstance(o.shape, Polygon):
            ring = merge_parts(o.shape.parts)
        else:  # a box (or a mask's or lone keypoints' box) as its four corners
            ring = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
        return _join(cid, (np.clip(ring, 0, (w, h)) / (w, h)).ravel())
    line = _join(cid, [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h])
    if task != "pose":
        return line
    names = schema.get(str(o.shape.label)).keypoints  # k names, or none for a class without keypoints
    points = o.shape.points if isinstance(o.shape, Keypoints) else {}
    for i in range(k):
        x, y, v = points.get(names[i], (0.0, 0.0, 0)) if names else (0.0, 0.0, 0)
        line += f" {min(max(x / w, 0.0), 1.0):.6f} {min(max(y / h, 0.0), 1.0):.6f} {int(v)}" if v else " 0 0 0"
    return line


def _join(cid: int, values: Sequence[float] | NDArray[np.float64]) -> str:
    # 6 decimals: within 0.03 px even on a 50,000 px image, so boxes come back well inside a pixel.
    return " ".join([str(cid), *(f"{float(v):.6f}" for v in values)])


def merge_parts(parts: Sequence[NDArray[np.float64]]) -> NDArray[np.float64]:
    """One ring through all parts, each joined at its closest point by a zero-width bridge.

    Parts are turned to the first part's orientation so that the ring's shoelace area is their sum.
    """
    ring = np.asarray(parts[0], dtype=np.float64)
    sign = np.sign(_signed_area(ring))
    for given in parts[1:]:
        part = given if np.sign(_signed_area(given)) == sign else given[::-1]
        best, i, j = math.inf, 0, 0
        step = max(1, 1_000_000 // len(ring))  # bounded memory for huge rings
        for start in range(0, len(part), step):
            d = ((part[start : start + step, None, :] - ring[None, :, :]) ** 2).sum(axis=2)
            pj, ri = (int(v) for v in np.unravel_index(int(np.argmin(d)), d.shape))
            if d[pj, ri] < best:
                best, i, j = float(d[pj, ri]), ri, start + pj
        rolled = np.roll(part, -j, axis=0)
        ring = np.concatenate([ring[: i + 1], rolled, rolled[:1], ring[i:]])
    return ring


def _signed_area(xy: NDArray[np.float64]) -> float:
    x, y = xy[:, 0], xy[:, 1]
    return float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0


def _data_yaml(project: Project, out: Path, schema: Schema, task: str, k: int, splits: set[str]) -> str:
    # An absolute 'path': Ultralytics reads a relative one against its own datasets folder.
    doc: dict[str, Any] = {"path": str(out.resolve())}
    present = [s for s in SPLITS if s in splits] or ["train"]
    for split in SPLITS:
        if split in present or split in ("train", "val"):  # Ultralytics needs both; a missing one reuses another
            doc[split] = f"images/{split if split in present else present[0]}"
    doc["names"] = {i: c.name for i, c in enumerate(schema.classes)}
    if task == "pose":
        doc["kpt_shape"] = [k, 3]
        flip = _flip_idx(project, schema, k)
        if flip is not None:
            doc["flip_idx"] = flip
        doc["kpt_names"] = {i: list(c.keypoints) for i, c in enumerate(schema.classes) if c.keypoints}
    header = f"# YOLO {task} dataset written by labnb from project '{project.name}'\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def _flip_idx(project: Project, schema: Schema, k: int) -> list[int] | None:
    """The imported flip_idx if it still fits, else one from left/right point names (horizontal flips)."""
    saved = project._format_settings("yolo").get("flip_idx")
    if isinstance(saved, list) and len(saved) == k:
        return saved
    flips = set()
    for c in schema.classes:
        if c.keypoints:
            swapped = [n.replace("left", "\0").replace("right", "left").replace("\0", "right") for n in c.keypoints]
            flips.add(tuple(c.keypoints.index(s) if s in c.keypoints else i for i, s in enumerate(swapped)))
    flip = next(iter(flips)) if len(flips) == 1 else None
    return list(flip) if flip is not None and flip != tuple(range(k)) else None
