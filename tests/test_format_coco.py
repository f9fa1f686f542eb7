"""COCO import and export on the real coco_tiny_ccby sample, checked with pycocotools, on both backends."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import labnb as lb


@pytest.fixture
def coco_dir(repo_data: Path) -> Path:
    return repo_data / "coco_tiny_ccby"


def by_file_name(coco: COCO) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for img in coco.dataset["images"]:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[img["id"]]))
        out[img["file_name"]] = sorted(anns, key=lambda a: (a["bbox"], a["area"]))
    return out


def test_coco_round_trip_matches_the_original(backend_url: str, coco_dir: Path, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=[], user="alice")
    skipped = p.import_coco(coco_dir / "instances.json", images=coco_dir / "images")
    assert skipped.empty
    assert len(p.assets) == 41
    assert len(p.annotations) == 421
    out = p.export_coco(tmp_path / "export.json")

    original, exported = COCO(str(coco_dir / "instances.json")), COCO(str(out))
    assert len(exported.anns) == 421
    assert len({a["category_id"] for a in exported.anns.values()}) == 60
    # category ids, names and image ids are the file's own, so training code keeps working
    assert {c["id"]: c["name"] for c in exported.dataset["categories"]} == {
        c["id"]: c["name"] for c in original.dataset["categories"]
    }
    assert sorted(exported.imgs) == sorted(original.imgs)
    assert exported.dataset["licenses"] == original.dataset["licenses"]
    assert {i["id"]: i.get("flickr_url") for i in exported.dataset["images"]} == {
        i["id"]: i.get("flickr_url") for i in original.dataset["images"]
    }

    orig_by, exp_by = by_file_name(original), by_file_name(exported)
    assert orig_by.keys() == exp_by.keys()
    crowd = 0
    for name, anns in orig_by.items():
        got = exp_by[name]
        assert len(got) == len(anns), name
        for a, b in zip(anns, got, strict=True):
            assert original.cats[a["category_id"]]["name"] == exported.cats[b["category_id"]]["name"]
            np.testing.assert_allclose(b["bbox"], a["bbox"], atol=1e-6)
            assert b["iscrowd"] == a["iscrowd"]
            if a["iscrowd"]:
                crowd += 1
                np.testing.assert_array_equal(original.annToMask(a), exported.annToMask(b))
            else:
                assert b["area"] == pytest.approx(a["area"], rel=0.005)
                assert len(b["segmentation"]) == len(a["segmentation"])
                for pa, pb in zip(a["segmentation"], b["segmentation"], strict=True):
                    np.testing.assert_allclose(pb, pa, atol=1e-6)
    assert crowd == 6


def test_coco_export_of_edited_polygon_recomputes_box_and_area(tmp_path: Path, coco_dir: Path) -> None:
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    p.import_coco(coco_dir / "instances.json", images=coco_dir / "images", progress=False)
    shape = next(s for s in p.get_annotations("000000208901.jpg") if isinstance(s, lb.Polygon))
    assert shape.id is not None
    p.update_annotation(shape.id, lb.Polygon([(10, 10), (110, 10), (110, 60), (10, 60)], label=shape.label))
    doc = json.loads(p.export_coco(tmp_path / "e.json").read_text())
    ann = next(a for a in doc["annotations"] if a["image_id"] == 208901)
    assert ann["bbox"] == [10, 10, 100, 50]
    assert ann["area"] == pytest.approx(5000)


def test_every_shape_kind_survives_coco(tmp_path: Path) -> None:
    Image.new("RGB", (50, 40)).save(tmp_path / "a.png")
    p = lb.Project.create(
        tmp_path / "p.labnb", labels=["car", {"name": "person", "keypoints": ["l", "r"], "skeleton": [[0, 1]]}]
    )
    p.add_images(tmp_path / "a.png")
    m = np.zeros((40, 50), bool)
    m[5:9, 5:20] = True
    p.annotate(
        "a.png",
        [
            lb.Box(1, 2, 3, 4, label="car", track_id=3),
            lb.Keypoints({"l": (10, 10), "r": (20, 12, 1)}, label="person"),
            lb.Mask(m, label="car"),
            lb.Tag("rainy"),
        ],
    )
    out = p.export_coco(tmp_path / "all.json")
    COCO(str(out))  # loads
    q = lb.Project.create(tmp_path / "q.labnb", labels=[])
    q.import_coco(out, images=tmp_path)
    shapes = q.get_annotations("a.png")
    kinds = sorted(type(s).__name__ for s in shapes)
    assert kinds == ["Box", "Keypoints", "Mask", "Tag"]
    kp = next(s for s in shapes if isinstance(s, lb.Keypoints))
    assert kp.points == {"l": (10, 10, 2), "r": (20, 12, 1)}
    assert q.schema.get("person").skeleton == [(0, 1)]
    mask = next(s for s in shapes if isinstance(s, lb.Mask))
    np.testing.assert_array_equal(mask.to_array(), m)
    assert next(s for s in shapes if isinstance(s, lb.Box)).track_id == 3


def test_every_exported_object_rasterises_with_pycocotools(tmp_path: Path) -> None:
    """Segmentation tools call annToMask on every object: boxes and lone keypoints need a polygon."""
    Image.new("RGB", (60, 40)).save(tmp_path / "a.png")
    p = lb.Project.create(tmp_path / "p.labnb", labels=["car", {"name": "person", "keypoints": ["l", "r"]}])
    p.add_images(tmp_path / "a.png", progress=False)
    p.annotate(
        "a.png",
        [
            lb.Box(3, 4, 20, 10, label="car"),
            lb.Box(30.5, 5.25, 9.5, 7.5, label="car"),
            lb.Keypoints({"l": (10, 20), "r": (30, 25)}, label="person"),
            lb.Polygon([(40, 20), (55, 20), (50, 35)], label="car"),
        ],
    )
    coco = COCO(str(p.export_coco(tmp_path / "out.json")))
    boxes = 0
    for ann in coco.dataset["annotations"]:
        mask = coco.annToMask(ann)  # raised on the "segmentation": [] of boxes and keypoints
        assert mask.shape == (40, 60)
        if "keypoints" not in ann and len(ann["segmentation"][0]) == 8:
            boxes += 1
            _, _, w, h = ann["bbox"]
            assert abs(int(mask.sum()) - w * h) <= w + h + 1  # the rectangle's pixels, to the border
    assert boxes == 2
    q = lb.Project.create(tmp_path / "q.labnb", labels=[])
    q.import_coco(tmp_path / "out.json", images=tmp_path, progress=False)
    kinds = sorted(s.kind for s in q.get_annotations("a.png"))
    assert kinds == ["box", "box", "keypoints", "polygon"]  # the rectangles are boxes again, not new shapes
    assert sorted(s.bbox for s in q.get_annotations("a.png") if s.kind == "box") == [
        (3, 4, 20, 10),
        (30.5, 5.25, 9.5, 7.5),
    ]
    marks = sorted(str(a.get("labnb_kind")) for a in coco.dataset["annotations"])
    assert marks == ["None", "box", "box", "keypoints"]  # the polygon is itself, only rectangles are marked


def test_a_rectangular_region_from_another_tool_stays_a_polygon(tmp_path: Path) -> None:
    """A segmentation tool's rectangle (a window, a sign) is a polygon with vertex handles, not a box:
    only the rectangle labnb's own export marks comes back as a box."""
    window = [[10.0, 5.0, 30.0, 5.0, 30.0, 25.0, 10.0, 25.0]]  # clockwise from the top left, as labnb writes
    sign = [[40.0, 30.0, 40.0, 10.0, 55.0, 10.0, 55.0, 30.0]]  # another corner order
    doc = {
        "info": {"description": "", "contributor": "", "version": "", "year": ""},
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "categories": [
            {"id": 1, "name": "window", "supercategory": ""},
            {"id": 2, "name": "sign", "supercategory": ""},
            {"id": 3, "name": "hand", "supercategory": "", "keypoints": ["a", "b"], "skeleton": []},
        ],
        "images": [{"id": 1, "file_name": "a.png", "width": 60, "height": 40}],
        "annotations": [
            # plain objects (the importer's fast path) ...
            {"id": 1, "image_id": 1, "category_id": 1, "segmentation": window, "area": 400.0},
            # ... and one with attributes (the shape-building path)
            {"id": 2, "image_id": 1, "category_id": 2, "segmentation": sign, "area": 300.0},
            # keypoints whose region is a rectangle: the region is kept beside the points
            {
                "id": 3,
                "image_id": 1,
                "category_id": 3,
                "segmentation": [[2.0, 2.0, 8.0, 2.0, 8.0, 9.0, 2.0, 9.0]],
                "area": 42.0,
                "keypoints": [2.0, 2.0, 2, 8.0, 9.0, 2],
                "num_keypoints": 2,
            },
        ],
    }
    for ann, bbox in zip(doc["annotations"], ([10, 5, 20, 20], [40, 10, 15, 20], [2, 2, 6, 7]), strict=True):
        ann.update(bbox=[float(v) for v in bbox], iscrowd=0)
    doc["annotations"][1]["attributes"] = {"occluded": "yes"}
    path = tmp_path / "other_tool.json"
    path.write_text(json.dumps(doc))
    Image.new("RGB", (60, 40)).save(tmp_path / "a.png")
    attributes = [{"name": "occluded", "type": "choice", "options": ["yes", "no"]}]
    p = lb.Project.create(tmp_path / "p.labnb", labels=[], attributes=attributes)
    assert p.import_coco(path, images=tmp_path, progress=False).empty
    got = sorted((s.label, s.kind) for s in p.get_annotations("a.png"))
    assert got == [("hand", "keypoints"), ("hand", "polygon"), ("sign", "polygon"), ("window", "polygon")]
    window_shape = next(s for s in p.get_annotations("a.png") if s.label == "window")
    assert isinstance(window_shape, lb.Polygon)
    assert [part.tolist() for part in window_shape.parts] == [[[10, 5], [30, 5], [30, 25], [10, 25]]]  # 4 vertices

    # labnb's own export of them: the polygons stay polygons, a drawn box comes back as a box
    p.annotate("a.png", [lb.Box(12, 6, 10, 10, label="window")])
    out = p.export_coco(tmp_path / "out.json")
    q = lb.Project.create(tmp_path / "q.labnb", labels=[], attributes=attributes)
    assert q.import_coco(out, images=tmp_path, progress=False).empty
    assert sorted((s.label, s.kind) for s in q.get_annotations("a.png")) == sorted([*got, ("window", "box")])


