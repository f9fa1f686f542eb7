"""The image pyramid: small levels stored when images are added, the full image after its preview, tiles of
huge images decoded on demand, and the size limit that keeps decompression bombs out.

The widget is driven with the messages the front end sends (js/src/types.ts); what it sends back is
collected by replacing ``send``. No test here times anything: "fast" is asserted as "nothing was decoded".
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from alembic import command
from PIL import Image

import labnb as lb
from labnb import pyramid
from labnb.imaging import MAX_PIXELS, decode_reduced
from labnb.store import database as db
from labnb.store.tables import image_previews
from labnb.widgets.annotator import Annotator

HUGE = (20_000, 15_000)
#: a 1-px checkerboard in the huge image: grey at every level but 0
CHECKER = (12_288, 9_216, 512, 512)  # x, y, w, h: tile (24, 18) of level 0


@pytest.fixture(autouse=True)
def plain_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets talk through comm's kernel-less stand-in, as in tests/test_annotator_python.py."""
    import comm  # noqa: PLC0415

    monkeypatch.setattr(comm, "create_comm", comm.DummyComm)


def checkerboard(w: int, h: int) -> np.ndarray[Any, np.dtype[np.uint8]]:
    yy, xx = np.mgrid[0:h, 0:w]
    return np.where((xx + yy) % 2 == 0, 255, 0).astype(np.uint8)


