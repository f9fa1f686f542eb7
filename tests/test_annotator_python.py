"""The Annotator's Python side, without a browser: payloads, the edit protocol, images, sanitising.

The browser half is exercised in tests/browser/; here the kernel side is driven with the same messages
the front end sends (js/src/types.ts), against a real project file.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
import traitlets
from PIL import Image

import labnb as lb
from labnb.assist import OnnxDetector
from labnb.assist import store as assist_store
from labnb.imaging import MAX_DISPLAY_SIDE, display_image
from labnb.sample import MODELS
from labnb.store.tables import annotation_rows, prediction_runs
from labnb.widgets.serializers import dto_to_shape, safe_text, shape_to_dto
from labnb.workflow.guides import render_guide

PERSON = {"name": "person", "keypoints": ["head", "hip", "foot"], "skeleton": [[0, 1], [1, 2]]}


@pytest.fixture(autouse=True)
def plain_comm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widgets here talk through the comm package's own stand-in for a kernel-less process, as they do in a
    plain Python session. (pytest-ipywidgets, loaded for the browser tests, installs solara's comm, whose
    missing kernel makes ipywidgets drop every state update, so no test here could see what is sent.)"""
    import comm  # noqa: PLC0415

    monkeypatch.setattr(comm, "create_comm", comm.DummyComm)


@pytest.fixture
def project(tmp_path: Path) -> lb.Project:
    p = lb.Project.create(
        tmp_path / "p.labnb",
        labels=["duck", PERSON],
        tags=[{"name": "time", "options": ["day", "night"]}],
        user="alice",
    )
    for i in range(3):
        Image.new("RGB", (200, 100), (i * 60, 10, 10)).save(tmp_path / f"im{i}.png")
    p.add_images(sorted(tmp_path.glob("im*.png")))
    return p


def box_dto(
    cid: str, x: float = 10, y: float = 10, w: float = 20, h: float = 20, label: str = "duck"
) -> dict[str, Any]:
    return {
        "id": None,
        "cid": cid,
        "label": label,
        "attributes": {},
        "track_id": None,
        "geometry": {"kind": "box", "x": x, "y": y, "w": w, "h": h},
    }


def send(annotator: lb.widgets.annotator.Annotator, edits: list[dict[str, Any]], batch: int = 1) -> None:
    annotator._on_message(
        annotator, {"type": "edits", "batch": batch, "asset_id": annotator.asset.id, "edits": edits}, []
    )


def test_every_kind_round_trips_through_the_wire_format() -> None:
    mask = np.zeros((30, 40), bool)
    mask[0:5, 0:3] = True  # starts with foreground: runs must start with a 0-length background
    mask[10:20, 25:39] = True
    shapes = [
        lb.Box(1.5, 2, 3, 4, label="duck", attributes={"a": 1}, track_id=4),
        lb.Polygon([[(0, 0), (10, 0), (5, 5)], [(20, 20), (30, 20), (25, 28)]], label="duck"),
        lb.Keypoints({"head": (1, 2, 2), "foot": (3, 4, 1)}, label="person"),
        lb.Mask(mask, label="duck"),
        lb.Tag("night", group="time"),
    ]
    for shape in shapes:
        back = dto_to_shape(shape_to_dto(shape, "c1"))
        assert type(back) is type(shape)
        assert back.bbox == pytest.approx(shape.bbox)
        assert back.attributes == shape.attributes
    runs = shape_to_dto(shapes[3], "m")["geometry"]["rle"]
    assert runs["counts"][0] == 0
    assert sum(runs["counts"]) == 30 * 40
    np.testing.assert_array_equal(dto_to_shape(shape_to_dto(shapes[3], "m")).to_array(), mask)


