"""What every exporter reads: the project's images, each with its shapes, in a stable order.

Exporters get shapes (``lb.Box``, ``lb.Polygon``, ...) rather than rows, plus the stored box and area,
which for imported data are the source file's own values (COCO's bbox of a polygon, say).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import numpy as np
import orjson
import pandas as pd

from labnb.assets import Asset
from labnb.errors import LabnbError
from labnb.geometry import BBox, Shape
from labnb.schema import Schema
from labnb.store.rows import row_to_shape

if TYPE_CHECKING:
    from labnb.project import Project


@dataclass
class ExportObject:
    shape: Shape
    #: The stored ``x, y, w, h`` (the source file's box for imported data).
    bbox: BBox
    area: float
    iscrowd: bool


@dataclass
class ExportImage:
    asset_id: int
    file_name: str
    width: int
    height: int
    uri: str
    meta: dict[str, Any]
    objects: list[ExportObject] = field(default_factory=list)

    @property
    def path(self) -> Path | None:
        """The local image file, or ``None`` when the pixels live in the database or elsewhere."""
        return Path(unquote(urlparse(self.uri).path)) if self.uri.startswith("file://") else None


def export_images(project: Project, source: str | Sequence[str] | None = None) -> tuple[Schema, list[ExportImage]]:
    """The schema and every image (annotated or not) with its live shapes, in id order."""
    sources = [source] if isinstance(source, str) else source
    schema = project.schema
    classes = {c.id: c for c in schema.classes if c.id is not None}
    asset_rows, rows = project._export_rows(sources)
    images = {
        int(r.id): ExportImage(
            int(r.id), str(r.file_name), int(r.width), int(r.height), str(r.uri), orjson.loads(r.meta) if r.meta else {}
        )
        for r in asset_rows
    }
    for r in rows:
        images[r.asset_id].objects.append(
            ExportObject(row_to_shape(r, classes), (r.x, r.y, r.w, r.h), float(r.area), bool(r.iscrowd))
        )
    return schema, list(images.values())


def output_folder(path: Path) -> None:
    """Create ``path``, refusing one that holds files: stale labels from an earlier export would be read back."""
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise LabnbError(f"{path}: exists and is not an empty folder; export into a new or empty folder")
    path.mkdir(parents=True, exist_ok=True)


def unique_name(img: ExportImage, group: str, used: set[str]) -> PurePosixPath:
    """A safe relative path for the image's file, unique by stem within ``group`` (x.jpg and x.png share x.txt)."""
    parts = [p for p in PurePosixPath(img.file_name.replace("\\", "/")).parts if p not in ("/", ".", "..")]
    rel = PurePosixPath(*parts) if parts else PurePosixPath(f"image_{img.asset_id}")
    if f"{group}/{rel.with_suffix('')}".lower() in used:
        rel = rel.with_name(f"{rel.stem}_{img.asset_id}{rel.suffix}")
    used.add(f"{group}/{rel.with_suffix('')}".lower())
    return rel


def distinct_objects(img: ExportImage, *, keep_keypoints: bool) -> list[ExportObject]:
    """Drop one of each keypoints/outline pair with the same label and stored box (one COCO object)."""
    kps = {(o.shape.label, o.bbox) for o in img.objects if o.shape.kind == "keypoints"}
    others = {(o.shape.label, o.bbox) for o in img.objects if o.shape.kind != "keypoints"}
    twins = kps & others
    drop_kind = ("keypoints",) if not keep_keypoints else ("box", "polygon", "mask")
    return [o for o in img.objects if not (o.shape.kind in drop_kind and (o.shape.label, o.bbox) in twins)]


# -- which images, in which split --------------------------------------------------------------------

#: One split with every image: an export without ``split=``.
NO_SPLIT = None


