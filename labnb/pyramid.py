"""The image pyramid: small levels of every image kept in the store, full-resolution tiles of huge ones.

Level ``k`` of an image is the image at ``1/2**k`` of its size, ``ceil(w / 2**k) x ceil(h / 2**k)`` pixels
(after EXIF orientation), which is exactly what libjpeg's scaled decoding gives (``imaging.decode_reduced``).

**Stored small levels** (``image_previews``, migration 0007): each image gets, when it is added
(``p.add_images`` and every importer), the versions that fit in :data:`PREVIEW_SIDES` pixels (a 256-px
thumbnail, the one the metric explorer shows, and a 1024-px preview, the one the annotator paints first),
each only when it is smaller than the image itself. They are made from one reduced decode (JPEG at the
smallest of 1/2..1/8 scale still larger than 1024 px: ~30 ms for a 12 MP photo, then ~25 ms of resizing
and encoding), in :func:`preview_threads` threads (Pillow releases the GIL meanwhile), and stored as JPEG
(WebP when the image has transparency), keyed by the image file's SHA-256 like ``blobs``: written in small
transactions of their own while the files are read, so a large import holds at most one batch of them in
memory and no write lock while decoding; a preview left by an import that then failed is reused when that
file is added again, and :func:`remove_unused_previews` (``p.remove_unused_previews()``) deletes those no
asset refers to. ``previews="lazy"`` (:data:`Previews`) leaves them to the first time each image is shown,
as for projects made before 0007 (``labnb.widgets.imagefeed``, :func:`ensure_previews`).

**Tiles** of a huge image (:func:`is_tiled`: a side over 8192 px or over 40 MP, beyond what a browser
decodes into one bitmap at reasonable cost): square :data:`TILE_SIZE` pieces of a level, JPEG (WebP with
transparency). The browser asks for the tiles of the part it shows at the level its zoom needs; they are
cut from the decoded level, which :class:`LevelCache` keeps (least recently used first out, within
``LABNB_TILE_MEMORY_MB``, 1024 by default: a 20000x15000 image's full resolution is 900 MB), and encoded
tiles are kept too (64 MB), so panning back costs nothing. Only the levels finer than the stored 1024-px
preview are tiled: coarser views draw the preview.
"""

from __future__ import annotations

import io
import math
import os
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

import sqlalchemy as sa
from PIL import Image

from labnb.errors import LabnbError
from labnb.imaging import MAX_DISPLAY_SIDE, decode_reduced
from labnb.store.database import in_batches, transaction
from labnb.store.tables import assets, image_previews

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from labnb.assets import Asset

#: The stored small levels: longest side at most this many pixels, each made when the image is larger.
PREVIEW_SIDES = (256, 1024)
THUMBNAIL_SIDE, PREVIEW_SIDE = PREVIEW_SIDES
PREVIEW_QUALITY = 80
#: Bicubic, not Lanczos: from the reduced decode (under twice the preview's size) it is 1.5x faster (23
#: against 35 ms from 2000x1500 to 1024x768 on the CI machine, about as long as the 1/2-scale decode), and
#: looks the same: 47 dB PSNR against a Lanczos resize of the full-resolution image (docs/PERFORMANCE.md).
PREVIEW_FILTER = Image.Resampling.BICUBIC
TILE_SIZE = 512
#: 4:4:4 (no chroma subsampling): at full resolution a tile shows every pixel as it is in the file.
TILE_QUALITY = 90
#: Images above either bound are shown as tiles rather than one bitmap.
TILED_SIDE = MAX_DISPLAY_SIDE
TILED_PIXELS = 40_000_000
MIMES = {"jpeg": "image/jpeg", "webp": "image/webp"}

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Preview:
    """A stored small level: ``side`` is its bound (256 or 1024), width x height its real size."""

    side: int
    width: int
    height: int
    format: str  # "jpeg" or "webp"
    data: bytes

    @property
    def mime(self) -> str:
        return MIMES[self.format]


def is_tiled(width: int, height: int) -> bool:
    """Whether the annotator shows this image as tiles (see the module docstring)."""
    return max(width, height) > TILED_SIDE or width * height > TILED_PIXELS


def level_count(width: int, height: int) -> int:
    """How many levels are tiled: 0 (full resolution) up to the last one still larger than the preview."""
    side = max(width, height)
    return max(1, math.ceil(math.log2(side / PREVIEW_SIDE))) if side > PREVIEW_SIDE else 1