# -- bad input: a clear error naming the item, and the project exactly as it was -----------------


def broken_copy(coco_dir: Path, tmp_path: Path, edit: Any) -> Path:
    doc = json.loads((coco_dir / "instances.json").read_text())
    edit(doc)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(doc))  # json.dumps writes NaN as the token NaN, as Python users do
    return path


def first_polygon(doc: dict[str, Any]) -> dict[str, Any]:
    return next(a for a in doc["annotations"] if not a["iscrowd"])


BAD_INPUTS = {
    "missing image": (lambda d: d["annotations"][0].update(image_id=999999), "999999"),
    "unknown category": (lambda d: d["annotations"][0].update(category_id=4242), "unknown category id 4242"),
    "NaN box": (lambda d: first_polygon(d).update(segmentation=[], bbox=[1, 2, math.nan, 4]), "finite"),
    "negative box": (lambda d: first_polygon(d).update(segmentation=[], bbox=[1, 2, -3, 4]), "positive"),
    "two-point polygon": (lambda d: first_polygon(d).update(segmentation=[[1, 1, 5, 5]]), "at least 3 points"),
    "missing image file": (lambda d: d["images"][0].update(file_name="nowhere.jpg"), "nowhere.jpg"),
}


def state(p: lb.Project) -> tuple[int, int, list[str], int]:
    return len(p.assets), len(p.annotations), p.schema.names, len(p.events)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_coco_input_is_named_and_changes_nothing(
    backend_url: str, coco_dir: Path, tmp_path: Path, case: str
) -> None:
    edit, expected = BAD_INPUTS[case]
    p = lb.Project.create(backend_url, labels=["person"], user="alice")
    before = state(p)
    path = broken_copy(coco_dir, tmp_path, edit)
    with pytest.raises(lb.ImportProblems) as err:
        p.import_coco(path, images=coco_dir / "images", progress=False)
    assert expected in str(err.value)
    assert "nothing was imported" in str(err.value)
    p._schema = None
    assert state(p) == before
    skipped = p.import_coco(path, images=coco_dir / "images", on_error="skip", progress=False)
    assert len(skipped) >= 1
    assert skipped.problem.str.contains(expected, regex=False).any()
    assert len(p.assets) + len(p.annotations) > 0