def test_edits_create_update_delete_restore_with_events(project: lb.Project) -> None:
    a = project.annotator()
    send(a, [{"op": "create", "cid": "c1", "shape": box_dto("c1"), "duration_ms": 2500}])
    assert a.status == "1 edit saved"
    assert a.error == ""
    [created] = project.get_annotations(a.asset.id)
    assert created.bbox == (10, 10, 20, 20)
    assert a.shapes[0]["cid"] == "c1"  # the refreshed trait keeps the browser's client id
    aid = created.id
    send(
        a,
        [
            {"op": "update", "id": aid, "cid": "c1", "shape": box_dto("c1", x=15), "duration_ms": 800},
            {"op": "delete", "id": aid, "cid": "c1", "duration_ms": 100},
            {"op": "restore", "id": aid, "cid": "c1", "duration_ms": 0},
        ],
        batch=2,
    )
    assert a.status == "3 edits saved"
    assert list(project.history(aid).replaced_by) == ["update", "delete", "restore", "current"]
    ev = project.events.df
    edits = ev[ev.kind.str.startswith("annotation.")]
    assert list(edits.kind) == ["annotation.create", "annotation.update", "annotation.delete", "annotation.restore"]
    assert list(edits.duration[:3]) == [2.5, 0.8, 0.1]
    assert set(edits.user) == {"alice"}


def sent_messages(annotator: lb.widgets.annotator.Annotator) -> list[dict[str, Any]]:
    """Record every message the widget sends the browser from now on (state updates and custom messages
    both leave through ipywidgets' ``Widget._send``)."""
    log: list[dict[str, Any]] = []
    real = annotator._send

    def send(msg: dict[str, Any], buffers: Any = None) -> None:
        log.append(msg)
        real(msg, buffers)

    annotator._send = send  # type: ignore[method-assign]
    return log


def test_an_edit_batch_is_acknowledged_with_a_delta_not_a_resend_of_every_shape(project: lb.Project) -> None:
    a = project.annotator()
    project.annotate(a.asset.id, [lb.Box(100, 50, 10, 10, label="duck") for _ in range(50)])
    a.refresh()
    sent = sent_messages(a)
    send(a, [{"op": "create", "cid": "c1", "shape": box_dto("c1"), "duration_ms": 5}])
    assert a.error == ""
    [ack] = [m["content"] for m in sent if m.get("method") == "custom"]
    assert all("shapes" not in m.get("state", {}) for m in sent)
    [created] = [s for s in project.get_annotations(a.asset.id) if s.bbox == (10, 10, 20, 20)]
    assert [d["cid"] for d in ack["upsert"]] == ["c1"]
    assert ack["upsert"][0]["id"] == created.id
    assert ack["removed"] == []
    # Python's own copy is current without having been sent: a reloaded page gets all 51 shapes
    state = a.get_state()["shapes"]
    assert len(state) == 51
    assert {"c1"} <= {d["cid"] for d in state}

    # refused edits come back as they are stored: a refused create is removed, a refused update restored
    sent.clear()
    send(
        a,
        [
            {"op": "create", "cid": "bad", "shape": box_dto("bad", x=float("nan")), "duration_ms": 5},
            {"op": "update", "id": created.id, "cid": "c1", "shape": box_dto("c1", x=900), "duration_ms": 5},
        ],
        batch=2,
    )
    [ack] = [m["content"] for m in sent if m.get("method") == "custom"]
    assert ack["removed"] == ["bad"]
    assert [(d["cid"], d["geometry"]["x"]) for d in ack["upsert"]] == [("c1", 10)]
    assert all("shapes" not in m.get("state", {}) for m in sent)


def test_the_first_image_travels_with_the_widget(project: lb.Project) -> None:
    """The state the browser gets when the widget is created already holds the image, its size and its
    shapes, so the front end can start decoding before any view exists."""
    opened: list[dict[str, Any]] = []
    real = lb.widgets.annotator.Annotator.open

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        opened.append(self.get_state())
        real(self, *args, **kwargs)

    lb.widgets.annotator.Annotator.open = spy  # type: ignore[method-assign]
    try:
        a = project.annotator()
    finally:
        lb.widgets.annotator.Annotator.open = real  # type: ignore[method-assign]
    [state] = opened
    assert state["image_info"]["asset_id"] == a.asset.id
    assert len(state["image"]) > 0
    assert state["shapes"] == []


