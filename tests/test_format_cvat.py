"""CVAT for images 1.1 XML on real files: the COCO sample through CVAT and back, skeletons, tags,
attributes, CVAT's own mask RLE, and bad input that must leave the project untouched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from defusedxml import ElementTree as SafeET
from PIL import Image
from test_format_label_studio import (  # shared round-trip helpers (pytest puts tests/ on sys.path)
    H,
    W,
    annotate_keypoint_project,
    assert_keypoint_project_equal,
    coco_round_trip,
    keypoint_project,
    other_project,
    shapes_by_kind,
    write_png,
)

import labnb as lb
from labnb.formats.rle_codecs import cvat_rle_to_mask, mask_to_cvat_rle

COCO_DIR = "coco_tiny_ccby"


def cvat_xml(*images: str, meta: str = "") -> str:
    head = '<?xml version="1.0" encoding="utf-8"?><annotations><version>1.1</version>'
    return f"{head}{meta}{''.join(images)}</annotations>"


def image(name: str, *shapes: str, id_: int = 0, size: tuple[int, int] = (W, H)) -> str:
    return f'<image id="{id_}" name="{name}" width="{size[0]}" height="{size[1]}">{"".join(shapes)}</image>'


def box(label: str = "cat", xtl: Any = 1, ytl: Any = 2, xbr: Any = 11, ybr: Any = 12, extra: str = "") -> str:
    corners = f'xtl="{xtl}" ytl="{ytl}" xbr="{xbr}" ybr="{ybr}"'
    return f'<box label="{label}" source="manual" occluded="0" {corners} z_order="0"{extra}></box>'


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- round trips ---------------------------------------------------------------------------------


def test_coco_sample_round_trips_through_cvat(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    coco_round_trip(backend_url, repo_data, tmp_path, "export_cvat", "import_cvat", "cvat.xml")


def test_export_is_cvat_shaped(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    folder = repo_data / COCO_DIR
    p = lb.Project.create(backend_url, labels=[])
    p.import_coco(folder / "instances.json", images=folder / "images", progress=False)
    root = SafeET.parse(p.export_cvat(tmp_path / "cvat.xml")).getroot()
    assert root.findtext("version") == "1.1"
    names = [lab.findtext("name") for lab in root.iter("label")]
    assert sorted(names) == sorted(p.schema.names)
    images = root.findall("image")
    assert [i.get("id") for i in images] == [str(n) for n in range(41)]
    masks = root.findall("image/mask")
    assert len(masks) == 6
    for m in masks:
        assert [a.get("name") for a in m.findall("attribute")] == ["is_crowd"]
        counts = [int(v) for v in (m.get("rle") or "").split(",")]  # CVAT's importer splits on ","
        assert sum(counts) == int(m.get("width") or 0) * int(m.get("height") or 0)
    grouped = [pg for pg in root.findall("image/polygon") if pg.get("group_id")]
    assert len(grouped) == 2 * 33 + 3 * 5 + 5 + 7  # the parts of the sample's multi-part polygons


def test_skeletons_tags_and_attributes_round_trip(backend_url: str, tmp_path: Path) -> None:
    p = keypoint_project(backend_url, tmp_path)
    annotate_keypoint_project(p)
    out = p.export_cvat(tmp_path / "kp.xml")
    root = SafeET.parse(out).getroot()
    kinds = {lab.findtext("name"): (lab.findtext("type"), lab.findtext("parent")) for lab in root.iter("label")}
    assert kinds["person"] == ("skeleton", None)
    assert kinds["left_eye"] == ("points", "person")
    assert kinds["sunny"] == ("tag", None)
    skeleton = root.find("image/skeleton")
    assert skeleton is not None
    assert [(pt.get("label"), pt.get("outside"), pt.get("occluded")) for pt in skeleton.findall("points")] == [
        ("nose", "0", "0"),
        ("left_eye", "0", "1"),
        ("right_eye", "1", "0"),
    ]
    q = keypoint_project(backend_url, tmp_path, name="copy")
    assert q.import_cvat(out, images=tmp_path / "img", progress=False).empty
    assert_keypoint_project_equal(p, q)
    fresh = other_project(backend_url, "fresh")  # classes, points and edges come from <meta>
    with pytest.warns(UserWarning, match="attributes not in the project schema"):
        fresh.import_cvat(out, images=tmp_path / "img", progress=False)
    assert sorted(fresh.schema.get("person").skeleton) == [(0, 1), (0, 2)]
    assert len(fresh.annotations) == len(p.annotations)


# -- reading CVAT's own output ---------------------------------------------------------------------

CVAT_META = """<meta><task><id>7</id><name>t</name><mode>annotation</mode><labels>
<label><name>hand</name><color>#ff0000</color><type>skeleton</type><attributes></attributes>
<svg>&lt;line x1="30" y1="30" x2="60" y2="60" data-type="edge" data-node-from="2" data-node-to="1"&gt;&lt;/line&gt;
&lt;circle r="1.5" cx="30" cy="30" data-type="element node" data-element-id="1" data-node-id="1"
 data-label-name="wrist"&gt;&lt;/circle&gt;&lt;circle r="1.5" cx="60" cy="60" data-type="element node"
 data-element-id="2" data-node-id="2" data-label-name="thumb"&gt;&lt;/circle&gt;</svg></label>
