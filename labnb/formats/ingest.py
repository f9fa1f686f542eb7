"""The one way every format's reader writes into a project: an :class:`ImportPlan`, checked whole.

Readers only parse. They describe images and annotations in a plan and record what they could not
parse as problems naming the item. :func:`ingest` then checks the image files and the geometry,
and either writes everything in one transaction or, with ``on_error="raise"`` (the default) and any
problem found, writes nothing and raises :class:`~labnb.errors.ImportProblems` listing all of them.
With ``on_error="skip"`` it writes the rest and returns the skipped items as a DataFrame.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from labnb.annotations.writer import Writes, writing
from labnb.clock import now
from labnb.errors import AssetError, GeometryError, ImportProblems, LabnbError, SchemaError
from labnb.geometry import BBox, Mask, Shape, Tag, inside_tolerance
from labnb.imaging import ImageInfo, probe_bytes, read_file
from labnb.pyramid import Preview, Previews, PreviewWriter, preview_writer
from labnb.schema import LabelClass, Schema, TagGroup
from labnb.store.database import bulk_insert, dbapi_datetime, reserve_ids
from labnb.store.rows import SOURCES, dumps, geometry_data
from labnb.store.tables import assets, projects

if TYPE_CHECKING:
    from labnb.project import Project

OnError = Literal["raise", "skip"]
SKIPPED_COLUMNS = ["item", "problem"]
ASSET_COLUMNS = (
    "id",
    "project_id",
    "uri",
    "file_name",
    "width",
    "height",
    "sha256",
    "format",
    "meta",
    "sequence",
    "frame_index",
    "added_at",
    "added_by",
)


@dataclass(slots=True)
class ImageEntry:
    """An image named by the source file."""

    key: Hashable
    file_name: str
    #: Local file to check and reference; ``None`` trusts ``width``/``height`` and uses ``uri``.
    path: Path | None
    width: int | None = None
    height: int | None = None
    uri: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    sequence: str | None = None
    frame_index: int | None = None
    #: What the reader learnt probing ``path`` already (YOLO needs sizes early); saves a second read.
    info: ImageInfo | None = None


@dataclass(slots=True)
class AnnotationEntry:
    """A parsed annotation: its image, a message name (``"annotation 42"``), and the shape."""

    image_key: Hashable
    item: str
    shape: Shape
    #: Area from the source file (COCO's rasterised area); computed from the shape when ``None``.
    area: float | None = None
    #: The object's box from the source file (COCO's bbox of a polygon or of keypoints); the
    #: shape's extent when ``None``.
    bbox: BBox | None = None
    source: str = "human"
    model: str | None = None
    model_version: str | None = None


@dataclass
class ImportPlan:
    """What a reader found in a source: images, annotations, new labels and problems."""

    source: str
    images: list[ImageEntry] = field(default_factory=list)
    annotations: list[AnnotationEntry] = field(default_factory=list)
    new_labels: list[LabelClass] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    #: Image keys whose annotations must be dropped because the image itself is bad.
    bad_images: set[Hashable] = field(default_factory=set)
    #: Per-format facts to keep for the export (COCO category ids, licences), merged into the project.
    format_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Annotations already in stored form, from readers with a fast path (see :class:`Row`).
    rows: list[Row] = field(default_factory=list)
    #: Tag options the schema must gain, by tag group (COCO image-level labels); added like new classes.
    tag_options: dict[str, list[str]] = field(default_factory=dict)

    def problem(self, item: str, message: str) -> None:
        self.problems.append((item, message))

    def add_shape(self, image_key: Hashable, item: str, build: Any, **kw: Any) -> None:
        """Call ``build()`` to make a shape; a geometry error becomes a problem of ``item``."""
        try:
            shape = build()
        except (GeometryError, LabnbError, ValueError, TypeError, KeyError, IndexError) as exc:
            self.problem(item, str(exc))
            return
        self.annotations.append(AnnotationEntry(image_key, item, shape, **kw))


class Row(NamedTuple):
    """One annotation as it will be stored, before ids are known. Readers with a fast path (COCO)
    build these directly; shapes added with :meth:`ImportPlan.add_shape` are converted to them."""

    image_key: Hashable
    item: str
    label: str | None
    kind: str
    data: str | None
    x: float
    y: float
    w: float
    h: float
    area: float
    iscrowd: bool
    attributes: dict[str, Any] | None
    score: float | None
    track_id: int | None
    source: str
    model: str | None = None
    model_version: str | None = None
    #: ``(height, width)`` of a mask, which must equal its image's size.
    mask_size: tuple[int, int] | None = None


def shape_to_row(entry: AnnotationEntry, classes: dict[str, LabelClass]) -> Row:
    """Convert a parsed shape; raises :class:`LabnbError` for an unknown label or bad keypoints."""
    shape = entry.shape
    label = None if isinstance(shape, Tag) else shape.label
    if label is not None and label not in classes:
        raise LabnbError(f"unknown label '{label}'; the project's labels are {sorted(classes)}")
    cls = classes[label] if label is not None else None
    x, y, w, h = shape.bbox if entry.bbox is None else entry.bbox
    return Row(
        entry.image_key,
        entry.item,
        label,
        shape.kind,
        dumps(geometry_data(shape, cls)),
        x,
        y,
        w,
        h,
        shape.area if entry.area is None else entry.area,
        bool(getattr(shape, "iscrowd", False)),
        shape.attributes or None,
        shape.score,
        shape.track_id,
        entry.source,
        entry.model,
        entry.model_version,
        shape.size if isinstance(shape, Mask) else None,
    )


def ingest(
    project: Project,
    plan: ImportPlan,
    *,
    on_error: OnError = "raise",
    progress: bool = True,
    previews: Previews = "eager",
) -> pd.DataFrame:
    """Check the plan, then write it all or nothing; returns the skipped items (item, problem).

    ``previews`` says when the images get their stored small levels, as for ``p.add_images``
    (:data:`labnb.pyramid.Previews`): while their files are checked, or the first time each is shown."""
    if on_error not in ("raise", "skip"):
        raise LabnbError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    project.members.require("manager", f"import {plan.source}")
    schema = project.schema
    existing_names = set(schema.names)
    classes = {c.name: c for c in schema.classes}
    plan.new_labels = _valid_new_labels(plan, classes)
    for c in plan.new_labels:
        classes[c.name] = c

    with preview_writer(project._engine, previews) as writer:
        sizes = _check_images(plan, progress, writer)
    rows = plan.rows
    for entry in plan.annotations:
        try:
            rows.append(shape_to_row(entry, classes))
        except LabnbError as exc:
            plan.problem(entry.item, str(exc))
    good = _check_rows(plan, rows, sizes, classes, schema)

    if plan.problems and on_error == "raise":
        raise ImportProblems(plan.source, plan.problems)

    missing = [c for c in plan.new_labels if c.name not in existing_names]
    _write(project, plan, good, sizes, missing, progress)
    skipped: pd.DataFrame = pd.DataFrame(plan.problems, columns=SKIPPED_COLUMNS)
    skipped.attrs["imported_images"] = len(sizes)
    skipped.attrs["imported_annotations"] = len(good)
    return skipped


def _valid_new_labels(plan: ImportPlan, known: dict[str, LabelClass]) -> list[LabelClass]:
    """New classes that pass the schema's checks, once each; the others become problems up front,
    so a bad category name is reported like any other item instead of failing the write."""
    out: list[LabelClass] = []
    seen = set(known)
    for c in plan.new_labels:
        raw = c.name
        try:
            c.validate()
        except SchemaError as exc:
            plan.problem(f"label {raw!r}", str(exc))
            continue
        if c.name != raw:
            plan.problem(f"label {raw!r}", "has leading or trailing spaces")
            continue
        if c.name not in seen:
            seen.add(c.name)
            out.append(c)
    return out


def _check_rows(
    plan: ImportPlan,
    rows: list[Row],
    sizes: dict[Hashable, tuple[int, int]],
    classes: dict[str, LabelClass],
    schema: Schema,
) -> list[Row]:
    """Image known, label known, inside the image (small tolerance), attributes valid.

    One plain loop with cheap comparisons: at a million rows this costs well under a second, less
    than building a shape object per row would.
    """
    good: list[Row] = []
    for r in rows:
        size = sizes.get(r.image_key)
        if size is None:
            if r.image_key in plan.bad_images:
                plan.problem(r.item, f"skipped because its image ({r.image_key}) was skipped")
            else:
                plan.problem(r.item, f"refers to image {r.image_key!r}, which the source does not list")
            continue
        if r.label is None:
            if r.kind != "tag":
                plan.problem(r.item, "has no label")
                continue
        elif r.label not in classes:
            plan.problem(r.item, f"unknown label '{r.label}'; the project's labels are {sorted(classes)}")
            continue
        if r.source not in SOURCES:
            plan.problem(r.item, f"unknown source {r.source!r}")
            continue
        width, height = size
        if r.mask_size is not None:
            if r.mask_size != (height, width):
                plan.problem(r.item, f"mask is {r.mask_size[1]}x{r.mask_size[0]}, image is {width}x{height}")
                continue
        elif r.kind != "tag":
            tol = inside_tolerance(width, height)
            if r.x < -tol or r.y < -tol or r.x + r.w > width + tol or r.y + r.h > height + tol:
                plan.problem(
                    r.item,
                    f"{r.kind} '{r.label}' extends outside the {width}x{height} image "
                    f"(bbox x={r.x:g}, y={r.y:g}, w={r.w:g}, h={r.h:g})",
                )
                continue
        if r.attributes:
            try:
                schema.check_attributes(r.label, r.attributes, r.item)
            except LabnbError as exc:
                plan.problem(r.item, str(exc))
                continue
        good.append(r)
    return good


def _check_images(plan: ImportPlan, progress: bool, previews: PreviewWriter) -> dict[Hashable, tuple[int, int]]:
    """Probe each image file and store its small levels (``labnb.pyramid``); returns ``key -> (width,
    height)`` for the usable ones. A file whose previews cannot be made is a problem like an unreadable one.

    The files are read in the preview writer's threads, and their results taken in the plan's order, so the
    problems come in the order of a plain loop."""
    sizes: dict[Hashable, tuple[int, int]] = {}
    listed = _listed(plan)
    with_files = sum(1 for img, _, twice in listed if img.path is not None and twice is None)
    bar = tqdm(total=with_files, desc="checking images", disable=not progress or with_files < 50)

    def read(entry: tuple[ImageEntry, str, str | None]) -> tuple[ImageInfo, list[Preview]] | None:
        img, _, twice = entry
        if img.path is None or twice is not None:
            return None
        data = read_file(img.path)
        info = img.info or probe_bytes(data, str(img.path))
        return info, previews.make(data, str(img.path), info.sha256, info.width, info.height)

    for (img, item, twice), done in zip(listed, previews.map(read, listed), strict=True):
        if twice is not None:
            plan.problem(item, twice)
            continue
        if img.path is not None:
            bar.update()
            try:
                result = done.result()
            except AssetError as exc:
                plan.problem(item, str(exc))
                plan.bad_images.add(img.key)
                continue
            assert result is not None
            info, made = result
            previews.keep(info.sha256, made)
            if (
                img.width is not None
                and img.height is not None
                and (img.width, img.height) != (info.width, info.height)
            ):
                plan.problem(
                    item,
                    f"the source says {img.width}x{img.height} but the file is {info.width}x{info.height}",
                )
                plan.bad_images.add(img.key)
                continue
            img.width, img.height = info.width, info.height
            img.meta = {**img.meta, "_sha256": info.sha256, "_format": info.format}
        elif not (isinstance(img.width, int) and isinstance(img.height, int) and img.width > 0 and img.height > 0):
            plan.problem(item, f"needs a positive width and height, got {img.width!r} x {img.height!r}")
            plan.bad_images.add(img.key)
            continue
        assert img.width is not None
        assert img.height is not None
        sizes[img.key] = (img.width, img.height)
    bar.close()
    return sizes


def _listed(plan: ImportPlan) -> list[tuple[ImageEntry, str, str | None]]:
    """Each image with the name problems use, and why it is left out before its file is read (an id or a
    file name listed twice), if it is. A second image of a file name is a bad image: its annotations go too."""
    out: list[tuple[ImageEntry, str, str | None]] = []
    seen_keys: set[Hashable] = set(plan.bad_images)
    seen_names: dict[str, Hashable] = {}
    for img in plan.images:
        item = f"image '{img.file_name}'" if img.key == img.file_name else f"image '{img.file_name}' ({img.key})"
        twice = None
        if img.key in seen_keys:
            twice = f"image id {img.key!r} is listed twice"
        elif img.file_name in seen_names:
            twice = f"file name listed twice (ids {seen_names[img.file_name]!r} and {img.key!r})"
            plan.bad_images.add(img.key)
        seen_keys.add(img.key)
        if twice is None:
            seen_names[img.file_name] = img.key
        out.append((img, item, twice))
    return out


def _write(
    project: Project,
    plan: ImportPlan,
    good: list[Row],
    sizes: dict[Hashable, tuple[int, int]],
    new_labels: list[LabelClass],
    progress: bool,
) -> None:
    try:
        with writing(project) as w:
            schema = project._add_labels(new_labels, w.conn) if new_labels else project.schema
            label_ids: dict[str | None, int | None] = {c.name: c.id for c in schema.classes}
            _write_rows(project, w, plan, good, sizes, label_ids, progress)
            if plan.tag_options:
                _add_tag_options(project, w.conn, plan.tag_options)
    except BaseException:
        project._schema = None  # the classes' new ids were rolled back with the transaction
        raise


def _add_tag_options(project: Project, conn: sa.Connection, options: dict[str, list[str]]) -> None:
    """Give the schema the tag groups and options the imported tags use (a new group takes any number of
    its options per image), in the import's transaction; the cached schema is read again afterwards."""
    settings = project._settings(conn)
    groups: list[dict[str, Any]] = settings.setdefault("tags", [])
    for name, values in options.items():
        group = next((g for g in groups if g["name"] == name), None)
        if group is None:
            groups.append(asdict(TagGroup(name, list(values), multi=True)))
        else:
            group["options"] += [v for v in values if v not in group["options"]]
    conn.execute(projects.update().where(projects.c.id == project.id).values(settings=dumps(settings)))
    project._schema = None