def test_bad_edits_are_refused_one_by_one(project: lb.Project) -> None:
    a = project.annotator()
    gt_id = project.annotate(a.asset.id, lb.Box(1, 1, 5, 5, label="duck"), source="ground_truth")[0]
    other = project.annotate(int(project.assets.df.asset_id[1]), lb.Box(1, 1, 5, 5, label="duck"))[0]
    send(
        a,
        [
            {"op": "create", "cid": "ok", "shape": box_dto("ok"), "duration_ms": 10},
            {"op": "create", "cid": "nan", "shape": box_dto("nan", x=float("nan")), "duration_ms": 10},
            {"op": "create", "cid": "out", "shape": box_dto("out", x=500), "duration_ms": 10},
            {"op": "create", "cid": "swan", "shape": box_dto("swan", label="swan"), "duration_ms": 10},
            {"op": "update", "id": gt_id, "cid": "gt", "shape": box_dto("gt"), "duration_ms": 10},
            {"op": "delete", "id": other, "cid": "other", "duration_ms": 10},
        ],
    )
    assert a.status == "1 edit saved, 5 refused"
    assert "finite" in a.error
    assert "outside" in a.error
    assert "unknown label 'swan'" in a.error
    assert f"annotation {gt_id} is not a human annotation" in a.error
    assert len(project.get_annotations(a.asset.id, source="human")) == 1
    assert len(project.get_annotations(a.asset.id, source="ground_truth")) == 1


def test_ground_truth_stays_out_of_an_annotators_widget(project: lb.Project, tmp_path: Path) -> None:
    asset = int(project.assets.df.asset_id[0])
    project.annotate(asset, lb.Box(51.625, 50, 10, 10, label="duck"), source="ground_truth")
    project.members.add("bob", role="annotator")
    bob = lb.Project.open(tmp_path / "p.labnb", user="bob")
    a = bob.annotator()
    assert a.shapes == []
    state = a.get_state()
    assert "51.625" not in str({k: v for k, v in state.items() if not k.startswith("_")})  # no trace of the gold box
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        bob.annotator(source="ground_truth")
    assert len(project.annotator(source="ground_truth").shapes) == 1


def test_navigation_loads_each_image_and_its_shapes(project: lb.Project) -> None:
    ids = [int(i) for i in project.assets.df.asset_id]
    project.annotate(ids[2], lb.Box(1, 1, 5, 5, label="duck"))
    a = project.annotator(assets=[ids[2], ids[0]])
    assert a.image_info["index"] == 0
    assert a.image_info["count"] == 2
    assert len(a.shapes) == 1
    a.position = 1
    assert a.asset.id == ids[0]
    assert a.shapes == []
    a.position = 7
    assert "no image at position 7" in a.error


def test_python_side_shapes_are_checked_at_assignment(project: lb.Project) -> None:
    a = project.annotator()
    with pytest.raises(traitlets.TraitError, match="finite"):
        a.shapes = [box_dto("x", x=float("nan"))]
    with pytest.raises(traitlets.TraitError, match="outside the 200x100 image"):
        a.shapes = [box_dto("x", x=190, w=50)]
    a.shapes = [box_dto("x")]


def test_keymap_and_empty_projects(project: lb.Project, tmp_path: Path) -> None:
    a = project.annotator(keymap={"tool_box": "r"})
    assert a.keymap["tool_box"] == "r"
    assert a.keymap["undo"] == "Ctrl+z"
    with pytest.raises(lb.LabnbError, match="unknown keymap action"):
        project.annotator(keymap={"fly": "f"})
    empty = lb.Project.create(tmp_path / "e.labnb", labels=["a"])
    with pytest.raises(lb.LabnbError, match="no images to label"):
        empty.annotator()


def encode(im: Image.Image, fmt: str, **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "mime", "original"),
    [
        ("jpeg", lambda: encode(Image.new("RGB", (64, 32), (1, 2, 3)), "JPEG"), "image/jpeg", True),
        ("gray", lambda: encode(Image.new("L", (64, 32), 90), "PNG"), "image/png", True),
        ("rgba", lambda: encode(Image.new("RGBA", (64, 32), (1, 2, 3, 100)), "PNG"), "image/png", True),
        (
            "16-bit",
            lambda: encode(Image.fromarray((np.arange(2048, dtype=np.uint16) * 30).reshape(32, 64)), "PNG"),
            "image/jpeg",
            False,
        ),
        ("cmyk", lambda: encode(Image.new("CMYK", (64, 32), (0, 50, 100, 0)), "JPEG"), "image/jpeg", False),
        ("tiff", lambda: encode(Image.new("RGB", (64, 32)), "TIFF"), "image/jpeg", False),
    ],
)
def test_display_images_every_mode(name: str, make: Any, mime: str, original: bool) -> None:
    data = make()
    shown = display_image(data, name)
    assert shown.mime == mime
    assert (shown.data == data) is original  # browser-ready files travel as they are
    decoded = Image.open(io.BytesIO(shown.data))
    assert decoded.size == (64, 32) == (shown.width, shown.height)
    if name == "16-bit":  # scaled to the full 8-bit range, not clipped to white
        arr = np.asarray(decoded.convert("L"))
        assert arr.min() < 20
        assert arr.max() > 235