<label><name>wrist</name><type>points</type><attributes></attributes><parent>hand</parent></label>
<label><name>thumb</name><type>points</type><attributes></attributes><parent>hand</parent></label>
<label><name>cat</name><type>any</type><attributes><attribute><name>size</name><mutable>False</mutable>
<input_type>number</input_type><default_value>1</default_value><values>0\n10\n1</values></attribute></attributes></label>
</labels></task></meta>"""


def test_reads_cvat_written_xml(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "img" / "a.png")
    write_png(tmp_path / "img" / "b.png")
    # CVAT's own mask: runs over the 4x3 box at (left=5, top=6), row by row, background first
    mask_xml = (
        '<mask label="cat" source="manual" occluded="0" rle="1, 2, 2, 3, 1, 3"'
        ' left="5" top="6" width="4" height="3" z_order="0"></mask>'
    )
    skeleton = (
        '<skeleton label="hand" source="manual" z_order="0">'
        '<points label="wrist" source="manual" outside="0" occluded="0" points="10.00,20.00"></points>'
        '<points label="thumb" source="manual" outside="1" occluded="0" points="0.00,0.00"></points></skeleton>'
    )
    doc = cvat_xml(
        image("a.png", box(extra=""), mask_xml, skeleton, '<tag label="indoor" source="manual"></tag>'),
        image(
            "sub/b.png",
            box("cat", 1.5, 2.5, 3.5, 4.5).replace("></box>", '><attribute name="size">4</attribute></box>'),
            id_=1,
        ),
        meta=CVAT_META,
    )
    p = lb.Project.create(backend_url, labels=[], attributes=[{"name": "size", "type": "number"}])
    p.import_cvat(write(tmp_path / "a.xml", doc), images=tmp_path / "img", progress=False)
    assert p.schema.get("hand").keypoints == ["wrist", "thumb"]
    assert p.schema.get("hand").skeleton == [(1, 0)]
    got = shapes_by_kind(p, "a.png")
    expected = np.zeros((H, W), dtype=bool)
    expected[6:9, 5:9] = np.array([[0, 1, 1, 0], [0, 1, 1, 1], [0, 1, 1, 1]], dtype=bool)
    assert np.array_equal(got["mask"][0].to_array(), expected)
    assert got["keypoints"][0].points == {"wrist": (10.0, 20.0, 2)}
    assert (got["box"][0].bbox, got["tag"][0].value) == ((1.0, 2.0, 10.0, 10.0), "indoor")
    other = shapes_by_kind(p, "sub/b.png")["box"][0]
    assert (other.bbox, other.attributes) == ((1.5, 2.5, 2.0, 2.0), {"size": 4})


def test_cvat_mask_rle_round_trips_the_box() -> None:
    mask = np.zeros((9, 12), dtype=bool)
    mask[2, 3] = mask[4:7, 5:11] = True
    counts, left, top, width, height = mask_to_cvat_rle(mask) or ([], 0, 0, 0, 0)
    assert (left, top, width, height) == (3, 2, 8, 5)
    assert counts[0] == 0  # the box starts on a set pixel, so the background run is empty
    assert np.array_equal(cvat_rle_to_mask(counts, left, top, width, height, 12, 9), mask)
    assert mask_to_cvat_rle(np.zeros((3, 3), dtype=bool)) is None


def test_polylines_are_skipped_with_a_warning(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "img" / "a.png")
    line = '<polyline label="road" source="manual" occluded="0" points="1,1;5,5" z_order="0"></polyline>'
    p = lb.Project.create(backend_url, labels=[])
    with pytest.warns(UserWarning, match="polyline"):
        p.import_cvat(write(tmp_path / "a.xml", cvat_xml(image("a.png", line, box()))), images=tmp_path / "img")
    assert [s.kind for s in p.get_annotations("a.png")] == ["box"]


# -- bad input: all-or-nothing ---------------------------------------------------------------------


@pytest.fixture
def seeded(backend_url: str, tmp_path: Path) -> lb.Project:
    """A project that already holds one imported image, so 'unchanged' means something."""
    write_png(tmp_path / "img" / "ok.png")
    write_png(tmp_path / "img" / "good.png")
    p = lb.Project.create(backend_url, labels=[])
    p.import_cvat(write(tmp_path / "seed.xml", cvat_xml(image("ok.png", box()))), images=tmp_path / "img")
    return p


BAD_ELEMENTS: dict[str, tuple[str, str, str]] = {
    "unknown element": ("<circle label='cat' cx='1'/>", "<circle> #0", "labnb knows"),
    "rotated": (box(extra=' rotation="30.5"'), "<box> #0", "rotated by 30.5"),
    "nan width": (box(xbr="nan"), "<box> #0", "finite"),
    "negative width": (box(xtl=20, xbr=10), "<box> #0", "positive"),
    "not a number": (box(ytl="top"), "<box> #0", "'top' is not a number"),
    "two-point polygon": ('<polygon label="cat" points="1,1;5,5"></polygon>', "<polygon> #0", "at least 3 points"),
    "bad mask": ('<mask label="cat" rle="1, 2" left="0" top="0" width="4" height="4"/>', "<mask> #0", "sum to 3"),
    "no label": ("<box xtl='1' ytl='1' xbr='3' ybr='3'/>", "<box> #0", "has no label"),
    "blank label": (box(label="  "), "<box> #0", "has an empty label ('  ')"),
    "skeleton point without label": (
        '<skeleton label="hand"><points label="wrist" points="1,1"/><points label="" points="2,2"/></skeleton>',
        "<skeleton> #0",
        "its <points> #1 has no label",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ELEMENTS))
def test_bad_element_names_it_and_writes_nothing(seeded: lb.Project, tmp_path: Path, case: str) -> None:
    bad, item, message = BAD_ELEMENTS[case]
    path = write(tmp_path / "bad.xml", cvat_xml(image("good.png", box()), image("ok.png", bad, box(), id_=1)))
    before = (len(seeded.assets), len(seeded.annotations))
    with pytest.raises(lb.ImportProblems) as err:
        seeded.import_cvat(path, images=tmp_path / "img", progress=False)
    assert err.value.problems[0][0] == f"image 'ok.png' {item}"
    assert message in err.value.problems[0][1]
    assert (len(seeded.assets), len(seeded.annotations)) == before
    skipped = seeded.import_cvat(path, images=tmp_path / "img", on_error="skip", progress=False)
    assert list(skipped["item"]) == [f"image 'ok.png' {item}"]
    assert (len(seeded.assets), len(seeded.annotations)) == (before[0] + 1, before[1] + 2)


def test_a_bad_skeleton_point_costs_only_its_shape(backend_url: str, tmp_path: Path) -> None:
    """Its class comes from the good skeletons; on_error="skip" keeps them."""
    write_png(tmp_path / "img" / "a.png")
    good = '<skeleton label="hand"><points label="wrist" points="1,1"/><points label="thumb" points="3,3"/></skeleton>'
    bad = '<skeleton label="hand"><points label="wrist" points="5,5"/><points points="6,6"/></skeleton>'
    path = write(tmp_path / "a.xml", cvat_xml(image("a.png", bad, good, good)))
    p = lb.Project.create(backend_url, labels=[])
    with pytest.raises(lb.ImportProblems) as err:
        p.import_cvat(path, images=tmp_path / "img", progress=False)
    assert err.value.problems == [
        ("image 'a.png' <skeleton> #0", "its <points> #1 has no label (each skeleton point names its part)")
    ]
    skipped = p.import_cvat(path, images=tmp_path / "img", on_error="skip", progress=False)
    assert list(skipped["item"]) == ["image 'a.png' <skeleton> #0"]
    assert p.schema.get("hand").keypoints == ["wrist", "thumb"]
    assert len(p.get_annotations("a.png")) == 2


def test_missing_image_and_tracks_are_problems(seeded: lb.Project, tmp_path: Path) -> None:
    track = (
        '<track id="0" label="cat"><box frame="0" keyframe="1" outside="0" xtl="1" ytl="1" xbr="4" ybr="4"/></track>'
    )
    doc = cvat_xml(image("good.png", box()), image("gone.png", box(), id_=1), track)
    before = (len(seeded.assets), len(seeded.annotations))
    with pytest.raises(lb.ImportProblems) as err:
        seeded.import_cvat(write(tmp_path / "bad.xml", doc), images=tmp_path / "img", progress=False)
    items = sorted(item for item, _ in err.value.problems)
    assert items == ["<track> #0 ('cat')", "image 'gone.png' (id 1)", "image 'gone.png' <box> #0"]
    assert (len(seeded.assets), len(seeded.annotations)) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("<annotations><image id='0' name='a.png'>", "malformed XML"),
        ("<root/>", "expected <annotations>"),
        ('<!DOCTYPE a [<!ENTITY x "xx">]><annotations>&x;</annotations>', "unsafe XML refused"),
    ],
)
def test_malformed_file_names_the_file(seeded: lb.Project, tmp_path: Path, content: str, message: str) -> None:
    before = (len(seeded.assets), len(seeded.annotations))
    with pytest.raises(lb.ImportProblems, match=r"broken\.xml") as err:
        seeded.import_cvat(write(tmp_path / "broken.xml", content), images=tmp_path / "img", progress=False)
    assert message in str(err.value)
    assert (len(seeded.assets), len(seeded.annotations)) == before


# -- a CVAT project export: several tasks, subsets, images under images/<subset>/ ---------------------

PROJECT_XML = Path(__file__).parent / "data" / "formats" / "cvat_project_annotations.xml"


def cvat_project_export(root: Path) -> Path:
    """The unzipped project export: annotations.xml beside images/<subset>/<name>."""
    doc = SafeET.parse(PROJECT_XML).getroot()
    for n, image in enumerate(doc.findall("image")):
        target = root / "images" / str(image.get("subset")) / str(image.get("name"))
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 48), (n * 40, 0, 0)).save(target)
    (root / "annotations.xml").write_bytes(PROJECT_XML.read_bytes())
    return root / "annotations.xml"


def test_cvat_project_export_keeps_each_images_task_and_subset(backend_url: str, tmp_path: Path) -> None:
    xml = cvat_project_export(tmp_path / "zoo")
    p = lb.Project.create(
        backend_url, labels=[], attributes=[{"name": "quality", "type": "choice", "options": ["good", "blurry"]}]
    )
    assert p.import_cvat(xml, images=tmp_path / "zoo" / "images", progress=False).empty
    df = p.assets.df.set_index("file_name")
    assert df[["split", "cvat_task"]].to_dict("index") == {
        "Train/cat_01.jpg": {"split": "Train", "cvat_task": "batch A"},  # a name both subsets use
        "cat_02.jpg": {"split": "Train", "cvat_task": "batch A"},
        "dog_01.jpg": {"split": "Train", "cvat_task": "batch B"},
        "dog_02.jpg": {"split": "Train", "cvat_task": "batch B"},
        "Validation/cat_01.jpg": {"split": "Validation", "cvat_task": "holdout"},
        "bird_01.jpg": {"split": "Validation", "cvat_task": "holdout"},
    }
    for name, x, quality, colour in (
        ("Train/cat_01.jpg", 4.2, "good", 0),
        ("Validation/cat_01.jpg", 30, "blurry", 160),
    ):
        (cat,) = p.get_annotations(name)
        assert (cat.bbox[0], cat.attributes) == (x, {"quality": quality})
        assert abs(int(p.asset(name).array()[0, 0, 0]) - colour) <= 2  # the file of its own subset
    assert [s.kind for s in p.get_annotations("dog_01.jpg")] == ["box", "tag"]
    assert len(p.annotations) == 6

    out = p.export_coco(tmp_path / "coco.json", split="split")  # the subsets as the export's splits
    assert sorted(out) == ["Train", "Validation"]
    assert len(json.loads(out["Validation"].read_text())["images"]) == 2
    data_yaml = yaml.safe_load(p.export_yolo(tmp_path / "yolo", split="split").read_text())
    assert (data_yaml["train"], data_yaml["val"]) == ("images/train", "images/val")


def test_cvat_project_export_from_its_root_and_back(backend_url: str, tmp_path: Path) -> None:
    xml = cvat_project_export(tmp_path / "zoo")
    p = lb.Project.create(backend_url, labels=[])
    with pytest.warns(UserWarning, match="attributes not in the project schema"):
        p.import_cvat(xml, images=tmp_path / "zoo", progress=False)  # the export's root works too
    assert len(p.assets) == 6
    again = p.export_cvat(tmp_path / "again.xml", split="split")
    q = other_project(backend_url, "again")
    q.import_cvat(again, images=tmp_path / "zoo", progress=False)
    assert dict(zip(q.assets.df.file_name, q.assets.df.split, strict=True)) == dict(
        zip(p.assets.df.file_name, p.assets.df.split, strict=True)
    )
    assert len(q.annotations) == len(p.annotations)


def project_layout(xml: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A CVAT project file's tasks (id, name, subset, size) and images (id, name, subset, task_id, size)."""
    root = SafeET.parse(xml).getroot()
    tasks = [tuple(t.findtext(k) or "" for k in ("id", "name", "subset", "size")) for t in root.iter("task")]
    keys = ("id", "name", "subset", "task_id", "width", "height")
    return tasks, [tuple(i.get(k) or "" for k in keys) for i in root.findall("image")]