def _write_rows(
    project: Project,
    w: Writes,
    plan: ImportPlan,
    good: list[Row],
    sizes: dict[Hashable, tuple[int, int]],
    label_ids: dict[str | None, int | None],
    progress: bool,
) -> None:
    conn = w.conn
    user, pid = project.user, project.id
    when = now()
    stamp = dbapi_datetime(conn, when)
    by_name = dict(conn.execute(sa.select(assets.c.file_name, assets.c.id).where(assets.c.project_id == pid)).all())
    new_images = [i for i in plan.images if i.key in sizes and i.file_name not in by_name]
    first = reserve_ids(conn, assets, len(new_images))
    asset_rows = []
    for offset, img in enumerate(new_images):
        meta = dict(img.meta)
        sha, fmt = meta.pop("_sha256", None), meta.pop("_format", None)
        uri = img.path.resolve().as_uri() if img.path is not None else (img.uri or img.file_name)
        asset_rows.append(
            (
                first + offset,
                pid,
                uri,
                img.file_name,
                img.width,
                img.height,
                sha,
                fmt,
                dumps(meta),
                img.sequence,
                img.frame_index,
                stamp,
                user,
            )
        )
        by_name[img.file_name] = first + offset
    bulk_insert(conn, assets, ASSET_COLUMNS, asset_rows)
    key_to_asset = {i.key: by_name[i.file_name] for i in plan.images if i.key in sizes}
    label_ids[None] = None  # tags have no label
    rows = [
        (
            pid,
            key_to_asset[r.image_key],
            label_ids[r.label],
            r.kind,
            r.data,
            r.x,
            r.y,
            r.w,
            r.h,
            r.area,
            r.iscrowd,
            dumps(r.attributes) if r.attributes else None,
            r.source,
            r.model,
            r.model_version,
            r.score,
            r.track_id,
            1,
            False,
            user,
            stamp,
            user,
            stamp,
        )
        for r in tqdm(good, desc="writing annotations", disable=not progress or len(good) < 100_000)
    ]
    for fmt, values in plan.format_settings.items():
        project._merge_format_settings(conn, fmt, values)
    w.bulk_create(
        rows,
        kind="import",
        payload={
            "source": plan.source,
            "images": len(sizes),
            "new_images": len(new_images),
            "annotations": len(good),
            "skipped": len(plan.problems),
        },
        asset_ids=key_to_asset.values(),
        sources={r.source for r in good},
        stamp=when,
    )