def test_malformed_json_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "instances.json"
    bad.write_text('{"images": [}')
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    with pytest.raises(lb.ImportProblems, match=r"instances.json.*malformed JSON.*line 1"):
        p.import_coco(bad)
    bad.write_text('{"images": {}, "annotations": [], "categories": []}')
    with pytest.raises(lb.ImportProblems, match="'images' must be a list"):
        p.import_coco(bad)


def test_truncated_and_non_image_files_are_named(coco_dir: Path, tmp_path: Path) -> None:
    images = tmp_path / "images"
    shutil.copytree(coco_dir / "images", images)
    victim = images / "000000184324.jpg"
    victim.write_bytes(victim.read_bytes()[:5000])
    (images / "000000357888.jpg").write_text("hello")
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    with pytest.raises(lb.ImportProblems) as err:
        p.import_coco(coco_dir / "instances.json", images=images, progress=False)
    text = str(err.value)
    assert "000000184324.jpg: truncated JPEG" in text
    assert "000000357888.jpg: not an image file" in text
    assert len(p.assets) == 0
    skipped = p.import_coco(coco_dir / "instances.json", images=images, on_error="skip", progress=False)
    assert len(p.assets) == 39
    # the two images and every annotation on them are reported, the rest imported
    assert skipped.item.str.startswith("image '").sum() == 2
    assert len(p.annotations) + (len(skipped) - 2) == 421