def described_shapes(p: lb.Project) -> dict[str, list[tuple[Any, ...]]]:
    """Each image's shapes as what a user sees of them: kind, label or tag, geometry, attributes."""
    out = {}
    for name in p.assets.df.file_name:
        shapes = [
            (s.kind, getattr(s, "label", None), getattr(s, "value", None), str(s.to_data()), s.bbox, s.attributes)
            for s in p.get_annotations(name)
        ]
        out[name] = sorted(shapes, key=repr)
    return out


def test_cvat_project_round_trip_keeps_its_tasks(backend_url: str, tmp_path: Path) -> None:
    """Import a CVAT project, export it with its subsets, import that: the same tasks (names, ids, each
    with its subset), image ids, names (a name two subsets share is written as CVAT wrote it) and shapes."""
    xml = cvat_project_export(tmp_path / "zoo")
    quality = [{"name": "quality", "type": "choice", "options": ["good", "blurry"]}]
    p = lb.Project.create(backend_url, labels=[], attributes=quality)
    assert p.import_cvat(xml, images=tmp_path / "zoo" / "images", progress=False).empty
    again = p.export_cvat(tmp_path / "again.xml", split="split")
    tasks, images = project_layout(again)
    assert tasks == [
        ("11", "batch A", "Train", "2"),
        ("12", "batch B", "Train", "2"),
        ("13", "holdout", "Validation", "2"),
    ]
    assert (tasks, images) == project_layout(PROJECT_XML)  # ids count per subset across its tasks, as CVAT's
    assert [i[1] for i in images].count("cat_01.jpg") == 2  # not Train/cat_01.jpg

    q = other_project(backend_url, "again", attributes=quality)
    assert q.import_cvat(again, images=tmp_path / "zoo" / "images", progress=False).empty
    columns = ["file_name", "split", "cvat_task", "width", "height"]
    assert q.assets.df[columns].to_dict("records") == p.assets.df[columns].to_dict("records")
    assert [q.asset(n).meta for n in q.assets.df.file_name] == [p.asset(n).meta for n in p.assets.df.file_name]
    assert described_shapes(q) == described_shapes(p)
    assert len(q.annotations) == 6