@dataclass(frozen=True)
class ExportOptions:
    """The selection every exporter takes: ``assets``, ``split``, ``seed`` and ``skip_empty``.

    - ``assets``: which images (default all): asset ids, file names, :class:`~labnb.assets.Asset` objects,
      a DataFrame column (``p.assets.df.query("width > 600").asset_id``) or a DataFrame with an
      ``asset_id`` column.
    - ``split``: the name of a ``p.assets.df`` column (``"split"``: YOLO folders, CVAT subsets), a mapping
      ``{asset id or file name: split name}`` covering every exported image, or fractions: ``0.2`` for
      ``{"train": 0.8, "val": 0.2}``, or such a mapping, split at random by ``seed`` (the same seed, the
      same split; ``seed=None`` for a fresh one).
    - ``skip_empty``: leave out images without any annotation. By default they are exported, as images
      with no objects, which training tools read as background (negative) images.
    """

    assets: Any = None
    split: Any = None
    seed: int | None = 0
    skip_empty: bool = False


def split_assets(
    project: Project, images: Sequence[tuple[int, str]], annotated: set[int], options: ExportOptions
) -> dict[str | None, list[int]]:
    """The asset ids to export per split name (key ``None`` when no split was asked), in id order.

    ``images`` are every ``(asset id, file name)`` the export could write; ``annotated`` the ids with an
    annotation among the exported sources. Every bad argument is an error naming what is wrong.
    """
    ids = [aid for aid, _ in images]
    if options.assets is not None:
        wanted = set(_resolve(options.assets, images, "assets="))
        ids = [aid for aid in ids if aid in wanted]
    if options.skip_empty:
        ids = [aid for aid in ids if aid in annotated]
    split = options.split
    if split is None:
        return {NO_SPLIT: ids}
    if isinstance(split, str):
        return _by_column(project, ids, split)
    fractions = _fractions(split)
    if fractions is not None:
        return _at_random(ids, fractions, options.seed)
    if not isinstance(split, Mapping):
        raise LabnbError(
            f"split= must be a column of p.assets.df, a mapping {{image: split name}} or fractions "
            f"such as 0.2 or {{'train': 0.8, 'val': 0.2}}; got {split!r}"
        )
    return _by_mapping(split, ids, images)


def _resolve(given: Any, images: Sequence[tuple[int, str]], what: str) -> list[int]:
    """Asset ids named by ids, file names, Assets or a DataFrame column; unknown ones are one error."""
    if isinstance(given, pd.DataFrame):
        if "asset_id" not in given.columns:
            raise LabnbError(f"{what} a DataFrame needs an 'asset_id' column; or pass one column, e.g. df.file_name")
        given = given["asset_id"]
    if isinstance(given, (str, int, np.integer, Asset)):
        given = [given]
    by_id = {aid for aid, _ in images}
    by_name: dict[str, list[int]] = {}
    for aid, name in images:
        by_name.setdefault(name, []).append(aid)
    out, unknown = [], []
    for item in given:
        if isinstance(item, (bool, np.bool_)):
            raise LabnbError(f"{what} got True/False values; select rows first, e.g. df[mask].asset_id")
        key = item.id if isinstance(item, Asset) else item
        if isinstance(key, (float, np.floating)) and float(key).is_integer():
            key = int(key)  # ids from a DataFrame column that pandas turned into floats
        if isinstance(key, (int, np.integer)) and int(key) in by_id:
            out.append(int(key))
        elif isinstance(key, str) and key in by_name:
            if len(by_name[key]) > 1:  # two folders' img.png: a name alone would pick one of them at random
                raise LabnbError(
                    f"{what} names {key!r}, which is the file name of images {by_name[key]}; name them by id "
                    "(p.assets.df.asset_id) or as Assets"
                )
            out.append(by_name[key][0])
        else:
            unknown.append(key)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
        raise LabnbError(f"{what} names {len(unknown)} image(s) the project does not have: {shown}")
    return out


def check_split_name(name: Any) -> str:
    """A split name that is safe as a folder and file name part (``train``, ``Validation``, ``fold 1``)."""
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise LabnbError(f"split names must be non-empty text without outer spaces, got {name!r}")
    if name in (".", "..") or any(c in name for c in "/\\") or any(ord(c) < 32 for c in name):
        raise LabnbError(f"split name {name!r} cannot be a folder or file name part (no '/', '\\\\', '..')")
    return name