def test_very_wide_image_is_tiled_and_coordinates_stay_full(tmp_path: Path) -> None:
    """A 50,000 px wide image never reaches the browser as one bitmap over MAX_DISPLAY_SIDE: its preview
    first, then full-resolution tiles of what is on screen; coordinates stay in full resolution."""
    Image.new("RGB", (50_000, 400), (120, 130, 140)).save(tmp_path / "wide.jpg", quality=70)
    p = lb.Project.create(tmp_path / "w.labnb", labels=["duck"])
    p.add_images(tmp_path / "wide.jpg")
    a = p.annotator()
    info = a.image_info
    assert (info["width"], info["height"]) == (50_000, 400)
    assert a.image == b""  # never the whole bitmap
    assert info["tiles"]["levels"] >= 1
    assert max(Image.open(io.BytesIO(a.preview)).size) <= MAX_DISPLAY_SIDE
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    a.send = lambda content, buffers=None: sent.append((content, buffers or []))  # type: ignore[method-assign]
    tiles = [[0, 97, 0]]  # the last column at full resolution: x 49,664..50,000
    a._on_message(a, {"type": "tiles", "id": 1, "view": "v", "asset_id": a.asset.id, "tiles": tiles}, [])
    deadline = time.monotonic() + 30
    while not sent and time.monotonic() < deadline:
        time.sleep(0.02)
    [(head, [tile])] = sent
    assert (head["type"], head["level"], head["tx"], head["ty"]) == ("tile", 0, 97, 0)
    assert Image.open(io.BytesIO(tile)).size == (50_000 - 97 * 512, 400)
    send(a, [{"op": "create", "cid": "c", "shape": box_dto("c", x=49_000, y=100, w=900, h=200), "duration_ms": 5}])
    assert p.get_annotations(a.asset.id)[0].bbox == (49_000, 100, 900, 200)


def test_exif_rotated_photo_is_shown_upright(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 10), (10, 200, 10))
    exif = img.getexif()
    exif[0x0112] = 6
    data = encode(img, "JPEG", exif=exif)
    shown = display_image(data, "rot.jpg")
    assert (shown.width, shown.height) == (10, 40)


def test_guides_and_names_are_sanitised() -> None:
    html = render_guide("# Draw\n<script>alert(1)</script><img src=x onerror=alert(2)>[x](javascript:alert(3))")
    assert "<h1>Draw</h1>" in html
    assert "<script" not in html
    assert "alert(1)" not in html
    assert "onerror" not in html
    assert "<a" not in html  # the javascript: link is left as inert text, not a link
    assert safe_text("<img src=x onerror=alert(1)>duck") == "duck"
    assert safe_text("age<5") == "age<5"


def test_label_names_are_plain_text_end_to_end(tmp_path: Path) -> None:
    for bad in ("<b>duck</b>", "<img src=x onerror=alert(1)>swan", "x &amp; y"):
        with pytest.raises(lb.SchemaError, match="plain text"):
            lb.Project.create(tmp_path / "bad.labnb", labels=[bad], overwrite=True)
    p = lb.Project.create(tmp_path / "x.labnb", labels=["age<5", "fish & chips"])
    Image.new("RGB", (10, 10)).save(tmp_path / "a.png")
    p.add_images(tmp_path / "a.png")
    names = [c["name"] for c in p.annotator().schema["classes"]]
    assert names == ["age<5", "fish & chips"]  # exactly the stored names: the front end labels shapes by them