def test_cvat_tasks_split_apart_or_added_get_their_own_names(backend_url: str, tmp_path: Path) -> None:
    """A CVAT task whose images a new split puts in two subsets becomes one task per subset (a CVAT task
    has one subset), images from outside CVAT make a task of their split, ids never repeat, and two
    images CVAT named alike keep their labnb names once they share a subset."""
    xml = cvat_project_export(tmp_path / "zoo")
    p = lb.Project.create(backend_url, labels=[])
    with pytest.warns(UserWarning, match="attributes not in the project schema"):
        p.import_cvat(xml, images=tmp_path / "zoo" / "images", progress=False)
    p.add_images(write_png(tmp_path / "new.png"), progress=False)
    split = dict.fromkeys(p.assets.df.file_name, "train") | {"cat_02.jpg": "val"}  # batch A in two subsets
    out = p.export_cvat(tmp_path / "resplit.xml", split=split)
    tasks, images = project_layout(out)
    assert sorted(t[1:] for t in tasks) == sorted(
        [
            ("batch A train", "train", "1"),
            ("batch A val", "val", "1"),
            ("batch B", "train", "2"),
            ("holdout", "train", "2"),
            (f"{p.name} train", "train", "1"),
        ]
    )
    ids = {t[1]: t[0] for t in tasks}
    assert (ids["batch B"], ids["holdout"]) == ("12", "13")  # whole tasks keep their CVAT ids
    assert len(set(ids.values())) == 5
    assert "11" not in ids.values()  # batch A is no longer one task
    train = sorted(i[1] for i in images if i[2] == "train")
    assert train == ["Train/cat_01.jpg", "Validation/cat_01.jpg", "bird_01.jpg", "dog_01.jpg", "dog_02.jpg", "new.png"]
    assert sorted(int(i[0]) for i in images if i[2] == "train") == list(range(6))