def _by_column(project: Project, ids: list[int], column: str) -> dict[str | None, list[int]]:
    df = project.assets.df
    if column not in df.columns:
        raise LabnbError(f"split={column!r} is not a column of p.assets.df; its columns are {list(df.columns)}")
    values = dict(zip(df.asset_id.astype(int), df[column], strict=True))
    missing = [aid for aid in ids if values.get(aid) is None or pd.isna(values[aid])]
    if missing:
        names = dict(zip(df.asset_id.astype(int), df.file_name, strict=True))
        raise LabnbError(
            f"{len(missing)} image(s) have no value in column {column!r} (first: {names[missing[0]]!r}); "
            "give them one, pass a mapping, or leave them out with assets="
        )
    out: dict[str | None, list[int]] = {}
    for aid in ids:
        out.setdefault(check_split_name(str(values[aid])), []).append(aid)
    return out


def _fractions(split: Any) -> dict[str, float] | None:
    """``{split name: fraction}`` when ``split`` gives fractions (checked), else ``None``."""
    if isinstance(split, (float, int)) and not isinstance(split, bool):
        if not 0 < split < 1:
            raise LabnbError(f"split={split!r}: a fraction for 'val' must be between 0 and 1")
        return {"train": 1.0 - float(split), "val": float(split)}
    if not isinstance(split, Mapping) or not split:
        return None
    values = list(split.values())
    if not all(isinstance(v, (float, int)) and not isinstance(v, bool) for v in values):
        return None
    names = [check_split_name(k) for k in split]
    if any(not 0 < v <= 1 for v in values) or abs(sum(values) - 1.0) > 1e-6:
        raise LabnbError(f"split fractions must be above 0 and add up to 1, got {dict(split)!r}")
    return dict(zip(names, map(float, values), strict=True))


def _at_random(ids: list[int], fractions: dict[str, float], seed: int | None) -> dict[str | None, list[int]]:
    """A random split of exactly ``round``-ed sizes (largest remainders), the same for the same seed."""
    n = len(ids)
    exact = [f * n for f in fractions.values()]
    sizes = [math.floor(e) for e in exact]
    for i in sorted(range(len(exact)), key=lambda i: exact[i] - sizes[i], reverse=True)[: n - sum(sizes)]:
        sizes[i] += 1
    order = np.random.default_rng(seed).permutation(n)
    out: dict[str | None, list[int]] = {}
    start = 0
    for name, size in zip(fractions, sizes, strict=True):
        out[name] = sorted(ids[i] for i in order[start : start + size])
        start += size
    return out


def _by_mapping(
    split: Mapping[Any, Any], ids: list[int], images: Sequence[tuple[int, str]]
) -> dict[str | None, list[int]]:
    keys = list(split)
    named = dict(zip(_resolve(keys, images, "split="), (split[k] for k in keys), strict=True))
    missing = [aid for aid in ids if aid not in named]
    if missing:
        names = dict(images)
        raise LabnbError(
            f"split= gives no split for {len(missing)} exported image(s) (first: {names[missing[0]]!r}); "
            "name each, or export only the mapped ones with assets=list(mapping)"
        )
    out: dict[str | None, list[int]] = {}
    for aid in ids:
        out.setdefault(check_split_name(named[aid]), []).append(aid)
    return out


def split_images(
    project: Project, images: list[ExportImage], options: ExportOptions
) -> dict[str | None, list[ExportImage]]:
    """:func:`split_assets` for exporters that read :func:`export_images`."""
    by_id = {img.asset_id: img for img in images}
    chosen = split_assets(
        project, [(i.asset_id, i.file_name) for i in images], {i.asset_id for i in images if i.objects}, options
    )
    return {name: [by_id[aid] for aid in ids] for name, ids in chosen.items()}


def split_file(path: Path, split: str) -> Path:
    """``out.json`` -> ``out_train.json``: the file of one split, beside the one asked for."""
    return path.with_name(f"{path.stem}_{split}{path.suffix}")
