"""YOLO datasets in the Ultralytics layout: detect, segment and pose, in and out.

A dataset is a ``data.yaml`` (``path``, ``train``/``val``/``test`` image folders, ``names``, and
``kpt_shape``/``kpt_names``/``flip_idx`` for pose) with ``images/<split>/x.jpg`` beside
``labels/<split>/x.txt``; the flat ``images/`` + ``labels/`` layout works too (``.txt`` image lists do not).
Each image's split is kept in its ``meta["split"]`` and written back on export (default ``train``).

YOLO coordinates are fractions of the image size, so the reader takes each size from the image file
before it builds a shape. What does not survive, and why:

- A multi-part polygon is written as one ring that visits every part through zero-width bridges at
  their closest points (the "keyhole" Ultralytics' own COCO converter makes), because a line holds one
  polygon and one object must stay one object. It comes back as a one-part polygon with the same
  outline, box and area.
- Masks are not written in segment exports (a warning counts them): tracing their outline would need
  OpenCV. Detect and pose exports write their box. YOLO has no crowd flag, so crowd regions come back as
  ordinary boxes. Image tags are not written.
- Exported coordinates are clipped to the image, because Ultralytics drops all labels of an image
  that holds a value outside 0..1.
- A COCO object with keypoints and a segmentation is two labnb shapes with the same box; exports write
  it once (the keypoints in pose, the outline otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
import yaml
from tqdm.auto import tqdm

from labnb.assets import IMAGE_SUFFIXES
from labnb.errors import AssetError, ImportProblems, LabnbError
from labnb.formats.ingest import ImageEntry, ImportPlan, OnError, ingest
from labnb.geometry import Box, Keypoints, Polygon
from labnb.imaging import probe_file
from labnb.pyramid import Previews
from labnb.schema import LabelClass, Schema

if TYPE_CHECKING:
    import pandas as pd

    from labnb.project import Project

SPLITS = ("train", "val", "test")
TASKS = ("detect", "segment", "pose")
#: How far (as a fraction of the image) a coordinate may leave 0..1: rounding noise, not data. The same
#: 1 % that ingest allows in pixels.
TOLERANCE = 0.01


class _BadLine(LabnbError):
    """A label line that cannot be read; its message becomes the line's problem."""


def _fail(item: str, message: str) -> NoReturn:
    raise ImportProblems(item, [(item, message)])


@dataclass
class _Dataset:
    """What ``data.yaml`` says."""

    yaml_path: Path
    root: Path
    names: dict[int, str]
    #: (K, 2 or 3) for pose datasets.
    kpt_shape: tuple[int, int] | None = None
    #: Point names per class id; ``None`` for a class whose points cannot be stored in the project.
    point_names: dict[int, list[str] | None] = field(default_factory=dict)


# -- reading ---------------------------------------------------------------------------------------


def import_yolo(
    project: Project, path: str | Path, *, on_error: OnError, source: str, progress: bool, previews: Previews
) -> pd.DataFrame:
    plan = read_yolo(path, source=source, schema=project.schema, progress=progress)
    return ingest(project, plan, on_error=on_error, progress=progress, previews=previews)


def read_yolo(path: str | Path, *, source: str, schema: Schema, progress: bool = False) -> ImportPlan:
    """Parse a YOLO dataset (its folder or its data.yaml) into an :class:`ImportPlan`."""
    yaml_path = _find_yaml(Path(path))
    doc = _load_yaml(yaml_path)
    plan = ImportPlan(source=yaml_path.name)
    ds = _dataset(doc, yaml_path, schema, plan)
    sources = _image_sources(doc, ds, plan)
    seen: set[Path] = set()
    expected_labels: set[Path] = set()
    label_dirs: set[Path] = set()
    jobs: list[tuple[str | None, Path, Path]] = []
    for split, src in sources:
        label_dir = _label_path(src / "x.jpg").parent
        if label_dir != src:  # labels beside the images: other .txt files there are not ours to judge
            label_dirs.add(label_dir.resolve())
        for img in sorted(p for p in src.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()):
            if img.resolve() not in seen:  # the flat layout often lists one folder as train and val
                seen.add(img.resolve())
                jobs.append((split, src, img))
    for split, src, img in tqdm(jobs, desc="reading labels", disable=not progress or len(jobs) < 50):
        label = _label_path(img)
        expected_labels.add(label.resolve())
        _read_image(plan, ds, _relative(img, ds.root), img.relative_to(src).as_posix(), img, label, split, source)
    for folder in sorted(d for d in label_dirs if d.is_dir()):
        for txt in sorted(folder.rglob("*.txt")):
            if txt.resolve() not in expected_labels:
                plan.problem(_relative(txt, ds.root), "a label file without an image (no image of that name)")
    return plan


def _find_yaml(path: Path) -> Path:
    if path.is_file():
        return path
    if not path.is_dir():
        _fail(str(path), "not found (give a YOLO dataset folder or its data.yaml)")
    if (path / "data.yaml").is_file():
        return path / "data.yaml"
    found = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
    if len(found) == 1:
        return found[0]
    _fail(str(path), f"no data.yaml in this folder (YAML files: {[f.name for f in found]})")