@pytest.fixture(scope="session")
def huge_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 20000x15000 JPEG (300 MP), flat grey with a 1-px checkerboard patch; made once per session."""
    path = tmp_path_factory.mktemp("huge") / "huge.jpg"
    im = Image.new("RGB", HUGE, (90, 120, 150))
    x, y, w, h = CHECKER
    im.paste(Image.fromarray(checkerboard(w, h)).convert("RGB"), (x, y))
    im.save(path, quality=95, subsampling=0)
    return path


def collect(widget: Annotator) -> list[tuple[dict[str, Any], list[bytes]]]:
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))  # type: ignore[method-assign]
    return sent


def wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the background work did not finish"
        time.sleep(0.02)


def stored(p: lb.Project) -> dict[tuple[str, int], tuple[int, int, str]]:
    with p._engine.connect() as conn:
        rows = conn.execute(sa.select(image_previews)).all()
    return {(r.sha256, r.side): (r.width, r.height, r.format) for r in rows}


def sha(p: lb.Project, name: str) -> str:
    return str(p.assets.df.set_index("file_name").sha256[name])


# -- stored small levels ------------------------------------------------------------------------------
def test_adding_images_stores_their_small_levels(tmp_path: Path) -> None:
    Image.new("RGB", (3000, 2000), (200, 30, 30)).save(tmp_path / "photo.jpg", quality=90)
    Image.new("RGBA", (600, 400), (0, 0, 255, 128)).save(tmp_path / "clear.png")
    Image.new("RGB", (200, 100)).save(tmp_path / "tiny.png")
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    p.add_images(tmp_path, progress=False)
    got = stored(p)
    assert got[(sha(p, "photo.jpg"), 1024)] == (1024, 683, "jpeg")
    assert got[(sha(p, "photo.jpg"), 256)] == (256, 171, "jpeg")
    assert got[(sha(p, "clear.png"), 256)] == (256, 171, "webp")  # transparency kept
    assert (sha(p, "clear.png"), 1024) not in got  # not smaller than the image: the image is its own preview
    assert not any(k[0] == sha(p, "tiny.png") for k in got)
    with p._engine.connect() as conn:
        thumb = pyramid.load_preview(conn, sha(p, "clear.png"), 256)
    assert thumb is not None
    r, _, b, a = Image.open(io.BytesIO(thumb.data)).convert("RGBA").getpixel((128, 85))
    assert (b > 200, r < 40, 100 < a < 160) == (True, True, True)
    made = pyramid.thumbnail(p._engine, p.asset("photo.jpg"))  # what the metric explorer shows
    assert made is not None
    assert (made.width, made.height) == (256, 171)
    assert pyramid.thumbnail(p._engine, p.asset("tiny.png")) is None  # it is its own thumbnail


def test_importers_store_small_levels_too(tmp_path: Path) -> None:
    Image.new("RGB", (2000, 1500), (10, 200, 10)).save(tmp_path / "a.jpg")
    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 2000, "height": 1500}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 10, 10], "area": 100, "iscrowd": 0}],
        "categories": [{"id": 1, "name": "x"}],
    }
    (tmp_path / "c.json").write_text(json.dumps(coco))
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    p.import_coco(tmp_path / "c.json", images=tmp_path, progress=False)
    assert stored(p)[(sha(p, "a.jpg"), 1024)] == (1024, 768, "jpeg")


def broken_tiff(path: Path) -> None:
    """A TIFF whose header is intact (so the quick checks pass) but whose deflated pixels cannot be decoded
    (a PNG is decoded whole by the probe already: Pillow reads to its end for EXIF)."""
    pixels = np.random.default_rng(0).integers(0, 255, (400, 600, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, compression="tiff_deflate")
    data = bytearray(path.read_bytes())
    data[len(data) // 3 : len(data) // 3 + 2000] = bytes(2000)
    path.write_bytes(bytes(data))


def test_an_image_whose_preview_cannot_be_made_is_refused_by_name(tmp_path: Path) -> None:
    Image.new("RGB", (300, 300)).save(tmp_path / "good.png")
    broken_tiff(tmp_path / "broken.tif")
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    with pytest.raises(lb.AssetError, match=r"broken\.tif: cannot decode image"):
        p.add_images([tmp_path / "good.png", tmp_path / "broken.tif"], progress=False)
    assert len(p.assets.df) == 0  # nothing added
    coco = {
        "images": [{"id": 1, "file_name": "good.png", "width": 300, "height": 300},
                   {"id": 2, "file_name": "broken.tif", "width": 600, "height": 400}],
        "annotations": [],
        "categories": [{"id": 1, "name": "x"}],
    }  # fmt: skip
    (tmp_path / "c.json").write_text(json.dumps(coco))
    skipped = p.import_coco(tmp_path / "c.json", images=tmp_path, on_error="skip", progress=False)
    assert skipped.item.tolist() == ["image 'broken.tif' (2)"]
    assert "cannot decode image" in skipped.problem[0]
    assert p.assets.df.file_name.tolist() == ["good.png"]


def test_many_files_are_read_in_threads_and_reported_in_their_order(tmp_path: Path) -> None:
    """More files than the threads hold at once, bad ones among them: every bad file is named, in the
    order given, and the good ones are added in that order with their previews."""
    names = []
    for i in range(14):
        name = f"{i:02d}.jpg"
        if i in (1, 6, 13):
            (tmp_path / name).write_text("not an image")
        else:
            Image.new("RGB", (700, 500), (i * 15, 0, 0)).save(tmp_path / name)
        names.append(name)
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    with pytest.raises(lb.ImageProblems) as err:
        p.add_images(tmp_path, progress=False)
    assert [Path(item).name for item, _ in err.value.problems] == ["01.jpg", "06.jpg", "13.jpg"]
    with pytest.warns(UserWarning, match="3 file"):
        report = p.add_images(tmp_path, on_error="skip", progress=False)
    good = [n for i, n in enumerate(names) if i not in (1, 6, 13)]
    assert report.file_name.tolist()[:11] == good
    assert p.assets.df.file_name.tolist() == good
    assert {k[0] for k in stored(p)} == set(p.assets.df.sha256)


def test_previews_can_be_left_to_the_first_view(tmp_path: Path) -> None:
    """``previews="lazy"``: adding or importing decodes nothing; the widget and the thumbnail make them."""
    Image.new("RGB", (3000, 2000), (200, 30, 30)).save(tmp_path / "photo.jpg", quality=90)
    Image.new("RGB", (2000, 1500), (10, 200, 10)).save(tmp_path / "a.jpg")
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    with pytest.raises(lb.LabnbError, match=r"previews must be one of \('eager', 'lazy'\), got 'later'"):
        p.add_images(tmp_path / "photo.jpg", progress=False, previews="later")  # type: ignore[arg-type]
    assert len(p.assets) == 0
    p.add_images(tmp_path / "photo.jpg", progress=False, previews="lazy")
    coco = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 2000, "height": 1500}],
        "annotations": [],
        "categories": [{"id": 1, "name": "x"}],
    }
    (tmp_path / "c.json").write_text(json.dumps(coco))
    p.import_coco(tmp_path / "c.json", images=tmp_path, progress=False, previews="lazy")
    assert len(p.assets) == 2
    assert stored(p) == {}
    a = p.annotator()
    assert a.preview == b""
    wait_for(lambda: len(a.image) > 0 and len(stored(p)) == 2)  # shown: made in the background, and kept
    assert stored(p)[(sha(p, "photo.jpg"), 1024)] == (1024, 683, "jpeg")
    thumb = pyramid.thumbnail(p._engine, p.asset("a.jpg"))  # what the metric explorer shows
    assert thumb is not None
    assert (thumb.width, thumb.height) == (256, 192)
    assert len(stored(p)) == 4


def test_previews_no_asset_refers_to_can_be_removed(backend_url: str, tmp_path: Path) -> None:
    """Previews are shared by file hash across the projects of a database: only those of files no project
    has any more go (a project deleted from the database, the good files of an import that failed)."""
    for name, colour in (("one.jpg", 40), ("two.jpg", 120), ("three.jpg", 200), ("four.jpg", 250)):
        Image.new("RGB", (1500, 1000), (colour, 0, 0)).save(tmp_path / name)
    (tmp_path / "bad.jpg").write_text("not an image")
    url = backend_url if "://" in backend_url else f"sqlite:///{backend_url}"
    a = lb.Project.create(url, name="a", labels=["x"], user="olga")
    b = lb.Project.create(url, name="b", labels=["x"], user="olga")
    a.add_images([tmp_path / "one.jpg", tmp_path / "two.jpg"], progress=False)
    b.add_images([tmp_path / "two.jpg", tmp_path / "three.jpg"], progress=False)
    with pytest.raises(lb.ImageProblems):  # four.jpg's previews are made, then nothing is added
        a.add_images([tmp_path / "four.jpg", tmp_path / "bad.jpg"], progress=False)
    with b._engine.begin() as conn:  # no API removes a project: as a database administrator would
        conn.execute(sa.delete(sa.table("projects", sa.column("id"))).where(sa.column("id") == b.id))
    shas = {
        n: hashlib.sha256((tmp_path / n).read_bytes()).hexdigest()
        for n in ("one.jpg", "two.jpg", "three.jpg", "four.jpg")
    }
    assert {k[0] for k in stored(a)} == set(shas.values())
    with pytest.raises(lb.AccessDenied):
        lb.Project.open(url, name="a", user="ann").remove_unused_previews()
    assert a.remove_unused_previews() == 4  # three.jpg's and four.jpg's two levels
    assert {k[0] for k in stored(a)} == {shas["one.jpg"], shas["two.jpg"]}
    assert a.remove_unused_previews() == 0
    assert len(a.annotator(assets=[a.asset("two.jpg").id]).preview) > 0  # the shared one is still there


# -- sizes and the limit --------------------------------------------------------------------------------
def png_header_only(path: Path, width: int, height: int) -> None:
    """A tiny PNG file that claims ``width x height`` (a decompression bomb's header)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_by_name_and_a_300_megapixel_scan_is_not(
    tmp_path: Path, huge_jpeg: Path
) -> None:
    png_header_only(tmp_path / "bomb.png", 50_000, 50_000)
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    with pytest.raises(
        lb.AssetError, match=rf"bomb\.png: 50000x50000 pixels is more than labnb's limit of {MAX_PIXELS:,}"
    ):
        p.add_images(tmp_path / "bomb.png", progress=False)
    with pytest.raises(lb.AssetError, match=r"bomb\.png: 50000x50000 pixels is more than"):
        decode_reduced((tmp_path / "bomb.png").read_bytes(), "bomb.png", 8)
    p.add_images(huge_jpeg, progress=False)
    assert p.asset("huge.jpg").width == HUGE[0]


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_reduced_decodes_have_the_exact_size_of_their_level(tmp_path: Path, fmt: str) -> None:
    im = Image.new("RGB", (1001, 777), (1, 2, 3))
    exif = im.getexif()
    exif[0x0112] = 6  # shown rotated: levels are of the upright image
    buf = io.BytesIO()
    im.save(buf, format=fmt, exif=exif)
    for level in range(6):
        assert decode_reduced(buf.getvalue(), "x", 2**level).size == pyramid.level_size(777, 1001, level)


