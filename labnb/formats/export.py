"""What every exporter reads: the project's images, each with its shapes, in a stable order.

Exporters get shapes (``lb.Box``, ``lb.Polygon``, ...) rather than rows, plus the stored box and area,
which for imported data are the source file's own values (COCO's bbox of a polygon, say).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import orjson

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