def _load_yaml(yaml_path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(yaml_path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        _fail(str(yaml_path), f"cannot read the dataset YAML: {exc}")
    if not isinstance(doc, dict):
        _fail(str(yaml_path), "must be a mapping with 'names' and the image folders ('train', 'val', ...)")
    return doc


def _dataset(doc: dict[str, Any], yaml_path: Path, schema: Schema, plan: ImportPlan) -> _Dataset:
    item = str(yaml_path)
    names = _names(doc.get("names"), item)
    if isinstance(doc.get("nc"), int) and doc["nc"] != len(names):
        _fail(item, f"'nc' is {doc['nc']} but 'names' lists {len(names)} classes")
    root = yaml_path.parent
    if doc.get("path"):
        given = Path(str(doc["path"]))
        given = given if given.is_absolute() else root / given
        if given.is_dir():  # a moved dataset keeps a stale 'path'; its own folder is then the root
            root = given
    ds = _Dataset(yaml_path, root, names)
    if doc.get("kpt_shape") is not None:
        shape = doc["kpt_shape"]
        if not (isinstance(shape, list) and len(shape) == 2 and shape[0] in range(1, 10_000) and shape[1] in (2, 3)):
            _fail(item, f"'kpt_shape' must be [number of points, 2 or 3], got {shape!r}")
        ds.kpt_shape = (int(shape[0]), int(shape[1]))
        _point_names(doc.get("kpt_names"), ds, schema, item)
        flip = doc.get("flip_idx")
        if flip is not None:
            if not (isinstance(flip, list) and sorted(flip) == list(range(ds.kpt_shape[0]))):
                _fail(item, f"'flip_idx' must be a permutation of 0..{ds.kpt_shape[0] - 1}, got {flip!r}")
            plan.format_settings["yolo"] = {"flip_idx": flip}
    for cid, name in names.items():
        if name not in schema.names:
            points = ds.point_names.get(cid)
            plan.new_labels.append(LabelClass(name, keypoints=list(points or [])))
    return ds


def _names(value: Any, item: str) -> dict[int, str]:
    if isinstance(value, list):
        value = dict(enumerate(value))
    if not isinstance(value, dict) or not value:
        _fail(item, f"'names' must list the classes (a list, or a mapping of index to name), got {value!r}")
    names: dict[int, str] = {}
    for key, name in value.items():
        if isinstance(name, bool) or not isinstance(name, (str, int, float)) or not str(name).strip():
            hint = " (YAML reads bare yes/no/on/off as booleans: quote the name)" if isinstance(name, bool) else ""
            _fail(item, f"class {key!r} must have a name, got {name!r}{hint}")
        if not (isinstance(key, int) and key >= 0):
            _fail(item, f"class indices in 'names' must be integers from 0, got {key!r}")
        names[key] = str(name).strip()
    repeated = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
    if repeated:
        _fail(item, f"class names repeat: {repeated}")
    return names


def _point_names(value: Any, ds: _Dataset, schema: Schema, item: str) -> None:
    """Name each class's points: ``kpt_names`` (a list, or per class), the project's, else kp0, kp1, ..."""
    assert ds.kpt_shape is not None
    k = ds.kpt_shape[0]
    for cid, name in ds.names.items():
        given = value.get(cid) if isinstance(value, dict) else value
        if given is not None and not (isinstance(given, list) and len(given) == k):
            _fail(item, f"'kpt_names' of class {cid} must list {k} names, got {given!r}")
        explicit = [str(n) for n in given] if given is not None else None
        if name in schema.names:  # the project's names, matched by position unless kpt_names says otherwise
            own = schema.get(name).keypoints
            ds.point_names[cid] = own if len(own) == k and explicit in (None, own) else None
        elif explicit is None and not isinstance(value, dict):
            ds.point_names[cid] = [f"kp{i}" for i in range(k)]
        else:  # a class that per-class kpt_names leaves out has no keypoints
            ds.point_names[cid] = explicit


def _image_sources(doc: dict[str, Any], ds: _Dataset, plan: ImportPlan) -> list[tuple[str | None, Path]]:
    out: list[tuple[str | None, Path]] = []
    for split in SPLITS:
        value = doc.get(split)
        for entry in value if isinstance(value, list) else [] if value is None else [value]:
            where = ds.root / str(entry)
            if not where.exists() and str(entry).startswith("../"):
                where = ds.root / str(entry)[3:]  # Roboflow's exports; Ultralytics applies the same fix
            if where.is_dir():
                out.append((split, where))
            else:
                plan.problem(str(ds.yaml_path), f"the '{split}' image folder {entry!r} is not there ({where})")
    if not out and not plan.problems:
        if not (ds.root / "images").is_dir():
            _fail(str(ds.yaml_path), "names no image folder ('train', 'val', 'test') and there is no images/ folder")
        out.append((None, ds.root / "images"))
    return out


def _label_path(image: Path) -> Path:
    """``.../images/a/x.jpg`` -> ``.../labels/a/x.txt`` (the last ``images`` folder), else beside the image."""
    parts = image.parts
    hits = [i for i, p in enumerate(parts[:-1]) if p == "images"]
    if not hits:
        return image.with_suffix(".txt")
    return Path(*parts[: hits[-1]], "labels", *parts[hits[-1] + 1 :]).with_suffix(".txt")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _read_image(
    plan: ImportPlan,
    ds: _Dataset,
    key: Hashable,
    file_name: str,
    image: Path,
    label: Path,
    split: str | None,
    source: str,
) -> None:
    try:
        info = probe_file(image)  # the size is needed to read the label file at all
    except AssetError as exc:
        plan.problem(f"image '{key}'", str(exc))
        return
    meta = {"split": split} if split else {}
    plan.images.append(ImageEntry(key, file_name, image, info.width, info.height, meta=meta, info=info))
    if not label.is_file():
        return  # an image without a label file has no objects
    rel = _relative(label, ds.root)
    try:
        lines = label.read_text(encoding="utf-8-sig").splitlines()  # tolerate a BOM (Windows editors)
    except (OSError, UnicodeDecodeError) as exc:
        plan.problem(rel, f"cannot read the label file ({exc})")
        return
    for n, line in enumerate(lines, 1):
        if line.strip():
            _read_line(plan, ds, key, f"{rel} line {n}", line.split(), (info.width, info.height), source)


def _read_line(
    plan: ImportPlan, ds: _Dataset, key: Hashable, item: str, tokens: list[str], size: tuple[int, int], source: str
) -> None:
    try:
        cid, coords = _check_line(tokens, ds)
        points = _keypoints(coords[4:], ds, cid, size) if ds.kpt_shape else {}
    except _BadLine as exc:
        plan.problem(item, str(exc))
        return
    label, (w, h) = ds.names[cid], size
    if ds.kpt_shape is None and len(coords) > 4:
        ring = np.asarray(coords).reshape(-1, 2) * (w, h)
        plan.add_shape(key, item, lambda: Polygon(ring, label=label), source=source)
        return
    cx, cy, bw, bh = coords[:4]
    box = ((cx - bw / 2) * w, (cy - bh / 2) * h, bw * w, bh * h)
    if points:
        plan.add_shape(key, item, lambda: Keypoints(points, label=label), bbox=box, source=source)
    else:
        plan.add_shape(key, item, lambda: Box(*box, label=label), source=source)


def _check_line(tokens: list[str], ds: _Dataset) -> tuple[int, list[float]]:
    values = []
    for t in tokens:
        try:
            values.append(float(t))
        except ValueError:
            raise _BadLine(f"{t!r} is not a number") from None
        if not math.isfinite(values[-1]):
            raise _BadLine(f"{t!r} is not a finite number")
    if not values[0].is_integer() or int(values[0]) not in ds.names:
        raise _BadLine(f"unknown class index {tokens[0]} (data.yaml names {sorted(ds.names)})")
    coords = values[1:]
    n = len(coords)
    if ds.kpt_shape is not None:
        k, dims = ds.kpt_shape
        if n != 4 + k * dims:
            raise _BadLine(f"expected {5 + k * dims} values (class, box, {k} points of {dims}), got {n + 1}")
        box = coords[:4]
        xy = [v for i, v in enumerate(coords[4:]) if i % dims < 2]
    elif n == 4:
        box, xy = coords, coords
    elif n >= 6 and n % 2 == 0:
        box, xy = None, coords
    else:
        raise _BadLine(f"expected 5 values (class cx cy w h) or a class and 3+ x y points, got {n + 1}")
    bad = [v for v in xy if not -TOLERANCE <= v <= 1 + TOLERANCE]
    if bad:
        raise _BadLine(f"coordinate {bad[0]:g} is outside 0..1 (YOLO coordinates are fractions of the image size)")
    if box is not None and (box[2] <= 0 or box[3] <= 0):
        raise _BadLine(f"the box width and height must be positive, got {box[2]:g} x {box[3]:g}")
    return int(values[0]), coords


def _keypoints(flat: list[float], ds: _Dataset, cid: int, size: tuple[int, int]) -> dict[str, tuple[float, float, int]]:
    """The labelled points of a pose line: ``v`` > 0 and not at (0, 0), which YOLO uses for "absent"."""
    assert ds.kpt_shape is not None
    k, dims = ds.kpt_shape
    out: dict[str, tuple[float, float, int]] = {}
    names = ds.point_names.get(cid)
    for i in range(k):
        x, y, *rest = flat[i * dims : (i + 1) * dims]
        v = rest[0] if rest else 2.0
        if v not in (0, 1, 2):
            raise _BadLine(f"point {i}: visibility must be 0, 1 or 2, got {v:g}")
        if v == 0 or x == y == 0:
            continue
        if not names:
            raise _BadLine(
                f"labels points, but label '{ds.names[cid]}' has no {k} point names that fit "
                "(its keypoints in the project, or kpt_names, differ)"
            )
        out[names[i]] = (x * size[0], y * size[1], int(v))
    return out