def test_level_cache_keeps_to_its_budget_but_keeps_one_oversized_level() -> None:
    cache = pyramid.LevelCache(budget=3 * 100 * 100 * 2)  # two 100x100 RGB levels
    for k in range(3):
        cache.get(("a", k), lambda: Image.new("RGB", (100, 100)))
    assert cache.peek(("a", 0)) is None  # least recently used out first
    assert cache.peek(("a", 2)) is not None
    cache.get(("big", 0), lambda: Image.new("RGB", (400, 400)))
    assert cache.peek(("big", 0)) is not None  # over the budget alone: kept, the rest out
    assert cache.peek(("a", 2)) is None


# -- the annotator ----------------------------------------------------------------------------------------
def test_the_preview_is_sent_first_and_the_full_image_follows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (3000, 2000), (200, 30, 30)).save(tmp_path / "photo.jpg", quality=90)
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    p.add_images(tmp_path / "photo.jpg", progress=False)
    opened: list[dict[str, Any]] = []
    real = Annotator.open

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(self.get_state())
        real(self, *args, **kwargs)

    monkeypatch.setattr(Annotator, "open", spy)  # undone after the test, whatever happens
    a = p.annotator()
    [state] = opened
    assert Image.open(io.BytesIO(state["preview"])).size == (1024, 683)
    assert state["image_info"]["preview_width"] == 1024
    assert (state["image_info"]["bitmap_width"], state["image_info"]["bitmap_height"]) == (3000, 2000)
    assert len(state["image"]) == 0  # the 3000x2000 file is not in the first message
    # nor sent before a view has painted the preview and asks for it: no background work was even started
    assert a._feed._follower is None
    assert a.image == b""
    a._on_message(a, {"type": "want_full", "asset_id": a.asset.id}, [])
    wait_for(lambda: len(a.image) > 0)
    assert a.image == (tmp_path / "photo.jpg").read_bytes()
    assert a.image_info["mime"] == "image/jpeg"


