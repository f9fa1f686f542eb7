"""YOLO import/export on real files: the COCO sample through YOLO and back, pose, segment, bad input."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from pycocotools.coco import COCO

import labnb as lb

COCO_DIR = "coco_tiny_ccby"


def other_project(backend_url: str, name: str, labels: list[object] | None = None) -> lb.Project:
    """A second project on the same back end (another file for SQLite, another name for PostgreSQL)."""
    if "://" in backend_url:
        return lb.Project.create(backend_url, labels=labels or [], name=name)
    return lb.Project.create(str(Path(backend_url).with_name(f"{name}.labnb")), labels=labels or [])


def coco_project(backend_url: str, repo_data: Path) -> lb.Project:
    p = lb.Project.create(backend_url, labels=[])
    p.import_coco(repo_data / COCO_DIR / "instances.json", images=repo_data / COCO_DIR / "images", progress=False)
    return p


def load_coco(path: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        return COCO(str(path))


def boxes_by_file(coco: COCO) -> dict[str, list[tuple[str, list[float]]]]:
    names = {cid: c["name"] for cid, c in coco.cats.items()}
    return {
        img["file_name"]: [(names[a["category_id"]], a["bbox"]) for a in coco.imgToAnns[img["id"]]]
        for img in coco.dataset["images"]
    }


def count_matches(original: COCO, exported: COCO, tolerance: float) -> int:
    """Boxes of ``original`` with a same-class partner in ``exported`` (same file) within ``tolerance`` px."""
    mine, theirs = boxes_by_file(original), boxes_by_file(exported)
    matched = 0
    for file_name, boxes in mine.items():
        left = list(theirs.get(file_name, []))
        for label, box in boxes:
            candidates = [
                (float(np.max(np.abs(np.subtract(b, box)))), i) for i, (n, b) in enumerate(left) if n == label
            ]
            if candidates and min(candidates)[0] <= tolerance:
                left.pop(min(candidates)[1])
                matched += 1
    return matched


def write_png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (90, 140, 60)).save(path)
    return path


def write_dataset(root: Path, labels: dict[str, str], data_yaml: str | None = None) -> Path:
    """A 40x30 two-class detect dataset: images/train/a.png, b.png and the given label files."""
    for stem in ("a", "b"):
        write_png(root / "images" / "train" / f"{stem}.png")
    for rel, text in labels.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    (root / "data.yaml").write_text(data_yaml or "path: .\ntrain: images/train\nval: images/train\nnames: [cat, dog]\n")
    return root


def test_coco_to_yolo_detect_and_back_keeps_every_box(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    p = coco_project(backend_url, repo_data)
    data_yaml = p.export_yolo(tmp_path / "yolo", task="detect")
    doc = yaml.safe_load(data_yaml.read_text())
    assert doc["names"] == dict(enumerate(p.schema.names))
    assert (tmp_path / "yolo" / "images" / "train" / "000000184324.jpg").is_file()

    q = other_project(backend_url, "from_yolo")
    skipped = q.import_yolo(tmp_path / "yolo", progress=False)
    assert skipped.empty
    assert (len(q.assets), len(q.annotations)) == (41, 421)
    assert set(q.annotations.df["kind"]) == {"box"}
    assert {a.meta.get("split") for a in q.assets} == {"train"}

    q.export_coco(tmp_path / "back.json")
    original = load_coco(repo_data / COCO_DIR / "instances.json")
    assert count_matches(original, load_coco(tmp_path / "back.json"), tolerance=1.0) == 421


def test_segment_round_trip_keeps_outlines(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    p = coco_project(backend_url, repo_data)
    with pytest.warns(UserWarning, match="6 mask"):  # the crowd RLE masks are not traced
        p.export_yolo(tmp_path / "seg")  # polygons present: task defaults to segment
    q = other_project(backend_url, "seg")
    q.import_yolo(tmp_path / "seg" / "data.yaml", progress=False)
    assert len(q.annotations) == 415
    assert set(q.annotations.df["kind"]) == {"polygon"}

    before = {a.file_name: [s for s in p.get_annotations(a) if isinstance(s, lb.Polygon)] for a in p.assets}
    after = {a.file_name: q.get_annotations(a) for a in q.assets}
    multi = 0
    for file_name, polygons in before.items():
        for poly in polygons:
            twin = next(
                s
                for s in after[file_name]
                if isinstance(s, lb.Polygon) and s.label == poly.label and np.allclose(s.bbox, poly.bbox, atol=0.01)
            )
            assert len(twin.parts) == 1  # one line, one polygon: the parts are joined
            ring = twin.parts[0]
            for part in poly.parts:  # every vertex of every part survives (6 decimals: < 0.001 px)
                gaps = np.abs(part[:, None, :] - ring[None, :, :]).max(axis=2).min(axis=1)
                assert gaps.max() < 0.01
            assert twin.area == pytest.approx(poly.area, rel=1e-3)
            multi += len(poly.parts) > 1
    assert multi == 40


def test_multi_part_polygon_becomes_one_ring(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=["field"])
    p.add_images(write_png(tmp_path / "img" / "map.png", (100, 80)), progress=False)
    left = [(10, 10), (30, 10), (30, 40), (10, 40)]
    right = [(90, 60), (90, 70), (60, 70), (60, 60)]  # the other orientation
    p.annotate("map.png", lb.Polygon([left, right], label="field"))
    p.export_yolo(tmp_path / "out")
    line = (tmp_path / "out" / "labels" / "train" / "map.txt").read_text().splitlines()
    assert len(line) == 1
    q = other_project(backend_url, "ring")
    q.import_yolo(tmp_path / "out", progress=False)
    (shape,) = q.get_annotations("map.png")
    assert isinstance(shape, lb.Polygon)
    assert len(shape.parts) == 1
    assert shape.area == pytest.approx(20 * 30 + 30 * 10, rel=1e-5)  # the bridge adds no area
    assert shape.bbox == pytest.approx((10, 10, 80, 60), abs=1e-3)


def test_pose_round_trip(backend_url: str, tmp_path: Path) -> None:
    person = {"name": "person", "keypoints": ["nose", "left_eye", "right_eye"], "skeleton": [(0, 1), (0, 2)]}
    p = lb.Project.create(backend_url, labels=[person, "ball"])
    for name, size in (("one.png", (64, 48)), ("two.png", (80, 60)), ("empty.png", (30, 30))):
        write_png(tmp_path / "img" / name, size)
    p.add_images(tmp_path / "img", progress=False)
    p.annotate("one.png", [lb.Keypoints({"nose": (10, 12), "left_eye": (20, 14, 1)}, label="person")])
    p.annotate("one.png", [lb.Box(5, 5, 10, 8, label="ball")])
    p.annotate(
        "two.png", [lb.Keypoints({"nose": (40, 30), "left_eye": (35, 20), "right_eye": (45.5, 21)}, label="person")]
    )

    data_yaml = p.export_yolo(tmp_path / "pose")  # keypoints present: task defaults to pose
    doc = yaml.safe_load(data_yaml.read_text())
    assert doc["kpt_shape"] == [3, 3]
    assert doc["flip_idx"] == [0, 2, 1]  # from the left/right names
    assert doc["kpt_names"] == {0: ["nose", "left_eye", "right_eye"]}
    ball_line = (tmp_path / "pose" / "labels" / "train" / "one.txt").read_text().splitlines()[1]
    assert ball_line.split()[0] == "1"
    assert ball_line.split()[5:] == ["0"] * 9  # a class without keypoints: every point "not labelled"

    q = other_project(backend_url, "pose")
    q.import_yolo(tmp_path / "pose", progress=False)
    assert q.schema.get("person").keypoints == ["nose", "left_eye", "right_eye"]
    assert q.schema.get("ball").keypoints == []
    for file_name in ("one.png", "two.png", "empty.png"):
        want, got = p.get_annotations(file_name), q.get_annotations(file_name)
        assert [s.kind for s in got] == [s.kind for s in want]
        for a, b in zip(want, got, strict=True):
            assert a.label == b.label
            assert b.bbox == pytest.approx(a.bbox, abs=1e-3)
            if isinstance(a, lb.Keypoints):
                assert isinstance(b, lb.Keypoints)
                assert b.labelled().keys() == a.labelled().keys()
                for name, (x, y, v) in a.labelled().items():
                    assert b.points[name] == pytest.approx((x, y, v), abs=1e-3)
    df_p = p.annotations.df.sort_values(["file_name", "label"])[["x", "y", "w", "h"]].to_numpy()
    df_q = q.annotations.df.sort_values(["file_name", "label"])[["x", "y", "w", "h"]].to_numpy()
    np.testing.assert_allclose(df_q, df_p, atol=1e-3)  # the YOLO box comes back as the keypoints' box


def test_pose_dataset_with_two_values_per_point(backend_url: str, tmp_path: Path) -> None:
    root = write_dataset(
        tmp_path / "ds",
        # point 0 at (0, 0) means "not labelled" when there is no visibility column
        {"labels/train/a.txt": "0 0.5 0.5 0.5 0.5 0 0 0.25 0.5\n", "labels/train/b.txt": "1 0.5 0.5 0.2 0.2 0 0 0 0\n"},
        "train: images/train\nnames: {0: hand, 1: cup}\nkpt_shape: [2, 2]\nkpt_names: {0: [thumb, index]}\n",
    )
    p = lb.Project.create(backend_url, labels=[])
    p.import_yolo(root, progress=False)
    assert p.schema.get("hand").keypoints == ["thumb", "index"]
    assert p.schema.get("cup").keypoints == []  # kpt_names names none for it
    (hand,) = p.get_annotations("a.png")
    assert isinstance(hand, lb.Keypoints)
    assert hand.labelled() == {"index": (10.0, 15.0, 2)}
    assert tuple(p.annotations.df.iloc[0][["x", "y", "w", "h"]]) == pytest.approx((10, 7.5, 20, 15))
    (cup,) = p.get_annotations("b.png")
    assert isinstance(cup, lb.Box)


def test_layouts_splits_and_images_without_labels(backend_url: str, tmp_path: Path) -> None:
    root = tmp_path / "ds"
    write_png(root / "images" / "train" / "a.png")
    write_png(root / "images" / "val" / "v.png")
    write_png(root / "images" / "val" / "nolabel.png")
    (root / "labels" / "train").mkdir(parents=True)
    (root / "labels" / "val").mkdir(parents=True)
    (root / "labels" / "train" / "a.txt").write_text("1 0.5 0.5 0.5 0.5\n\n")
    (root / "labels" / "val" / "v.txt").write_text("0 0.25 0.25 0.5 0.5\n0 0.1 0.1 0.2 0.1 0.2 0.3\n")
    (root / "coco8.yaml").write_text(
        f"path: {root}\ntrain: images/train\nval: [images/val]\nnames: {{0: cat, 1: dog}}\n"
    )
    p = lb.Project.create(backend_url, labels=["dog"])  # an existing class keeps its place
    p.import_yolo(root / "coco8.yaml", progress=False)
    assert p.schema.names == ["dog", "cat"]
    splits = {a.file_name: a.meta.get("split") for a in p.assets}
    assert splits == {"a.png": "train", "v.png": "val", "nolabel.png": "val"}
    assert p.get_annotations("nolabel.png") == []
    kinds = sorted(s.kind for s in p.get_annotations("v.png"))
    assert kinds == ["box", "polygon"]

    out = p.export_yolo(tmp_path / "out", task="detect")
    doc = yaml.safe_load(out.read_text())
    assert (doc["train"], doc["val"]) == ("images/train", "images/val")
    assert doc["names"] == {0: "dog", 1: "cat"}
    assert (tmp_path / "out" / "labels" / "train" / "a.txt").read_text().split()[0] == "0"  # dog is now 0
    assert (tmp_path / "out" / "images" / "val" / "nolabel.png").is_file()


def test_flat_layout_and_moved_dataset(backend_url: str, tmp_path: Path) -> None:
    root = tmp_path / "flat"
    write_png(root / "images" / "a.png")
    (root / "labels").mkdir()
    (root / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (root / "data.yaml").write_text("path: /no/longer/here\nnames: [cat]\n")  # no split keys, stale path
    p = lb.Project.create(backend_url, labels=[])
    p.import_yolo(root, progress=False)
    assert (len(p.assets), len(p.annotations)) == (1, 1)
    assert p.assets["a.png"].meta.get("split") is None


def test_images_stored_in_the_database_are_written_out(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=["spot"])
    p.add_images([np.full((20, 30, 3), 200, np.uint8)], progress=False)
    (asset,) = list(p.assets)
    p.annotate(asset, lb.Box(1, 2, 3, 4, label="spot"))
    p.export_yolo(tmp_path / "out")
    written = tmp_path / "out" / "images" / "train" / asset.file_name
    assert not written.is_symlink()
    assert written.read_bytes() == asset.read_bytes()
    q = other_project(backend_url, "blobs")
    q.import_yolo(tmp_path / "out", progress=False)
    assert q.get_annotations(asset.file_name)[0].bbox == pytest.approx((1, 2, 3, 4), abs=1e-4)


def test_export_refuses_a_folder_with_files_and_unknown_tasks(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=["a"])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "old.txt").write_text("stale")
    with pytest.raises(lb.LabnbError, match="not an empty folder"):
        p.export_yolo(tmp_path / "busy")
    with pytest.raises(lb.LabnbError, match="task must be one of"):
        p.export_yolo(tmp_path / "new", task="classify")
    with pytest.raises(lb.LabnbError, match="labels with keypoints"):
        p.export_yolo(tmp_path / "new", task="pose")


GOOD = "0 0.5 0.5 0.25 0.25\n"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("7 0.5 0.5 0.2 0.2", "unknown class index 7"),
        ("0 0.5 0.5 0.2", "expected 5 values"),
        ("0 0.1 0.1 0.5 0.1 0.5", "got 6"),
        ("0 0.5 abc 0.2 0.2", "'abc' is not a number"),
        ("0 nan 0.5 0.2 0.2", "not a finite number"),
        ("0 1.5 0.5 0.2 0.2", "outside 0..1"),
        ("0 0.5 0.5 0 0.2", "must be positive"),
    ],
)
def test_bad_lines_name_file_and_line(backend_url: str, tmp_path: Path, line: str, message: str) -> None:
    p = lb.Project.create(backend_url, labels=["cat"])
    p.add_images(write_png(tmp_path / "before.png"), progress=False)
    p.annotate("before.png", lb.Box(1, 1, 5, 5, label="cat"))
    root = write_dataset(tmp_path / "ds", {"labels/train/a.txt": GOOD, "labels/train/b.txt": GOOD + line + "\n"})
    with pytest.raises(lb.ImportProblems, match=message) as info:
        p.import_yolo(root, progress=False)
    assert "labels/train/b.txt line 2" in str(info.value)
    assert (len(p.assets), len(p.annotations), p.schema.names) == (1, 1, ["cat"])


@pytest.mark.parametrize(
    ("files", "where", "message"),
    [
        ({"labels/train/ghost.txt": GOOD}, "labels/train/ghost.txt", "without an image"),
        ({"data.yaml": "names: [cat, dog\ntrain: images/train\n"}, "data.yaml", "cannot read the dataset YAML"),
        ({"data.yaml": "train: images/train\n"}, "data.yaml", "'names' must list the classes"),
        ({"data.yaml": "train: images/missing\nnames: [cat]\n"}, "data.yaml", "image folder 'images/missing'"),
        ({"data.yaml": "names: [cat, yes]\ntrain: images/train\n"}, "data.yaml", "quote the name"),
        ({"images/train/b.png": "not a picture"}, "images/train/b.png", "not an image"),
    ],
)
def test_bad_datasets_name_the_file(
    backend_url: str, tmp_path: Path, files: dict[str, str], where: str, message: str
) -> None:
    p = lb.Project.create(backend_url, labels=[])
    root = write_dataset(tmp_path / "ds", {"labels/train/a.txt": GOOD})
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    with pytest.raises(lb.ImportProblems, match=message) as info:
        p.import_yolo(root, progress=False)
    assert where in str(info.value)
    assert (len(p.assets), len(p.annotations), p.schema.names) == (0, 0, [])


def test_missing_data_yaml(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=[])
    write_png(tmp_path / "ds" / "images" / "a.png")
    with pytest.raises(lb.ImportProblems, match=r"no data\.yaml"):
        p.import_yolo(tmp_path / "ds", progress=False)
    with pytest.raises(lb.ImportProblems, match="not found"):
        p.import_yolo(tmp_path / "nowhere", progress=False)
    assert len(p.assets) == 0


def test_truncated_image_is_reported_with_its_labels_kept_out(backend_url: str, tmp_path: Path) -> None:
    root = write_dataset(tmp_path / "ds", {"labels/train/a.txt": GOOD, "labels/train/b.txt": GOOD})
    png = root / "images" / "train" / "b.png"
    png.write_bytes(png.read_bytes()[:-20])
    p = lb.Project.create(backend_url, labels=[])
    skipped = p.import_yolo(root, on_error="skip", progress=False)
    assert list(skipped["item"]) == ["image 'images/train/b.png'"]
    assert "truncated PNG" in skipped["problem"].iloc[0]
    assert [a.file_name for a in p.assets] == ["a.png"]


def test_skip_imports_the_rest_and_lists_what_was_skipped(backend_url: str, tmp_path: Path) -> None:
    root = write_dataset(
        tmp_path / "ds",
        {
            "labels/train/a.txt": GOOD + "1 0.2 0.2 0.1 0.1\n",
            "labels/train/b.txt": "0 0.5 0.5 0.2\n" + GOOD,
            "labels/train/ghost.txt": GOOD,
        },
    )
    p = lb.Project.create(backend_url, labels=[])
    skipped = p.import_yolo(root, on_error="skip", progress=False)
    assert list(skipped.columns) == ["item", "problem"]
    assert sorted(skipped["item"]) == ["labels/train/b.txt line 1", "labels/train/ghost.txt"]
    assert (len(p.assets), len(p.annotations)) == (2, 3)
    assert p.schema.names == ["cat", "dog"]


def test_points_that_do_not_fit_an_existing_class_are_problems(backend_url: str, tmp_path: Path) -> None:
    root = write_dataset(
        tmp_path / "ds",
        {"labels/train/a.txt": "0 0.5 0.5 0.5 0.5 0.1 0.1 2 0 0 0 0.3 0.3 1\n", "labels/train/b.txt": ""},
        "train: images/train\nnames: [person]\nkpt_shape: [3, 3]\n",
    )
    p = lb.Project.create(backend_url, labels=[{"name": "person", "keypoints": ["head", "tail"]}])
    with pytest.raises(lb.ImportProblems, match=r"labels/train/a\.txt line 1: labels points, but label 'person'"):
        p.import_yolo(root, progress=False)
    assert len(p.assets) == 0


def test_points_map_by_position_onto_an_existing_class(backend_url: str, tmp_path: Path) -> None:
    root = write_dataset(
        tmp_path / "ds",
        {"labels/train/a.txt": "0 0.5 0.5 0.5 0.5 0.25 0.5 2 0.75 0.5 1\n", "labels/train/b.txt": ""},
        "train: images/train\nnames: [person]\nkpt_shape: [2, 3]\n",  # no kpt_names
    )
    p = lb.Project.create(backend_url, labels=[{"name": "person", "keypoints": ["left", "right"]}])
    p.import_yolo(root, progress=False)
    (shape,) = p.get_annotations("a.png")
    assert isinstance(shape, lb.Keypoints)
    assert shape.labelled() == {"left": (10.0, 15.0, 2), "right": (30.0, 15.0, 1)}