def level_size(width: int, height: int, level: int) -> tuple[int, int]:
    f = 2**level
    return math.ceil(width / f), math.ceil(height / f)


def sides_for(width: int, height: int) -> list[int]:
    """The stored levels an image of this size gets: those smaller than the image."""
    return [s for s in PREVIEW_SIDES if max(width, height) > s]


def encode(im: Image.Image, quality: int) -> tuple[bytes, str]:
    """JPEG when opaque (several times faster to encode than WebP), WebP when transparent."""
    out = io.BytesIO()
    if im.mode == "RGBA":
        im.save(out, format="WEBP", quality=quality, method=2)
        return out.getvalue(), "webp"
    im.save(out, format="JPEG", quality=quality, subsampling=0 if quality >= TILE_QUALITY else 2)
    return out.getvalue(), "jpeg"


def make_previews(data: bytes, name: str, width: int, height: int) -> list[Preview]:
    """The stored small levels of an image (none when it is not larger than 256 px), from one reduced
    decode. A file that cannot be decoded raises :class:`~labnb.errors.AssetError` naming it."""
    sides = sides_for(width, height)
    if not sides:
        return []
    factor = 2 ** max(0, math.floor(math.log2(max(width, height) / max(sides))))
    im = decode_reduced(data, name, factor)  # a new image of our own: resized in place
    out = []
    for side in sorted(sides, reverse=True):  # each from the last: the small one from the 1024 px one
        if max(im.size) > side:
            im.thumbnail((side, side), PREVIEW_FILTER, reducing_gap=2.0)
        blob, fmt = encode(im, PREVIEW_QUALITY)
        out.append(Preview(side, im.size[0], im.size[1], fmt, blob))
    return out


def load_preview(conn: sa.Connection, sha256: str, side: int) -> Preview | None:
    row = conn.execute(
        sa.select(
            image_previews.c.width, image_previews.c.height, image_previews.c.format, image_previews.c.data
        ).where(image_previews.c.sha256 == sha256, image_previews.c.side == side)
    ).first()
    return None if row is None else Preview(side, int(row.width), int(row.height), str(row.format), bytes(row.data))


def stored_sides(conn: sa.Connection, sha256s: Iterable[str]) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    for chunk in in_batches(sha256s, 500):
        rows = conn.execute(
            sa.select(image_previews.c.sha256, image_previews.c.side).where(image_previews.c.sha256.in_(chunk))
        ).all()
        found.update((str(r.sha256), int(r.side)) for r in rows)
    return found


def store_previews(conn: sa.Connection, items: Iterable[tuple[str, Preview]]) -> None:
    """Insert the ``(sha256, preview)`` pairs not stored yet (the same file added twice shares them)."""
    todo = list(items)
    have = stored_sides(conn, (sha for sha, _ in todo))
    rows, seen = [], set()
    for sha, p in todo:
        if (sha, p.side) in have or (sha, p.side) in seen:
            continue
        seen.add((sha, p.side))
        rows.append(
            {"sha256": sha, "side": p.side, "width": p.width, "height": p.height, "format": p.format, "data": p.data}
        )
    if rows:
        conn.execute(image_previews.insert(), rows)


def ensure_previews(engine: Engine, asset: Asset, data: bytes | None = None) -> list[Preview]:
    """The stored small levels of ``asset``, largest first, made (from ``data``, or its file) and stored
    first when there are none: a project made before migration 0007, or an asset without a file hash."""
    sides = sides_for(asset.width, asset.height)
    if asset.sha256:
        with engine.connect() as conn:
            found = [p for s in sorted(sides, reverse=True) if (p := load_preview(conn, asset.sha256, s)) is not None]
        if len(found) == len(sides):
            return found
    name = f"asset {asset.id} ({asset.file_name})"
    made = make_previews(asset.read_bytes() if data is None else data, name, asset.width, asset.height)
    if asset.sha256:
        with transaction(engine) as conn:
            store_previews(conn, [(asset.sha256, p) for p in made])
    return made


def thumbnail(engine: Engine, asset: Asset) -> Preview | None:
    """The 256-px thumbnail of ``asset`` (the metric explorer's), or None when the image is no larger: it is
    its own thumbnail."""
    return next((p for p in ensure_previews(engine, asset) if p.side == THUMBNAIL_SIDE), None)