def test_huge_image_widget_is_built_without_decoding_it(tmp_path: Path, huge_jpeg: Path) -> None:
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    p.add_images(huge_jpeg, progress=False)
    pyramid.LEVELS.clear()
    decodes = pyramid.LEVELS.decodes
    a = p.annotator()
    assert pyramid.LEVELS.decodes == decodes  # nothing decoded to build or show it
    assert a.image == b""
    assert Image.open(io.BytesIO(a.preview)).size == (1024, 768)
    assert a.image_info["tiles"] == {"size": 512, "levels": 5}
    assert (a.image_info["bitmap_width"], a.image_info["bitmap_height"]) == HUGE

    sent = collect(a)
    x, y, _, _ = CHECKER
    tx, ty = x // 512, y // 512
    tiles = [[3, tx >> 3, ty >> 3], [0, tx, ty]]  # a coarse level, then full resolution
    a._on_message(a, {"type": "tiles", "id": 1, "view": "v", "asset_id": a.asset.id, "tiles": tiles}, [])
    wait_for(lambda: len(sent) == 2)
    (_, [coarse]), (fine_head, [fine]) = sent
    assert (fine_head["level"], fine_head["tx"], fine_head["ty"]) == (0, tx, ty)
    pixels = np.asarray(Image.open(io.BytesIO(fine)).convert("L")).astype(int)
    assert pixels.shape == (512, 512)
    assert (np.abs(pixels - checkerboard(512, 512)) < 60).mean() > 0.99  # every pixel as in the file
    grey = np.asarray(Image.open(io.BytesIO(coarse)).convert("L")).astype(int)
    patch = grey[(y >> 3) % 512 + 4 : (y >> 3) % 512 + 60, (x >> 3) % 512 + 4 : (x >> 3) % 512 + 60]
    assert patch.std() < 10  # at 1/8 the checkerboard is a flat grey: only level 0 shows it


