"""Label Studio JSON on real files: the COCO sample through Label Studio and back, keypoints, tags,
attributes, the brush RLE codec, and bad input that must leave the project untouched."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

import labnb as lb
from labnb.formats.rle_codecs import decode_brush_rle, encode_brush_rle

COCO_DIR = "coco_tiny_ccby"
W, H = 64, 48


# -- helpers shared with test_format_cvat.py --------------------------------------------------------


def other_project(backend_url: str, name: str, **kw: Any) -> lb.Project:
    """A second, empty project on the same back end (another file for SQLite, another name for PostgreSQL)."""
    if "://" in backend_url:
        return lb.Project.create(backend_url, labels=[], name=name, **kw)
    return lb.Project.create(str(Path(backend_url).with_name(f"{name}.labnb")), labels=[], **kw)


def write_png(path: Path, size: tuple[int, int] = (W, H)) -> Path:
    """A real PNG whose colour depends on its name (labnb refuses exact duplicate images)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shade = sum(path.name.encode()) % 256
    Image.new("RGB", size, (shade, 120, 255 - shade)).save(path)
    return path


def coco_objects(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Annotations of a COCO document per image file name, each with its category name."""
    names = {c["id"]: c["name"] for c in doc["categories"]}
    files = {i["id"]: i["file_name"] for i in doc["images"]}
    out: dict[str, list[dict[str, Any]]] = {f: [] for f in files.values()}
    for a in doc["annotations"]:
        out[files[a["image_id"]]].append({**a, "name": names[a["category_id"]]})
    return out


def mask_of(segmentation: dict[str, Any], height: int, width: int) -> np.ndarray:
    rle = segmentation
    if isinstance(rle["counts"], list):
        rle = coco_mask.frPyObjects(rle, height, width)
    return np.asarray(coco_mask.decode(rle), dtype=bool)


def assert_same_objects(original: Path, round_trip: Path) -> None:
    """Every object of ``original`` is in ``round_trip`` on the same image with the same class and box
    (to 1e-6), polygons with the same parts and points (to 1e-6), masks pixel for pixel, crowd flags kept.

    COCO's stored box of a crowd mask is one pixel wider and taller than the mask (a quirk of the COCO
    files); Label Studio and CVAT derive boxes from the geometry, so a mask's box is its mask's extent.
    """
    a, b = json.loads(original.read_text()), json.loads(round_trip.read_text())
    sizes = {i["file_name"]: (i["height"], i["width"]) for i in a["images"]}
    assert {i["file_name"]: (i["height"], i["width"]) for i in b["images"]} == sizes
    want, got = coco_objects(a), coco_objects(b)
    assert sum(map(len, got.values())) == sum(map(len, want.values()))
    for file_name, objects in want.items():
        left = list(got[file_name])
        assert len(left) == len(objects), file_name
        for obj in objects:
            box = obj["bbox"]
            if isinstance(obj["segmentation"], dict):
                box = coco_mask.toBbox(coco_mask.frPyObjects(obj["segmentation"], *sizes[file_name])).tolist()
            same = [o for o in left if o["name"] == obj["name"] and np.allclose(o["bbox"], box, rtol=0, atol=1e-6)]
            assert same, f"{file_name}: no {obj['name']} with bbox {box}"
            match = same[0]
            left.remove(match)
            assert match["iscrowd"] == obj["iscrowd"]
            seg = obj["segmentation"]
            if isinstance(seg, list):
                assert len(match["segmentation"]) == len(seg)
                for part_a, part_b in zip(seg, match["segmentation"], strict=True):
                    np.testing.assert_allclose(part_b, part_a, rtol=0, atol=1e-6)
            else:
                h, w = sizes[file_name]
                assert np.array_equal(mask_of(match["segmentation"], h, w), mask_of(seg, h, w))


def coco_round_trip(
    backend_url: str, repo_data: Path, tmp_path: Path, export: str, reimport: str, file_name: str
) -> None:
    """COCO sample -> export in a format -> fresh project -> COCO, compared object by object."""
    folder = repo_data / COCO_DIR
    p = lb.Project.create(backend_url, labels=[])
    p.import_coco(folder / "instances.json", images=folder / "images", progress=False)
    out = getattr(p, export)(tmp_path / file_name)
    q = other_project(backend_url, "second")
    skipped = getattr(q, reimport)(out, images=folder / "images", progress=False)
    assert skipped.empty
    assert len(q.assets) == len(p.assets) == 41
    assert len(q.annotations) == len(p.annotations) == 421
    assert_same_objects(folder / "instances.json", q.export_coco(tmp_path / "back.json"))


def keypoint_project(backend_url: str, tmp_path: Path, name: str | None = None) -> lb.Project:
    """Two real PNGs, a skeleton class, tags with and without a group, and typed attributes."""
    attributes = [
        {"name": "truncated", "type": "choice", "options": ["yes", "no"]},
        {"name": "count", "type": "number"},
        {"name": "note", "type": "text"},
    ]
    if name is None:
        p = lb.Project.create(backend_url, labels=[], attributes=attributes)
    else:
        p = other_project(backend_url, name, attributes=attributes)
    p.add_label("person", keypoints=["nose", "left_eye", "right_eye"], skeleton=[("nose", "left_eye"), (0, 2)])
    p.add_label("ball")
    p.add_images([write_png(tmp_path / "img" / "a.png"), write_png(tmp_path / "img" / "b.png")], progress=False)
    return p


def annotate_keypoint_project(p: lb.Project) -> None:
    person = lb.Keypoints(
        {"nose": (10.25, 12.5, 2), "left_eye": (8.0, 10.0, 1)},
        label="person",
        attributes={"truncated": "yes", "count": 3, "note": "partly hidden"},
    )
    other = lb.Keypoints(
        {"nose": (40.0, 20.0, 2), "left_eye": (38, 18, 2), "right_eye": (42.5, 18.25, 2)}, label="person"
    )
    p.annotate("a.png", [person, other, lb.Box(1.5, 2.25, 20, 10.5, label="ball", attributes={"note": "x"})])
    p.annotate("a.png", [lb.Tag("sunny", group="weather"), lb.Tag("blurry")])
    p.annotate("b.png", [lb.Polygon([[(1, 1), (10, 1), (10, 9)], [(20, 20), (30, 20), (25, 30)]], label="ball")])


def shapes_by_kind(p: lb.Project, file_name: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for s in p.get_annotations(file_name):
        out.setdefault(s.kind, []).append(s)
    return out


def assert_keypoint_project_equal(p: lb.Project, q: lb.Project) -> None:
    person = q.schema.get("person")
    assert person.keypoints == ["nose", "left_eye", "right_eye"]
    assert sorted(person.skeleton) == [(0, 1), (0, 2)]
    for file_name in ("a.png", "b.png"):
        a, b = shapes_by_kind(p, file_name), shapes_by_kind(q, file_name)
        assert sorted(a) == sorted(b)
        for kind, shapes in a.items():
            assert len(b[kind]) == len(shapes)
            for s in shapes:
                if kind == "keypoints":
                    twin = next(t for t in b[kind] if set(t.points) == set(s.points))
                    for name, (x, y, v) in s.points.items():
                        tx, ty, tv = twin.points[name]
                        assert (tv, math.isclose(tx, x, abs_tol=1e-6), math.isclose(ty, y, abs_tol=1e-6)) == (
                            v,
                            True,
                            True,
                        )
                elif kind == "tag":
                    twin = next(t for t in b[kind] if t.value == s.value)
                    assert twin.group == s.group
                else:
                    twin = b[kind][0]
                    np.testing.assert_allclose(twin.bbox, s.bbox, atol=1e-6)
                assert twin.label == getattr(s, "label", None) or kind == "tag"
                assert twin.attributes == s.attributes


# -- round trips ---------------------------------------------------------------------------------


def test_coco_sample_round_trips_through_label_studio(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    coco_round_trip(backend_url, repo_data, tmp_path, "export_label_studio", "import_label_studio", "ls.json")


def test_export_writes_label_studio_tasks(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    folder = repo_data / COCO_DIR
    p = lb.Project.create(backend_url, labels=[])
    p.import_coco(folder / "instances.json", images=folder / "images", progress=False)
    tasks = json.loads(p.export_label_studio(tmp_path / "ls.json").read_text())
    again = json.loads(p.export_label_studio(tmp_path / "again.json").read_text())
    assert [t["id"] for t in tasks] == [t["id"] for t in again]  # ids are stable
    assert len(tasks) == 41
    types = {r["type"] for t in tasks for r in t["annotations"][0]["result"]}
    assert types == {"polygonlabels", "brushlabels"}
    for t in tasks:
        assert t["data"]["image"].endswith(".jpg")
        assert len(t["annotations"]) == 1
        results = t["annotations"][0]["result"]
        assert len({r["id"] for r in results}) == len(results)
        for r in results:
            assert r["original_width"] > 0
            assert r["original_height"] > 0
            assert r["to_name"] == "image"
    crowd = [r for t in tasks for r in t["annotations"][0]["result"] if r.get("labnb", {}).get("iscrowd")]
    assert len(crowd) == 6
    assert all(r["value"]["format"] == "rle" for r in crowd)


def test_keypoints_tags_and_attributes_round_trip(backend_url: str, tmp_path: Path) -> None:
    p = keypoint_project(backend_url, tmp_path)
    annotate_keypoint_project(p)
    out = p.export_label_studio(tmp_path / "kp.json")
    points = [r for t in json.loads(out.read_text()) for r in t["annotations"][0]["result"]]
    hidden = [r for r in points if r["type"] == "keypointlabels" and r["value"].get("hidden")]
    assert [r["value"]["keypointlabels"] for r in hidden] == [["left_eye"]]
    q = keypoint_project(backend_url, tmp_path, name="copy")
    assert q.import_label_studio(out, images=tmp_path / "img", progress=False).empty
    assert_keypoint_project_equal(p, q)


def test_keypoints_create_their_class_in_an_empty_project(backend_url: str, tmp_path: Path) -> None:
    p = keypoint_project(backend_url, tmp_path)
    annotate_keypoint_project(p)
    out = p.export_label_studio(tmp_path / "kp.json")
    q = other_project(backend_url, "empty")
    with pytest.warns(UserWarning, match="attributes not in the project schema"):
        q.import_label_studio(out, images=tmp_path / "img", progress=False)
    assert q.schema.get("person").keypoints == ["nose", "left_eye", "right_eye"]
    assert all(not s.attributes for s in q.get_annotations("a.png"))
    assert len(q.annotations) == len(p.annotations)


# -- reading Label Studio's own output ------------------------------------------------------------


def rect(
    rid: str, x: Any = 10, y: Any = 10, w: Any = 25, h: Any = 50, label: str = "cat", **value: Any
) -> dict[str, Any]:
    v = {"x": x, "y": y, "width": w, "height": h, "rotation": 0, "rectanglelabels": [label], **value}
    return {"id": rid, "type": "rectanglelabels", "from_name": "label", "to_name": "image", "value": v} | SIZE


SIZE = {"original_width": W, "original_height": H, "image_rotation": 0}


def task(tid: int, image: str, *results: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": tid, "data": {"image": image}, "annotations": [{"id": tid, "result": list(results)}], **extra}


def write_tasks(path: Path, *tasks: dict[str, Any]) -> Path:
    path.write_text(json.dumps(list(tasks)))
    return path


def test_reads_uploads_points_brushes_choices_and_per_region_fields(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "img" / "cat.png")
    write_png(tmp_path / "img" / "1a2b3c4d-dog.png")  # an upload kept under its prefixed name
    mask = np.zeros((H, W), dtype=bool)
    mask[5:20, 30:60] = True
    brush = {"format": "rle", "rle": encode_brush_rle(mask), "brushlabels": ["cat"]}
    results = [
        rect("r1", 12.5, 25, 50, 50),
        {"id": "r1", "type": "choices", "from_name": "pose", "to_name": "image", "value": {"choices": ["sitting"]}},
        {"id": "p1", "type": "keypointlabels", "value": {"x": 50, "y": 50, "width": 1, "keypointlabels": ["eye"]}}
        | SIZE,
        {"id": "b1", "type": "brushlabels", "value": brush} | SIZE,
        {"id": "c1", "type": "choices", "from_name": "weather", "value": {"choices": ["sunny", "dry"]}},
    ]
    path = write_tasks(
        tmp_path / "ls.json",
        task(7, "/data/upload/3/5e6f7a8b-cat.png", *results, predictions=[{"result": [rect("x")]}]),
        task(8, "/data/upload/3/1a2b3c4d-dog.png", rect("r2", label="dog")),
        {"id": 9, "data": {"image": "/data/local-files/?d=img/cat2.png"}, "annotations": []},
    )
    write_png(tmp_path / "img" / "cat2.png", (10, 10))
    p = lb.Project.create(
        backend_url, labels=[], attributes=[{"name": "pose", "type": "choice", "options": ["sitting"]}]
    )
    with pytest.warns(UserWarning, match="predictions of 1 task"):
        p.import_label_studio(path, images=tmp_path / "img", progress=False)
    assert sorted(p.assets.df["file_name"]) == ["1a2b3c4d-dog.png", "cat.png", "cat2.png"]
    got = shapes_by_kind(p, "cat.png")
    box = got["box"][0]
    assert (box.x, box.y, box.w, box.h, box.label, box.attributes) == (
        8.0,
        12.0,
        32.0,
        24.0,
        "cat",
        {"pose": "sitting"},
    )
    assert got["keypoints"][0].points == {"eye": (32.0, 24.0, 2)}
    assert p.schema.get("eye").keypoints == ["eye"]
    assert np.array_equal(got["mask"][0].to_array(), mask)
    assert sorted((t.group, t.value) for t in got["tag"]) == [("weather", "dry"), ("weather", "sunny")]
    assert shapes_by_kind(p, "1a2b3c4d-dog.png")["box"][0].label == "dog"


def test_brush_rle_reads_literal_runs_and_any_alpha() -> None:
    """A stream shaped by hand as Label Studio's front end writes it (literal stretches of RGBA values)."""
    pixels = [(10, 20, 30, 0), (255, 0, 0, 128), (0, 0, 0, 0), (1, 1, 1, 255)]  # 2x2 image
    values = [v for p in pixels for v in p]
    header = f"{len(values):032b}{8 - 1:05b}" + "".join(f"{s - 1:04b}" for s in (3, 4, 8, 16))
    literal = f"0{1:02b}{len(values) - 1:04b}" + "".join(f"{v:08b}" for v in values)  # one literal stretch
    bits = header + literal
    bits += "0" * (-len(bits) % 8)
    data = list(int(bits, 2).to_bytes(len(bits) // 8, "big"))
    assert decode_brush_rle(data, 2, 2).tolist() == [[False, True], [False, True]]
    with pytest.raises(lb.errors.GeometryError, match="truncated"):
        decode_brush_rle(data[:-3], 2, 2)
    with pytest.raises(lb.errors.GeometryError, match="needs 64"):
        decode_brush_rle(data, 4, 4)


# -- bad input: all-or-nothing ---------------------------------------------------------------------


@pytest.fixture
def seeded(backend_url: str, tmp_path: Path) -> lb.Project:
    """A project that already holds one imported task, so 'unchanged' means something."""
    write_png(tmp_path / "img" / "ok.png")
    write_png(tmp_path / "img" / "good.png")
    p = lb.Project.create(backend_url, labels=[])
    p.import_label_studio(write_tasks(tmp_path / "seed.json", task(1, "ok.png", rect("s1"))), images=tmp_path / "img")
    return p


BAD_RESULTS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown type": ({"id": "e1", "type": "ellipselabels", "value": {"ellipselabels": ["cat"]}} | SIZE, "unsupported"),
    "rotated": (rect("e1", rotation=30), "rotated by 30"),
    "nan width": (rect("e1", w=float("nan")), "finite"),
    "negative width": (rect("e1", w=-5), "positive"),
    "two-point polygon": (
        {"id": "e1", "type": "polygonlabels", "value": {"points": [[1, 1], [9, 9]], "polygonlabels": ["cat"]}} | SIZE,
        "at least 3 points",
    ),
    "two labels": (rect("e1") | {"value": rect("e1")["value"] | {"rectanglelabels": ["a", "b"]}}, "exactly one label"),
}


@pytest.mark.parametrize("case", sorted(BAD_RESULTS))
def test_bad_result_names_it_and_writes_nothing(seeded: lb.Project, tmp_path: Path, case: str) -> None:
    bad, message = BAD_RESULTS[case]
    path = write_tasks(tmp_path / "bad.json", task(2, "good.png", rect("g1")), task(3, "ok.png", bad))
    before = (len(seeded.assets), len(seeded.annotations))
    with pytest.raises(lb.ImportProblems) as err:
        seeded.import_label_studio(path, images=tmp_path / "img", progress=False)
    assert err.value.problems[0][0] == "task 3 result 'e1'"
    assert message in err.value.problems[0][1]
    assert (len(seeded.assets), len(seeded.annotations)) == before
    skipped = seeded.import_label_studio(path, images=tmp_path / "img", on_error="skip", progress=False)
    assert list(skipped["item"]) == ["task 3 result 'e1'"]
    assert (len(seeded.assets), len(seeded.annotations)) == (before[0] + 1, before[1] + 1)


def test_missing_image_is_a_problem(seeded: lb.Project, tmp_path: Path) -> None:
    path = write_tasks(
        tmp_path / "bad.json", task(2, "good.png", rect("g1")), task(3, "/data/upload/1/gone.png", rect("m1"))
    )
    before = (len(seeded.assets), len(seeded.annotations))
    with pytest.raises(lb.ImportProblems) as err:
        seeded.import_label_studio(path, images=tmp_path / "img", progress=False)
    items = [item for item, _ in err.value.problems]
    assert items == ["image 'gone.png' (task 3)", "task 3 result 'm1'"]
    assert (len(seeded.assets), len(seeded.annotations)) == before
    skipped = seeded.import_label_studio(path, images=tmp_path / "img", on_error="skip", progress=False)
    assert len(skipped) == 2
    assert len(seeded.assets) == before[0] + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [('[{"id": 1,', "malformed JSON"), ('{"tasks": []}', "expected a list of tasks")],
)
def test_malformed_file_names_the_file(seeded: lb.Project, tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(content)
    before = (len(seeded.assets), len(seeded.annotations))
    with pytest.raises(lb.ImportProblems, match=r"broken\.json") as err:
        seeded.import_label_studio(path, images=tmp_path / "img", progress=False)
    assert message in str(err.value)
    assert (len(seeded.assets), len(seeded.annotations)) == before


def test_several_annotations_take_the_ground_truth(seeded: lb.Project, tmp_path: Path) -> None:
    t = task(2, "good.png", rect("a1", label="first"))
    t["annotations"] += [
        {"id": 21, "result": [rect("a2", label="truth")], "ground_truth": True},
        {"id": 22, "result": [rect("a3", label="cancelled")], "was_cancelled": True},
    ]
    with pytest.warns(UserWarning, match="several annotations"):
        seeded.import_label_studio(write_tasks(tmp_path / "gt.json", t), images=tmp_path / "img", progress=False)
    assert [s.label for s in seeded.get_annotations("good.png")] == ["truth"]