def test_image_size_disagreeing_with_the_file_is_reported(coco_dir: Path, tmp_path: Path) -> None:
    path = broken_copy(coco_dir, tmp_path, lambda d: d["images"][0].update(width=10))
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    with pytest.raises(lb.ImportProblems, match="says 10x425 but the file is 640x425"):
        p.import_coco(path, images=coco_dir / "images", progress=False)


def test_reimport_attaches_to_existing_images(coco_dir: Path, tmp_path: Path) -> None:
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    p.add_images(coco_dir / "images", progress=False)
    p.import_coco(coco_dir / "instances.json", images=coco_dir / "images", source="ground_truth", progress=False)
    assert len(p.assets) == 41
    assert set(p.annotations.df.source) == {"ground_truth"}


def test_crowd_rle_decodes_like_pycocotools(coco_dir: Path, tmp_path: Path) -> None:
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    p.import_coco(coco_dir / "instances.json", progress=False)  # sizes from the file, no image check
    coco = COCO(str(coco_dir / "instances.json"))
    crowd = [a for a in coco.dataset["annotations"] if a["iscrowd"]]
    for a in crowd:
        name = coco.imgs[a["image_id"]]["file_name"]
        masks = [s for s in p.get_annotations(name) if isinstance(s, lb.Mask)]
        want = coco.annToMask(a)
        assert any(np.array_equal(m.to_array(), want) for m in masks)
        assert any(m.area == mask_utils.area(coco.annToRLE(a)) for m in masks)