def test_a_newer_request_of_a_view_supersedes_its_older_one(tmp_path: Path, huge_jpeg: Path) -> None:
    """Panning on while full resolution decodes: the tiles of where the view was are not all cut and sent."""
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    p.add_images(huge_jpeg, progress=False)
    a = p.annotator()
    sent = collect(a)
    pyramid.LEVELS.clear()  # the first tile of the old request decodes full resolution (seconds)
    old = [[0, tx, 3] for tx in range(10)]
    a._on_message(a, {"type": "tiles", "id": 1, "view": "v", "asset_id": a.asset.id, "tiles": old}, [])
    a._on_message(a, {"type": "tiles", "id": 2, "view": "v", "asset_id": a.asset.id, "tiles": [[4, 0, 0]]}, [])
    wait_for(lambda: any(head["id"] == 2 for head, _ in sent))
    assert sum(head["id"] == 1 for head, _ in sent) <= 1  # at most the tile being cut when the new one came


def test_tile_requests_are_checked(tmp_path: Path) -> None:
    Image.new("RGB", (9000, 300)).save(tmp_path / "wide.jpg")
    p = lb.Project.create(tmp_path / "p.labnb", labels=["x"])
    p.add_images(tmp_path / "wide.jpg", progress=False)
    a = p.annotator()
    a._on_message(a, {"type": "tiles", "id": 1, "view": "v", "asset_id": a.asset.id, "tiles": [[9, 0, 0]]}, [])
    assert "malformed tile request" in a.error
    sent = collect(a)
    a._on_message(a, {"type": "tiles", "id": 2, "view": "v", "asset_id": a.asset.id, "tiles": [[0, 99, 0]]}, [])
    wait_for(lambda: bool(sent))
    assert sent[0][0]["type"] == "tile_error"
    assert "no tile (99, 0)" in sent[0][0]["message"]


def test_a_project_made_before_previews_gets_them_when_an_image_is_shown(tmp_path: Path, huge_jpeg: Path) -> None:
    Image.new("RGB", (3000, 2000), (200, 30, 30)).save(tmp_path / "photo.jpg", quality=90)
    url = str(tmp_path / "old.labnb")
    lb.Project.create(url, labels=["x"], user="alice").add_images([tmp_path / "photo.jpg", huge_jpeg], progress=False)
    engine = db.make_engine(url)
    with engine.begin() as conn:  # back to the schema before image_previews, as a project of that time
        command.downgrade(db._config(conn), "0006")
    engine.dispose()
    p = lb.Project.open(url, user="alice")
    assert stored(p) == {}
    a = p.annotator()
    assert a.preview == b""  # none stored: the full image comes from the background thread, as it would anyway
    wait_for(lambda: len(a.image) > 0 and len(stored(p)) == 2)
    assert a.image == (tmp_path / "photo.jpg").read_bytes()
    a.position = 1  # the huge one: nothing to show without its preview, which is made in the background
    assert a.image == b""  # never the full bitmap of a huge image
    wait_for(lambda: len(a.preview) > 0)
    assert a.image_info["preview_width"] == 1024
    assert len(stored(p)) == 4
    assert len(p.annotator(assets=[2]).preview) > 0  # next time from the store
    p2 = lb.Project.open(url, user="alice")
    with p2._engine.begin() as conn:
        conn.execute(image_previews.delete())
    thumb = pyramid.thumbnail(p2._engine, p2.asset("photo.jpg"))  # made when first asked for, and kept
    assert thumb is not None
    assert thumb.width == 256
    assert len(stored(p2)) == 2