#: How images added get their stored small levels: ``"eager"`` makes them while the files are read (the
#: default: every image shows at once the first time, and a file that cannot be decoded is refused by
#: name), ``"lazy"`` leaves them to the first time each image is shown (:func:`ensure_previews`), for a
#: very large import: adding then only reads, checks the header of and hashes each file.
Previews = Literal["eager", "lazy"]
PREVIEW_MODES = ("eager", "lazy")


def preview_threads() -> int:
    """Threads that make previews while images are added: Pillow releases the GIL while it decodes,
    resizes and encodes, so they run in parallel; at most 4 (a 12 MP photo costs ~60 ms of one core)."""
    return min(4, os.cpu_count() or 1)


class PreviewWriter:
    """Makes and stores the small levels of images as they are read, a batch per transaction.

    :meth:`map` runs the per-image work (reading, probing, :meth:`make`) in :func:`preview_threads`
    threads, a few images ahead of the caller, and hands back the results in the images' order, so
    progress bars, error reports and the order of what is added are those of a plain loop. :meth:`make`
    (called in those threads) decodes, raising :class:`~labnb.errors.AssetError` for an image that cannot
    be, the same error as any unreadable file; :meth:`keep` (in the caller's thread) queues the result
    until :data:`BATCH` are waiting; ``flush`` (also on leaving :func:`preview_writer`) writes them. Files
    whose previews are stored already are not decoded; with ``previews="lazy"`` none are."""

    BATCH = 200

    def __init__(self, engine: Engine, previews: Previews = "eager") -> None:
        if previews not in PREVIEW_MODES:
            raise LabnbError(f"previews must be one of {PREVIEW_MODES}, got {previews!r}")
        self.engine = engine
        self.lazy = previews == "lazy"
        self.pending: list[tuple[str, Preview]] = []
        self.known: set[str] = set()
        self._pool: ThreadPoolExecutor | None = None

    def make(self, data: bytes, name: str, sha256: str, width: int, height: int) -> list[Preview]:
        """The previews of one image still to store (thread-safe: reads the store, decodes)."""
        if self.lazy or sha256 in self.known:
            return []
        with self.engine.connect() as conn:
            if {(sha256, s) for s in sides_for(width, height)} <= stored_sides(conn, [sha256]):
                self.known.add(sha256)  # added before: nothing to decode
                return []
        return make_previews(data, name, width, height)

    def keep(self, sha256: str, previews: list[Preview]) -> None:
        self.known.add(sha256)
        self.pending += [(sha256, p) for p in previews]
        if len(self.pending) >= self.BATCH:
            self.flush()

    def map(self, work: Callable[[T], R], items: Iterable[T]) -> Iterator[Future[R]]:
        """``work(item)`` for each item in a thread pool, as futures in the items' order (``result()``
        raises what ``work`` raised). At most twice as many images as threads are in memory at once."""
        threads = preview_threads()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(threads, thread_name_prefix="labnb-previews")
        window: deque[Future[R]] = deque()
        for item in items:
            window.append(self._pool.submit(work, item))
            if len(window) >= 2 * threads:
                yield window.popleft()
        while window:
            yield window.popleft()

    def flush(self) -> None:
        if self.pending:
            with transaction(self.engine) as conn:
                store_previews(conn, self.pending)
            self.pending = []

    def close(self) -> None:
        """Stop the threads; images not started yet are not (a caller that raised wants no more of them)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


@contextmanager
def preview_writer(engine: Engine, previews: Previews = "eager") -> Iterator[PreviewWriter]:
    """A :class:`PreviewWriter` whose last batch is written when the block ends without an error."""
    writer = PreviewWriter(engine, previews)
    try:
        yield writer
        writer.flush()
    finally:
        writer.close()


def remove_unused_previews(engine: Engine) -> int:
    """Delete the stored previews of files no asset of any project in the database refers to; returns how
    many rows went.

    Previews are keyed by the file's SHA-256, not by project (two projects, or two imports, of the same
    file share them), so removing a project's rows cannot remove them: they outlive a project deleted from
    a shared PostgreSQL database, and an import that failed leaves those it had made (kept on purpose: the
    same files added again reuse them). A preview being written by an import that has not committed yet
    may go too; that image then gets it again the first time it is shown (:func:`ensure_previews`)."""
    used = sa.exists().where(assets.c.sha256 == image_previews.c.sha256)
    with transaction(engine) as conn:
        result = conn.execute(image_previews.delete().where(~used))
    return int(result.rowcount or 0)


# -- tiles --------------------------------------------------------------------------------------------
def _memory_budget() -> int:
    try:
        return max(64, int(os.environ.get("LABNB_TILE_MEMORY_MB", "1024"))) * 2**20
    except ValueError:
        return 1024 * 2**20


class LevelCache:
    """Decoded levels of huge images, least recently used out first, within ``budget`` bytes.

    One entry larger than the budget is still kept, alone (it is the one being looked at: without it every
    tile would decode the image again). Decoding is serialised process-wide, so two widgets on one image
    decode it once and memory holds at most one decode in progress beside the cache."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[str, int], Image.Image] = OrderedDict()
        self._lock = threading.Lock()
        self._decoding = threading.RLock()  # re-entered: a PNG's level k decodes level 0 first
        self.decodes = 0  # how many levels were decoded (tests read it: nothing is decoded before it is asked)

    @staticmethod
    def _size(im: Image.Image) -> int:
        return im.size[0] * im.size[1] * len(im.getbands())

    def peek(self, key: tuple[str, int]) -> Image.Image | None:
        with self._lock:
            im = self._items.get(key)
            if im is not None:
                self._items.move_to_end(key)
            return im

    def get(self, key: tuple[str, int], decode: Callable[[], Image.Image]) -> Image.Image:
        hit = self.peek(key)
        if hit is not None:
            return hit
        with self._decoding:
            hit = self.peek(key)  # decoded meanwhile by another widget
            if hit is not None:
                return hit
            im = decode()
            self.decodes += 1
        with self._lock:
            self._items[key] = im
            used = sum(self._size(v) for v in self._items.values())
            while len(self._items) > 1 and used > self.budget:
                _, old = self._items.popitem(last=False)
                used -= self._size(old)
        return im

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class _Bytes:
    """Encoded tiles, least recently used out first, within a byte budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._items: OrderedDict[tuple[str, int, int, int], tuple[bytes, str]] = OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int, int, int]) -> tuple[bytes, str] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: tuple[str, int, int, int], value: tuple[bytes, str]) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._used += len(value[0])
            while self._used > self.budget and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._used -= len(old[0])


LEVELS = LevelCache(_memory_budget())
TILES = _Bytes(64 * 2**20)


@dataclass(frozen=True)
class TileSource:
    """One image as tiles: ``key`` identifies its pixels (the file's SHA-256), ``read`` returns its bytes."""

    key: str
    name: str
    width: int
    height: int
    read: Callable[[], bytes]

    @property
    def levels(self) -> int:
        return level_count(self.width, self.height)

    def grid(self, level: int) -> tuple[int, int]:
        """Columns and rows of tiles at ``level``."""
        w, h = level_size(self.width, self.height, level)
        return math.ceil(w / TILE_SIZE), math.ceil(h / TILE_SIZE)

    def level(self, level: int) -> Image.Image:
        """The decoded level (cached). Levels other than 0 come from a reduced decode where the format
        has one (JPEG), else from level 0, so a PNG is decoded once whatever the zoom."""

        def decode() -> Image.Image:
            data = self.read()
            if level == 0 or data[:3] == b"\xff\xd8\xff":
                return decode_reduced(data, self.name, 2**level)
            return self.level(0).reduce(2**level)

        return LEVELS.get((self.key, level), decode)

    def tile(self, level: int, tx: int, ty: int) -> tuple[bytes, str]:
        """Tile ``(tx, ty)`` of ``level``, encoded: (bytes, mime)."""
        if not 0 <= level < self.levels:
            raise ValueError(f"{self.name}: no level {level} (levels 0..{self.levels - 1})")
        cols, rows = self.grid(level)
        if not (0 <= tx < cols and 0 <= ty < rows):
            raise ValueError(f"{self.name}: no tile ({tx}, {ty}) at level {level} ({cols} x {rows} tiles)")
        key = (self.key, level, tx, ty)
        hit = TILES.get(key)
        if hit is None:
            im = self.level(level)
            box = (
                tx * TILE_SIZE,
                ty * TILE_SIZE,
                min(im.size[0], (tx + 1) * TILE_SIZE),
                min(im.size[1], (ty + 1) * TILE_SIZE),
            )
            blob, fmt = encode(im.crop(box), TILE_QUALITY)
            hit = (blob, MIMES[fmt])
            TILES.put(key, hit)
        return hit