def test_bad_category_is_a_named_problem_and_skip_still_works(coco_dir: Path, tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc["categories"][0]["name"] = "bad\x01name"  # 'person', used by many annotations
        doc["annotations"][0]["attributes"] = {"occluded": True}  # not in the schema: dropped with a warning

    path = broken_copy(coco_dir, tmp_path, edit)
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    with pytest.raises(lb.ImportProblems, match=r"category 1 \('bad\\x01name'\).*control characters"):
        p.import_coco(path, images=coco_dir / "images", progress=False)
    assert len(p.assets) == 0
    with pytest.warns(UserWarning, match=r"attributes not in the project schema were ignored: \['occluded'\]"):
        skipped = p.import_coco(path, images=coco_dir / "images", on_error="skip", progress=False)
    persons = skipped.problem.str.contains("its category 1").sum()
    assert persons > 0
    assert len(p.annotations) == 421 - persons
    assert "bad\x01name" not in p.schema.names


# -- files as other tools write them -------------------------------------------------------------

FORMATS_DATA = Path(__file__).parent / "data" / "formats"


def test_datumaro_keypoints_without_point_names_import(tmp_path: Path) -> None:
    """Datumaro writes "keypoints": [] and a 0-based skeleton; pycocotools reads it, so must labnb."""
    path = FORMATS_DATA / "datumaro_person_keypoints.json"
    assert len(COCO(str(path)).anns) == 3
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    assert p.import_coco(path, progress=False).empty
    hand = p.schema.get("hand")
    assert (hand.keypoints, hand.skeleton) == (["0", "1", "2"], [(0, 1), (1, 2)])
    (kp,) = p.get_annotations("frame_000001.jpg")[:1]
    assert isinstance(kp, lb.Keypoints)
    assert kp.points == {"0": (10.0, 12.0, 2), "1": (16.0, 17.0, 2), "2": (22.0, 22.0, 1)}
    kinds = sorted(s.kind for s in p.get_annotations("frame_000001.jpg"))
    assert kinds == ["keypoints", "keypoints", "polygon"]  # the paw is points and an outline
    assert len(p.annotations) == 4


def test_keypoints_take_the_names_of_the_projects_class(tmp_path: Path) -> None:
    path = FORMATS_DATA / "datumaro_person_keypoints.json"
    hand = {"name": "hand", "keypoints": ["wrist", "thumb", "tip"], "skeleton": [[0, 1]]}
    p = lb.Project.create(tmp_path / "p.labnb", labels=[hand, {"name": "paw", "keypoints": ["a", "b", "c"]}])
    assert p.import_coco(path, progress=False).empty
    points = [s for s in p.annotations.for_asset("frame_000002.jpg") if isinstance(s, lb.Keypoints)]
    assert [k.points for k in points] == [{"wrist": (5.0, 30.0, 2), "thumb": (8.0, 33.0, 2)}]  # not dropped
    assert p.schema.get("hand").skeleton == [(0, 1)]  # the project's class is kept as it is
    assert sorted(s.kind for s in p.annotations.for_asset("frame_000001.jpg")) == ["keypoints", "keypoints", "polygon"]


def test_keypoints_that_no_class_can_hold_are_named_never_dropped(tmp_path: Path) -> None:
    doc = json.loads((FORMATS_DATA / "datumaro_person_keypoints.json").read_text())
    doc["annotations"].append({**doc["annotations"][0], "id": 4, "category_id": 0})  # Datumaro: points of no label
    path = tmp_path / "kp.json"
    path.write_text(json.dumps(doc))
    p = lb.Project.create(tmp_path / "p.labnb", labels=["hand", {"name": "paw", "keypoints": ["a", "b"]}])
    with pytest.raises(lb.ImportProblems) as err:
        p.import_coco(path, progress=False)
    problems = dict(err.value.problems)
    assert problems["annotation 1"] == "has labelled keypoints, but class 'hand' has no keypoints to hold them"
    assert problems["annotation 3"].startswith("has labelled keypoints")
    assert "expected 6 numbers for points ['a', 'b'], got 9" in problems["annotation 2"]
    assert problems["annotation 4"].startswith("unknown category id 0")
    skipped = p.import_coco(path, on_error="skip", progress=False)
    assert sorted(skipped["item"]) == ["annotation 1", "annotation 2", "annotation 3", "annotation 4"]
    assert [s.kind for s in p.get_annotations("frame_000001.jpg")] == ["polygon"]  # the paw's outline


def test_image_level_labels_become_tags(tmp_path: Path) -> None:
    path = FORMATS_DATA / "datumaro_labels.json"
    p = lb.Project.create(tmp_path / "p.labnb", labels=["car"], tags=[{"name": "time", "options": ["day", "night"]}])
    assert p.import_coco(path, progress=False).empty
    tags = {
        name: sorted((t.group, t.value) for t in p.get_annotations(name)) for name in ("scene_1.jpg", "scene_2.jpg")
    }
    assert tags == {
        "scene_1.jpg": [("labels", "indoor")],
        "scene_2.jpg": [("labels", "outdoor"), ("time", "night")],  # a group offering it is used
    }
    assert [(g.name, g.options, g.multi) for g in p.schema.tags] == [
        ("time", ["day", "night"], False),
        ("labels", ["indoor", "outdoor"], True),
    ]
    assert p.schema.names == ["car"]  # image labels are tag options, not classes to draw
    p.annotate("scene_1.jpg", lb.Tag("outdoor", group="labels"))  # the schema accepts them
    fresh = lb.Project.create(tmp_path / "q.labnb", labels=[])
    fresh.import_coco(path, progress=False)
    assert [(g.name, g.options) for g in fresh.schema.tags] == [("labels", ["indoor", "outdoor", "night"])]


def test_coco_panoptic_is_refused_plainly(tmp_path: Path) -> None:
    doc = {
        "images": [{"id": 1, "file_name": "a.jpg", "width": 8, "height": 6}],
        "annotations": [{"image_id": 1, "file_name": "a.png", "segments_info": [{"id": 5, "category_id": 1}]}],
        "categories": [{"id": 1, "name": "sky", "isthing": 0}],
    }
    path = tmp_path / "panoptic_val.json"
    path.write_text(json.dumps(doc))
    p = lb.Project.create(tmp_path / "p.labnb", labels=[])
    with pytest.raises(lb.ImportProblems, match=r"is a COCO panoptic file .* which labnb does not read"):
        p.import_coco(path, on_error="skip", progress=False)
    assert (len(p.assets), p.schema.names) == (0, [])
