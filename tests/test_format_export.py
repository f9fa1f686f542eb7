"""What every exporter shares: ``assets=`` (which images), ``split=`` (train/val/...), ``seed=`` and
``skip_empty=``, and what each format makes of a split, checked by reading the files back."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from defusedxml import ElementTree as SafeET
from PIL import Image
from pycocotools.coco import COCO

import labnb as lb

N = 20  # images; the first 12 have a box, the rest none


def make_project(backend_url: str, tmp_path: Path) -> lb.Project:
    folder = tmp_path / "img"
    folder.mkdir()
    for i in range(N):
        Image.new("RGB", (40, 30), (i * 10, 0, 0)).save(folder / f"im{i:02d}.png")
    p = lb.Project.create(backend_url, labels=["cat"])
    p.add_images(folder, progress=False)
    for i in range(12):
        p.annotate(f"im{i:02d}.png", lb.Box(1 + i, 2, 10, 8, label="cat"))
    return p


@pytest.fixture
def project(backend_url: str, tmp_path: Path) -> lb.Project:
    return make_project(backend_url, tmp_path)


def coco_files(doc_path: Path) -> list[str]:
    return sorted(i["file_name"] for i in json.loads(doc_path.read_text())["images"])


# -- choosing images -------------------------------------------------------------------------------


def test_assets_takes_ids_names_assets_and_dataframe_columns(project: lb.Project, tmp_path: Path) -> None:
    df = project.assets.df
    first_three = ["im00.png", "im01.png", "im02.png"]
    picks: list[Any] = [
        list(df.asset_id[:3]),
        [int(i) for i in df.asset_id[:3]],
        df.asset_id[:3].astype(float),  # what a merge with missing values makes of ids
        first_three,
        [project.asset(n) for n in first_three],
        df.file_name[:3],
        df[df.file_name.isin(first_three)],
        project.annotations.df[project.annotations.df.file_name.isin(first_three)],
    ]
    for n, pick in enumerate(picks):
        out = project.export_coco(tmp_path / f"pick{n}.json", assets=pick)
        assert coco_files(out) == first_three, n
    assert coco_files(project.export_coco(tmp_path / "one.json", assets="im05.png")) == ["im05.png"]


def written_images(fmt: str, out: Path) -> list[str]:
    """The image names an export wrote, read back the way each format lists them."""
    if fmt == "yolo":
        return sorted(f.name for f in (out.parent / "images" / "train").iterdir())
    if fmt == "voc":
        return sorted(str(SafeET.parse(f).getroot().findtext("filename")) for f in out.glob("*.xml"))
    if fmt == "label_studio":
        return sorted(t["data"]["image"] for t in json.loads(out.read_text()))
    return sorted(str(i.get("name")) for i in SafeET.parse(out).getroot().findall("image"))


@pytest.mark.parametrize(
    ("fmt", "target"), [("yolo", "yolo"), ("voc", "voc"), ("label_studio", "ls.json"), ("cvat", "cvat.xml")]
)
def test_every_exporter_writes_only_the_chosen_assets(
    project: lb.Project, tmp_path: Path, fmt: str, target: str
) -> None:
    chosen = ["im03.png", "im15.png"]  # a labelled image and an unlabelled one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # YOLO's note that there is no val split
        out = getattr(project, f"export_{fmt}")(tmp_path / target, assets=chosen)
    assert written_images(fmt, out) == chosen


def test_bad_assets_are_named(project: lb.Project, tmp_path: Path) -> None:
    with pytest.raises(lb.LabnbError, match=r"2 image\(s\) the project does not have: 'nope.png', 999"):
        project.export_coco(tmp_path / "x.json", assets=["im00.png", "nope.png", 999])
    with pytest.raises(lb.LabnbError, match="True/False"):
        project.export_yolo(tmp_path / "y", assets=project.assets.df.width > 10)
    with pytest.raises(lb.LabnbError, match="'asset_id' column"):
        project.export_voc(tmp_path / "v", assets=project.assets.df[["file_name"]])
    assert not (tmp_path / "x.json").exists()


def test_unlabelled_images_are_kept_unless_skip_empty(project: lb.Project, tmp_path: Path) -> None:
    labelled = [f"im{i:02d}.png" for i in range(12)]
    assert len(coco_files(project.export_coco(tmp_path / "all.json"))) == N
    assert coco_files(project.export_coco(tmp_path / "some.json", skip_empty=True)) == labelled

    project.export_yolo(tmp_path / "yolo_all", task="detect")
    empty = (tmp_path / "yolo_all" / "labels" / "train" / "im15.txt").read_text()
    assert empty == ""  # a background image for Ultralytics
    project.export_yolo(tmp_path / "yolo_some", task="detect", skip_empty=True)
    assert len(list((tmp_path / "yolo_some" / "images" / "train").iterdir())) == 12

    project.export_voc(tmp_path / "voc", skip_empty=True)
    assert sorted(f.name for f in (tmp_path / "voc").glob("*.xml")) == [n.replace(".png", ".xml") for n in labelled]

    tasks = json.loads(project.export_label_studio(tmp_path / "ls.json", skip_empty=True).read_text())
    assert len(tasks) == 12
    assert all(t["annotations"] for t in tasks)

    root = SafeET.parse(project.export_cvat(tmp_path / "cvat.xml", skip_empty=True)).getroot()
    assert len(root.findall("image")) == 12


# -- splits --------------------------------------------------------------------------------------


def test_a_fraction_splits_at_random_reproducibly(project: lb.Project, tmp_path: Path) -> None:
    a = project.export_coco(tmp_path / "a.json", split=0.25)
    b = project.export_coco(tmp_path / "b.json", split=0.25)
    c = project.export_coco(tmp_path / "c.json", split=0.25, seed=7)
    assert sorted(a) == ["train", "val"]
    assert a["train"] == tmp_path / "a_train.json"
    train, val = coco_files(a["train"]), coco_files(a["val"])
    assert (len(train), len(val)) == (15, 5)
    assert sorted(train + val) == sorted(project.assets.df.file_name)
    assert (coco_files(b["train"]), coco_files(b["val"])) == (train, val)  # same seed, same split
    assert coco_files(c["val"]) != val
    three = project.export_coco(tmp_path / "d.json", split={"train": 0.7, "val": 0.2, "test": 0.1})
    assert [len(coco_files(three[s])) for s in ("train", "val", "test")] == [14, 4, 2]


def test_split_files_share_category_and_image_ids(project: lb.Project, tmp_path: Path) -> None:
    whole = COCO(str(project.export_coco(tmp_path / "whole.json")))
    parts = project.export_coco(tmp_path / "part.json", split=0.5)
    seen: dict[str, int] = {}
    for path in parts.values():
        part = COCO(str(path))
        assert part.dataset["categories"] == whole.dataset["categories"]
        seen.update({i["file_name"]: i["id"] for i in part.dataset["images"]})
        assert len(part.anns) == sum(len(whole.imgToAnns[i]) for i in part.imgs)
    assert seen == {i["file_name"]: i["id"] for i in whole.dataset["images"]}


def test_split_by_mapping_and_by_column(project: lb.Project, tmp_path: Path) -> None:
    mapping = {f"im{i:02d}.png": ("val" if i % 4 == 0 else "train") for i in range(N)}
    out = project.export_coco(tmp_path / "m.json", split=mapping)
    assert coco_files(out["val"]) == [f"im{i:02d}.png" for i in range(0, N, 4)]
    by_id = {int(a): s for a, s in zip(project.assets.df.asset_id, mapping.values(), strict=True)}
    assert project.export_coco(tmp_path / "i.json", split=by_id)["val"].is_file()

    # the split column: an import's own split, here from Label Studio's data.split
    tasks = project.export_label_studio(tmp_path / "ls.json", split=mapping)
    q = lb.Project.create(str(tmp_path / "q.labnb"), labels=[])
    q.import_label_studio(tasks, images=tmp_path / "img", progress=False)
    assert dict(zip(q.assets.df.file_name, q.assets.df.split, strict=True)) == mapping
    again = q.export_coco(tmp_path / "col.json", split="split")
    assert coco_files(again["val"]) == coco_files(out["val"])


def test_bad_splits_are_named(project: lb.Project, tmp_path: Path) -> None:
    cases: list[tuple[Any, str]] = [
        ("nosuch", r"'nosuch' is not a column of p.assets.df"),
        ("split", r"20 image\(s\) have no value in column 'split' \(first: 'im00.png'\)"),
        ({"im00.png": "val"}, r"no split for 19 exported image\(s\) \(first: 'im01.png'\)"),
        ({"im00.png": "val", "gone.png": "train"}, r"does not have: 'gone.png'"),
        (1.5, "between 0 and 1"),
        ({"train": 0.5, "val": 0.2}, "add up to 1"),
        ({"../up": 1.0}, "cannot be a folder or file name part"),
        ([1, 2], "split= must be a column"),
    ]
    for split, message in cases:
        with pytest.raises(lb.LabnbError, match=message):
            project.export_coco(tmp_path / "x.json", split=split)
    assert list(tmp_path.glob("x*.json")) == []


def test_yolo_writes_each_split_and_lists_it(project: lb.Project, tmp_path: Path) -> None:
    mapping = {f"im{i:02d}.png": ("Validation" if i < 5 else "Train") for i in range(N)}  # CVAT subset names
    data_yaml = project.export_yolo(tmp_path / "y", task="detect", split=mapping)
    doc = yaml.safe_load(data_yaml.read_text())
    assert (doc["train"], doc["val"]) == ("images/train", "images/val")
    assert "test" not in doc
    val = sorted(f.name for f in (tmp_path / "y" / "images" / "val").iterdir())
    train = sorted(f.name for f in (tmp_path / "y" / "images" / "train").iterdir())
    assert val == [f"im{i:02d}.png" for i in range(5)]
    assert not set(val) & set(train)  # val is held out, not a copy of train
    assert (tmp_path / "y" / "labels" / "val" / "im00.txt").read_text().split()[0] == "0"
    q = lb.Project.create(str(tmp_path / "q.labnb"), labels=[])
    q.import_yolo(data_yaml, progress=False)
    assert sorted(q.assets.df[q.assets.df.split == "val"].file_name) == val
    with pytest.raises(lb.LabnbError, match="YOLO splits are train, val and test; got split 'holdout'"):
        project.export_yolo(tmp_path / "bad", split={**mapping, "im00.png": "holdout"})
    remedy_first = r"^pass split=0\.2 \(or a column of p\.assets\.df, e\.g\. split='split'\) to hold out"
    with pytest.warns(UserWarning, match=remedy_first) as caught:
        project.export_yolo(tmp_path / "trainonly", task="detect")
    (message,) = [str(w.message) for w in caught if "'val'" in str(w.message)]
    assert "no 'val' images, so data.yaml's val is the training images" in message
    doc = yaml.safe_load((tmp_path / "trainonly" / "data.yaml").read_text())
    assert (doc["train"], doc["val"]) == ("images/train", "images/train")  # Ultralytics needs a val key


def test_voc_split_writes_the_devkit_layout(project: lb.Project, tmp_path: Path) -> None:
    out = project.export_voc(tmp_path / "voc", split=0.25)
    lists = {f.stem: f.read_text().split() for f in (out / "ImageSets" / "Main").glob("*.txt")}
    assert sorted(lists) == ["train", "val"]
    assert (len(lists["train"]), len(lists["val"])) == (15, 5)
    for stem in lists["train"] + lists["val"]:
        assert SafeET.parse(out / "Annotations" / f"{stem}.xml").getroot().findtext("filename") == f"{stem}.png"
    q = lb.Project.create(str(tmp_path / "q.labnb"), labels=[])
    q.import_voc(out / "Annotations", images=tmp_path / "img", progress=False)
    assert (len(q.assets), len(q.annotations)) == (N, 12)


def test_label_studio_and_cvat_carry_the_split(project: lb.Project, tmp_path: Path) -> None:
    tasks = json.loads(project.export_label_studio(tmp_path / "ls.json", split=0.25).read_text())
    assert sorted({t["data"]["split"] for t in tasks}) == ["train", "val"]
    assert sum(t["data"]["split"] == "val" for t in tasks) == 5

    root = SafeET.parse(project.export_cvat(tmp_path / "cvat.xml", split=0.25)).getroot()
    assert root.find("meta/project/labels/label/name") is not None
    tasks_meta = {t.findtext("subset"): t.findtext("id") for t in root.iter("task")}
    assert sorted(tasks_meta) == ["train", "val"]
    images = root.findall("image")
    assert len(images) == N
    val = [i for i in images if i.get("subset") == "val"]
    assert [i.get("id") for i in val] == ["0", "1", "2", "3", "4"]  # numbered within their task
    assert {i.get("task_id") for i in val} == {tasks_meta["val"]}


def test_a_file_name_two_images_share_is_refused_not_guessed(tmp_path: Path) -> None:
    p = lb.Project.create(tmp_path / "p.labnb", labels=["cat"], user="olga")
    for folder, colour in (("a", (200, 0, 0)), ("b", (0, 200, 0))):
        (tmp_path / folder).mkdir()
        Image.new("RGB", (40, 30), colour).save(tmp_path / folder / "img.png")
    p.add_images([tmp_path / "a" / "img.png", tmp_path / "b" / "img.png"], progress=False)
    first, second = (int(i) for i in p.assets.df.asset_id)
    with pytest.raises(lb.LabnbError, match=rf"'img.png' is the file name of images \[{first}, {second}\]"):
        p.asset("img.png")
    with pytest.raises(lb.LabnbError, match=r"assets= names 'img.png', which is the file name of images"):
        p.export_coco(tmp_path / "out.json", assets=["img.png"])
    with pytest.raises(lb.LabnbError, match=r"split= names 'img.png'"):
        p.export_coco(tmp_path / "out.json", split={"img.png": "val", second: "train"})
    p.annotate(second, lb.Box(1, 1, 5, 5, label="cat"))
    out = json.loads(p.export_coco(tmp_path / "out.json", assets=[second]).read_text())
    assert [a["image_id"] for a in out["annotations"]] == [img["id"] for img in out["images"]]
    assert len(out["images"]) == 1