# -- model assist ---------------------------------------------------------------------------------------
PHOTOS = ("000000261888.jpg", "000000565248.jpg")  # people, a bicycle, horses (real COCO photos)


class CountingDetector(OnnxDetector):
    """The real YOLOX-Nano, counting its runs (and optionally slow, or failing)."""

    def __init__(self, *args: Any, delay: float = 0.0, fail: str | None = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.runs = 0
        self.delay = delay
        self.fail = fail

    def run(self, image: Any) -> Any:
        self.runs += 1
        if self.delay:
            time.sleep(self.delay)
        if self.fail:
            raise RuntimeError(self.fail)
        return super().run(image)


def yolox(**kw: Any) -> CountingDetector:
    return CountingDetector(MODELS / "yolox_nano.onnx", "yolox", classes=MODELS / "yolox_coco_classes.txt", **kw)


@pytest.fixture
def photos(tmp_path: Path, repo_data: Path) -> lb.Project:
    p = lb.Project.create(tmp_path / "photos.labnb", labels=["person", "bicycle", "horse"], user="alice")
    p.add_images([repo_data / "coco_tiny_ccby" / "images" / n for n in PHOTOS], progress=False)
    return p


def settled(a: lb.widgets.annotator.Annotator, timeout: float = 20.0) -> str:
    """Wait until the assist thread has finished for the shown image; its status."""
    deadline = time.monotonic() + timeout
    while a.assist_status.startswith("predicting"):
        assert time.monotonic() < deadline, "the model did not finish"
        time.sleep(0.02)
    return a.assist_status


def prediction_row(p: lb.Project, annotation_id: int) -> Any:
    with p._engine.connect() as conn:
        return conn.execute(sa.select(annotation_rows).where(annotation_rows.c.id == annotation_id)).one()


def commit_edit(cid: str, ghost: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The create the front end sends to commit a suggestion (types.ts: an ordinary create + prediction_id)."""
    shape = {k: ghost[k] for k in ("label", "attributes", "track_id", "geometry", "prediction_id")}
    return {"op": "create", "cid": cid, "shape": {**shape, "id": None, "cid": cid, **extra}, "duration_ms": 900}


@pytest.mark.filterwarnings("ignore:model 'yolox_nano'")
def test_suggestions_are_predicted_once_per_image_and_model_version(photos: lb.Project) -> None:
    model = yolox()
    a = photos.annotator(assist=model)
    assert a.assist_model == {"name": "yolox_nano", "version": model.version}
    assert a.assist_on is True
    assert a.assist_threshold == 0.3
    assert settled(a) == "7 suggestions"
    assert model.runs == 1
    first = a.suggestions
    assert {s["label"] for s in first} == {"person", "bicycle", "horse"}
    assert all(s["cid"] == f"g{s['prediction_id']}" and s["id"] is None for s in first)
    assert all(s["model"] == "yolox_nano" and 0 < s["score"] <= 1 for s in first)
    rows = {s["prediction_id"]: prediction_row(photos, s["prediction_id"]) for s in first}
    assert all(r.source == "prediction" and r.asset_id == a.asset.id for r in rows.values())
    assert [s["score"] for s in first] == [rows[s["prediction_id"]].score for s in first]

    a.position = 1
    assert settled(a) == "6 suggestions"
    assert model.runs == 2
    a.position = 0  # seen: read from the store at once, the model does not run again
    assert a.assist_status == "7 suggestions"
    assert a.suggestions == first
    a.assist_on = False
    assert (a.suggestions, a.assist_status) == ([], "")
    a.assist_on = True
    assert a.suggestions == first
    again = photos.annotator(assist=model)  # another widget, same model version: the store's cache
    assert again.assist_status == "7 suggestions"
    assert model.runs == 2
    with photos._engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(prediction_runs)).scalar_one() == 2


@pytest.mark.filterwarnings("ignore:model 'yolox_nano'")
def test_a_committed_suggestion_is_a_human_annotation_with_the_rows_model_and_score(photos: lb.Project) -> None:
    a = photos.annotator(assist=yolox())
    settled(a)
    ghost = a.suggestions[1]
    row = prediction_row(photos, ghost["prediction_id"])
    sent = sent_messages(a)
    # the browser never sends a score; one that does is ignored: the stored prediction's is copied
    send(a, [commit_edit("c1", ghost, score=0.999, model="forged")])
    assert (a.status, a.error) == ("1 edit saved", "")
    [human] = photos.get_annotations(a.asset.id, source="human")
    stored = prediction_row(photos, human.id)
    assert (stored.source, stored.model, stored.model_version) == ("human", row.model, row.model_version)
    assert stored.score == row.score != 0.999
    assert human.bbox == pytest.approx(photos_bbox(photos, ghost["prediction_id"]))
    [ack] = [m["content"] for m in sent if m.get("method") == "custom"]
    [dto] = ack["upsert"]
    assert (dto["cid"], dto["prediction_id"], dto["score"], dto["model"]) == ("c1", row.id, row.score, row.model)
    ev = photos.events.df
    [created] = ev[ev.kind == "annotation.create"].payload.tolist()
    assert created["assist"] == {
        "prediction_id": row.id,
        "model": row.model,
        "version": row.model_version,
        "score": row.score,
    }
    # an edit keeps the model's score; undo (a delete) removes it like any annotation
    send(a, [{"op": "update", "id": human.id, "cid": "c1", "shape": {**dto, "label": "horse"}, "duration_ms": 5}])
    assert prediction_row(photos, human.id).score == row.score
    send(a, [{"op": "delete", "id": human.id, "cid": "c1", "duration_ms": 5}])
    assert photos.get_annotations(a.asset.id, source="human") == []
    assert prediction_row(photos, row.id).deleted is False  # the prediction itself stays
    # a widget opened later knows which prediction each committed annotation came from
    send(a, [{"op": "restore", "id": human.id, "cid": "c1", "duration_ms": 5}])
    later = photos.annotator(assist=yolox())
    [shown] = later.shapes
    assert (shown["prediction_id"], shown["score"]) == (row.id, row.score)


def photos_bbox(p: lb.Project, annotation_id: int) -> tuple[float, float, float, float]:
    r = prediction_row(p, annotation_id)
    return (r.x, r.y, r.w, r.h)


@pytest.mark.filterwarnings("ignore:model 'yolox_nano'")
def test_forged_prediction_ids_are_refused(photos: lb.Project) -> None:
    ids = [int(i) for i in photos.assets.df.asset_id]
    assist_store.pre_annotate(photos, yolox(), progress=False)
    a = photos.annotator(assist=yolox())
    ghost = a.suggestions[0]
    with photos._engine.connect() as conn:
        other = (
            conn.execute(
                sa.select(annotation_rows.c.id).where(
                    annotation_rows.c.asset_id == ids[1], annotation_rows.c.source == "prediction"
                )
            )
            .scalars()
            .first()
        )
    (human_id,) = photos.annotate(ids[0], lb.Box(10, 10, 20, 20, label="person"))
    (gt_id,) = photos.annotate(ids[0], lb.Box(10, 10, 20, 20, label="person"), source="ground_truth")
    forged = [other, human_id, gt_id, 10**9, "7", True, -1]
    send(a, [commit_edit(f"f{i}", {**ghost, "prediction_id": pid}) for i, pid in enumerate(forged)])
    assert a.status == f"0 edits saved, {len(forged)} refused"
    assert a.error.count("is not a live prediction of image") == 5
    assert a.error.count("prediction_id must be an annotation id") == 2
    assert [s.id for s in photos.get_annotations(ids[0], source="human")] == [human_id]
    # and a deleted prediction is no longer committable
    with photos._engine.begin() as conn:
        gone = annotation_rows.update().where(annotation_rows.c.id == ghost["prediction_id"])
        conn.execute(gone.values(deleted=True))
    send(a, [commit_edit("gone", ghost)], batch=2)
    assert "is not a live prediction" in a.error


def test_no_model_no_assist_and_thresholds_are_checked(project: lb.Project) -> None:
    a = project.annotator()
    assert (a.assist_model, a.suggestions, a.assist_on, a.assist_status) == ({}, [], False, "")
    a.assist_on = True  # nothing to switch on: no error, nothing shown
    assert (a.suggestions, a.assist_status) == ([], "")
    assert a.keymap["toggle_assist"] == "m"
    assert a.keymap["tool_mask"] == "w"
    with pytest.raises(lb.LabnbError, match="assist_threshold"):
        project.annotator(assist_threshold=1.5)
    with pytest.raises(traitlets.TraitError, match="between 0 and 1"):
        a.assist_threshold = -0.1


@pytest.mark.filterwarnings("ignore:model 'yolox_nano'")
def test_the_model_runs_in_the_background_and_late_results_for_another_image_are_dropped(photos: lb.Project) -> None:
    ids = [int(i) for i in photos.assets.df.asset_id]
    model = yolox(delay=1.5)
    t0 = time.monotonic()
    a = photos.annotator(assist=model)
    assert time.monotonic() - t0 < 1.0, "the widget waited for the model"
    assert a.assist_status == "predicting …"
    send(a, [{"op": "create", "cid": "c1", "shape": box_dto("c1", label="person"), "duration_ms": 5}])
    assert a.status == "1 edit saved"  # edits are saved while the model runs
    a.position = 1  # the first image's result comes back after it has been left
    assert settled(a) == "6 suggestions"
    assert model.runs == 2
    with photos._engine.connect() as conn:
        owners = set(
            conn.execute(
                sa.select(annotation_rows.c.asset_id).where(
                    annotation_rows.c.id.in_([s["prediction_id"] for s in a.suggestions])
                )
            ).scalars()
        )
    assert owners == {ids[1]}
    time.sleep(0.2)
    assert a.asset.id == ids[1]
    assert {s["prediction_id"] for s in a.suggestions} <= set(_predictions_of(photos, ids[1]))


def _predictions_of(p: lb.Project, asset_id: int) -> list[int]:
    with p._engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(annotation_rows.c.id).where(
                    annotation_rows.c.asset_id == asset_id, annotation_rows.c.source == "prediction"
                )
            ).scalars()
        )


def test_model_errors_are_shown_not_raised(photos: lb.Project) -> None:
    a = photos.annotator(assist=yolox(fail="the GPU caught fire"))
    assert settled(a) == "RuntimeError: the GPU caught fire"
    assert a.suggestions == []
    a.position = 1
    assert settled(a) == "RuntimeError: the GPU caught fire"
    assert a.error == ""


def test_shapes_written_from_python_appear_in_the_open_widget(project: lb.Project, tmp_path: Path) -> None:
    """``p.annotate`` on the image shown reaches the widget at once; a write by another process (another
    Project object: no notification) reaches it with the next saved edit's ack."""
    a = project.annotator()
    sent = sent_messages(a)
    (pid,) = project.annotate(a.asset.id, lb.Box(50, 20, 10, 10, label="duck"))
    assert [d["id"] for d in a.shapes] == [pid]
    assert any("shapes" in m.get("state", {}) for m in sent)
    other_image = int(project.assets.df.asset_id[1])
    sent.clear()
    project.annotate(other_image, lb.Box(1, 1, 5, 5, label="duck"))
    assert sent == []  # not the image shown
    project.delete_annotation(pid)
    assert a.shapes == []

    elsewhere = lb.Project.open(project.location, user="alice")
    (far,) = elsewhere.annotate(a.asset.id, lb.Box(120, 40, 10, 10, label="duck"))
    assert a.shapes == []  # nothing told this widget yet
    sent.clear()
    send(a, [{"op": "create", "cid": "c1", "shape": box_dto("c1"), "duration_ms": 5}])
    [ack] = [m["content"] for m in sent if m.get("method") == "custom"]
    assert sorted(d["id"] for d in ack["upsert"]) == sorted(
        [far, *[s.id for s in project.get_annotations(a.asset.id) if s.id != far]]
    )
    assert {d["id"] for d in a.shapes} == {s.id for s in project.get_annotations(a.asset.id)}


def test_errors_show_their_message_without_a_type_prefix(project: lb.Project) -> None:
    a = project.annotator()
    a._on_message(a, {"type": "submit_task"}, [])
    assert a.error == "this annotator is not bound to a task"  # as the review panel shows errors
    a._on_message(a, {"type": "edits", "asset_id": 999_999, "edits": []}, [])
    assert a.error.startswith("edits for image 999999")
