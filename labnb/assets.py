"""Images of a project: the :class:`Asset` handle and :func:`add_images`.

Files are referenced where they are (``file://`` URIs, absolute paths); arrays and PIL images have no
file, so their pixels go into the database as PNG blobs, which also makes them reach every member of a
PostgreSQL team project. Exact duplicates (same SHA-256 of the encoded bytes) are reported, not added.
"""

from __future__ import annotations

import glob
import threading
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import sqlalchemy as sa
from PIL import Image
from tqdm.auto import tqdm

from labnb.clock import now
from labnb.errors import AssetError, ImageProblems, LabnbError
from labnb.event_log import record_event
from labnb.imaging import (
    ImageInfo,
    array_to_image,
    encode_png,
    open_image,
    probe_bytes,
    read_file,
    to_rgb_array,
)
from labnb.pyramid import Preview, Previews, PreviewWriter, preview_writer
from labnb.store.database import transaction
from labnb.store.rows import dumps
from labnb.store.tables import assets, blobs

if TYPE_CHECKING:
    from labnb.project import Project

OnError = Literal["raise", "skip"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


@dataclass
class Asset:
    """One image of the project. Pixels are read only by :meth:`image` / :meth:`array`."""

    id: int
    file_name: str
    uri: str
    width: int
    height: int
    sha256: str | None = None
    sequence: str | None = None
    frame_index: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    _read: Callable[[str], bytes] | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> Path | None:
        """Local file path, or ``None`` for images stored in the database."""
        return Path(unquote(urlparse(self.uri).path)) if self.uri.startswith("file://") else None

    def read_bytes(self) -> bytes:
        """The encoded image bytes (what the annotator sends to the browser)."""
        if self._read is None:
            raise AssetError(f"asset {self.id} ({self.file_name}): not bound to a project")
        return self._read(self.uri)

    def image(self) -> Image.Image:
        """The decoded image, EXIF orientation applied."""
        return open_image(self.read_bytes(), f"asset {self.id} ({self.file_name})")

    def array(self) -> np.ndarray[Any, np.dtype[np.uint8]]:
        """The image as an ``(h, w, 3)`` RGB uint8 array, whatever its mode."""
        return to_rgb_array(self.image())


def _expand(source: Any) -> list[Any]:
    """Accept a glob, a directory, a path, an array, a PIL image, or a list of any of those."""
    if isinstance(source, (str, Path)):
        text = str(source)
        if any(ch in text for ch in "*?["):
            found = sorted(glob.glob(text, recursive=True))  # noqa: PTH207 (absolute patterns too)
            if not found:
                raise AssetError(f"{text}: the pattern matches no file")
            return [Path(f) for f in found if Path(f).is_file()]
        path = Path(text)
        if path.is_dir():
            return sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        return [path]
    if isinstance(source, (np.ndarray, Image.Image)):
        return [source]
    if isinstance(source, Iterable):
        out: list[Any] = []
        for item in source:
            out += _expand(item) if isinstance(item, (str, Path)) else [item]
        return out
    raise AssetError(f"cannot add {type(source).__name__}: give paths, a glob, arrays or PIL images")


Prepared = tuple[str, str, ImageInfo, bytes | None, dict[str, Any]]
PNG_MODES = ("1", "L", "LA", "I;16", "RGB", "RGBA", "P")
_ENCODING = threading.Lock()


def _prepare(item: Any, index: int, previews: PreviewWriter) -> tuple[Prepared, list[Preview]]:
    """(file_name, uri, info, blob bytes or None, meta) for one source item, and its small levels still to
    store (an image whose previews cannot be made raises like an unreadable one). Runs in the preview
    writer's threads: it only reads its item and the store."""
    if isinstance(item, Path):
        data = read_file(item)
        info = probe_bytes(data, str(item))
        made = previews.make(data, str(item), info.sha256, info.width, info.height)
        return (item.name, item.resolve().as_uri(), info, None, {}), made
    if isinstance(item, str) and item.startswith(("http://", "https://")):
        raise AssetError(f"{item}: URLs need their size; import them with a format file that gives it")
    name = f"array-{index:06d}.png"
    with _ENCODING:  # one at a time: the caller's PIL image may be in the list twice (save() mutates it)
        if isinstance(item, Image.Image):
            name = Path(getattr(item, "filename", "") or name).name
            if not name.lower().endswith(".png"):
                name = f"{Path(name).stem or f'image-{index:06d}'}.png"
            data = encode_png(item if item.mode in PNG_MODES else item.convert("RGB"))
        elif isinstance(item, np.ndarray):
            data = encode_png(array_to_image(item, f"array #{index}"))
        else:
            raise AssetError(f"item #{index}: cannot add {type(item).__name__}")
    info = probe_bytes(data, name)
    made = previews.make(data, name, info.sha256, info.width, info.height)
    return (name, f"blob:{info.sha256}", info, data, {}), made


def add_images(
    project: Project,
    source: Any,
    *,
    sequence: str | None = None,
    on_error: OnError = "raise",
    progress: bool = True,
    previews: Previews = "eager",
) -> pd.DataFrame:
    """Probe, de-duplicate and add images in one transaction; return a row per item.

    The result has ``asset_id``, ``file_name``, ``status`` (``added``, ``duplicate`` or ``skipped``),
    ``duplicate_of`` and ``problem``. Every item is checked before anything is written: with
    ``on_error="raise"`` any bad file raises :class:`~labnb.errors.ImageProblems` listing all of them, each by
    name with its problem, and nothing is added; with ``on_error="skip"`` the good ones are added and the bad
    ones are the ``skipped`` rows, with the reason in ``problem``.

    ``previews`` (:data:`labnb.pyramid.Previews`): the stored small levels are made while the files are read
    (``"eager"``, in a few threads: about 60 ms of CPU for a 12 MP JPEG, 3 ms for a 640x480 one), or the
    first time each image is shown (``"lazy"``; a file whose pixels cannot be decoded then goes unnoticed
    until it is shown).
    """
    project.members.require("manager", "add images")
    if on_error not in ("raise", "skip"):
        raise LabnbError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    items = _expand(source)
    prepared = []
    skipped: list[tuple[str, str]] = []
    with preview_writer(project._engine, previews) as writer:
        work = writer.map(lambda i: _prepare(items[i], i, writer), range(len(items)))
        bar = tqdm(
            zip(items, work, strict=True),
            total=len(items),
            desc="reading images",
            disable=not progress or len(items) < 50,
        )
        for i, (item, done) in enumerate(bar):
            try:
                one, made = done.result()
            except AssetError as exc:
                skipped.append((_item_name(item, i), _problem(exc, item)))
                continue
            writer.keep(one[2].sha256, made)
            prepared.append(one)
    if skipped and on_error == "raise":
        raise ImageProblems("add_images", skipped)
    report = []
    with transaction(project._engine) as conn:
        known = dict(
            conn.execute(
                sa.select(assets.c.sha256, assets.c.id).where(
                    assets.c.project_id == project.id,
                    assets.c.sha256.in_([p[2].sha256 for p in prepared]),
                )
            ).all()
        )
        frame = _next_frame(conn, project.id, sequence) if sequence else None
        stamp = now()
        for name, uri, info, blob, meta in prepared:
            if info.sha256 in known:
                report.append((known[info.sha256], name, "duplicate", known[info.sha256]))
                continue
            if (
                blob is not None
                and not conn.execute(sa.select(blobs.c.sha256).where(blobs.c.sha256 == info.sha256)).first()
            ):
                conn.execute(blobs.insert().values(sha256=info.sha256, data=blob))
            asset_id = conn.execute(
                assets.insert()
                .values(
                    project_id=project.id,
                    uri=uri,
                    file_name=name,
                    width=info.width,
                    height=info.height,
                    sha256=info.sha256,
                    format=info.format,
                    meta=dumps(meta),
                    sequence=sequence,
                    frame_index=frame,
                    added_at=stamp,
                    added_by=project.user,
                )
                .returning(assets.c.id)
            ).scalar_one()
            if frame is not None:
                frame += 1
            known[info.sha256] = asset_id
            report.append((asset_id, name, "added", None))
        added = sum(1 for r in report if r[2] == "added")
        record_event(
            conn,
            project.id,
            project.user,
            "assets.add",
            payload={
                "added": added,
                "duplicates": len(report) - added,
                "skipped": len(skipped),
                "sequence": sequence,
            },
        )
    report += [(None, name, "skipped", None) for name, _ in skipped]
    df: pd.DataFrame = pd.DataFrame(report, columns=["asset_id", "file_name", "status", "duplicate_of"])
    df["asset_id"] = df["asset_id"].astype("Int64")
    df["duplicate_of"] = df["duplicate_of"].astype("Int64")
    df["problem"] = [None] * (len(report) - len(skipped)) + [problem for _, problem in skipped]
    dups = int((df["status"] == "duplicate").sum())
    if dups:
        warnings.warn(f"{dups} image(s) were exact duplicates and were not added again", stacklevel=3)
    if skipped:
        warnings.warn(
            f"{len(skipped)} file(s) could not be used and were skipped (rows with status 'skipped' say why)",
            stacklevel=3,
        )
    return df


def _item_name(item: Any, index: int) -> str:
    """How a problem names its item: the path as given, else the item's place in the input."""
    if isinstance(item, (Path, str)):
        return str(item)
    return f"item #{index} ({type(item).__name__})"


def _problem(exc: AssetError, item: Any) -> str:
    """The reason alone: the error's own text names the item first, which the report already does."""
    text = str(exc)
    for prefix in (f"{item}: ", f"{getattr(item, 'name', '')}: "):
        if prefix != ": " and text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _next_frame(conn: sa.Connection, project_id: int, sequence: str) -> int:
    last = conn.execute(
        sa.select(sa.func.max(assets.c.frame_index)).where(
            assets.c.project_id == project_id, assets.c.sequence == sequence
        )
    ).scalar()
    return 0 if last is None else int(last) + 1
