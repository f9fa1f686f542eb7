"""Pascal VOC import/export on real files: the COCO sample through VOC and back, layouts, flags, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import labnb as lb

COCO_DIR = "coco_tiny_ccby"


def other_project(backend_url: str, name: str) -> lb.Project:
    """A second project on the same back end (another file for SQLite, another name for PostgreSQL)."""
    if "://" in backend_url:
        return lb.Project.create(backend_url, labels=[], name=name)
    return lb.Project.create(str(Path(backend_url).with_name(f"{name}.labnb")), labels=[])


def write_png(path: Path, size: tuple[int, int] = (40, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (30, 60, 200)).save(path)
    return path


def voc_xml(file_name: str, *objects: str, size: tuple[int, int] | None = (40, 30)) -> str:
    size_xml = f"<size><width>{size[0]}</width><height>{size[1]}</height><depth>3</depth></size>" if size else ""
    return f"<annotation><folder>x</folder><filename>{file_name}</filename>{size_xml}{''.join(objects)}</annotation>"


def voc_object(name: str, box: tuple[object, ...] = (2, 3, 12, 13), extra: str = "") -> str:
    corners = "".join(f"<{t}>{v}</{t}>" for t, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True))
    return f"<object><name>{name}</name>{extra}<bndbox>{corners}</bndbox></object>"


def boxes(p: lb.Project) -> dict[str, list[tuple[str, float, float, float, float]]]:
    out: dict[str, list[tuple[str, float, float, float, float]]] = {}
    for r in p.annotations.df.itertuples():
        out.setdefault(r.file_name, []).append((r.label, r.x, r.y, r.w, r.h))
    return {k: sorted(v) for k, v in out.items()}


def test_coco_to_voc_and_back_keeps_every_box(backend_url: str, repo_data: Path, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=[])
    p.import_coco(repo_data / COCO_DIR / "instances.json", images=repo_data / COCO_DIR / "images", progress=False)
    folder = p.export_voc(tmp_path / "voc")
    assert len(list(folder.glob("*.xml"))) == 41

    q = other_project(backend_url, "from_voc")
    assert q.import_voc(folder, images=repo_data / COCO_DIR / "images", progress=False).empty
    assert (len(q.assets), len(q.annotations)) == (41, 421)
    assert set(q.annotations.df["kind"]) == {"box"}  # polygons and masks travel as their boxes
    before, after = boxes(p), boxes(q)
    assert before.keys() == after.keys()
    for file_name, want in before.items():
        got = after[file_name]
        assert [g[0] for g in got] == [w[0] for w in want]
        np.testing.assert_allclose([g[1:] for g in got], [w[1:] for w in want], rtol=0, atol=1e-6)

    # without images=, the <path> the export wrote finds the files
    r = other_project(backend_url, "by_path")
    r.import_voc(folder, progress=False)
    assert (len(r.assets), len(r.annotations)) == (41, 421)


def test_voc_layout_single_file_and_fractional_corners(backend_url: str, tmp_path: Path) -> None:
    root = tmp_path / "VOC2012"
    write_png(root / "JPEGImages" / "a.png")
    (root / "Annotations").mkdir(parents=True)
    xml = voc_xml("a.png", voc_object("dog", (1.25, 2, 30.5, 29)), voc_object("cat"))
    (root / "Annotations" / "a.xml").write_text(xml)
    p = lb.Project.create(backend_url, labels=[])
    p.import_voc(root / "Annotations" / "a.xml", progress=False)  # the image is in ../JPEGImages/
    assert p.schema.names == ["dog", "cat"]
    assert boxes(p) == {"a.png": [("cat", 2, 3, 10, 10), ("dog", 1.25, 2, 29.25, 27)]}

    p.export_voc(tmp_path / "out")
    text = (tmp_path / "out" / "a.xml").read_text()
    assert "<xmin>1.25</xmin>" in text
    assert "<xmax>30.5</xmax>" in text
    assert "<ymin>2</ymin>" in text  # whole numbers stay integers


def test_images_folder_nested_xml_and_images_already_in_the_project(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "pics" / "a.png")
    known = write_png(tmp_path / "elsewhere" / "known.png")
    ann = tmp_path / "ann"
    (ann / "deep").mkdir(parents=True)
    (ann / "deep" / "a.xml").write_text(voc_xml("a.png", voc_object("dog")))
    (ann / "known.xml").write_text(voc_xml("known.png", voc_object("dog", (5, 5, 6, 6)), size=None))
    p = lb.Project.create(backend_url, labels=[])
    p.add_images(known, progress=False)
    p.import_voc(ann, images=tmp_path / "pics", progress=False)
    assert len(p.assets) == 2  # known.png got its box, not a second asset
    assert boxes(p) == {"a.png": [("dog", 2, 3, 10, 10)], "known.png": [("dog", 5, 5, 1, 1)]}


def test_flags_kept_only_where_the_schema_has_them(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    flags = "<pose>Left</pose><truncated>1</truncated><difficult>1</difficult><occluded>0</occluded>"
    (tmp_path / "a.xml").write_text(voc_xml("a.png", voc_object("dog", extra=flags)))
    p = lb.Project.create(
        backend_url, labels=["dog"], attributes=[{"name": "difficult", "type": "number"}, {"name": "pose"}]
    )
    p.import_voc(tmp_path / "a.xml", progress=False)
    (shape,) = p.get_annotations("a.png")
    assert shape.attributes == {"difficult": 1, "pose": "Left"}  # truncated/occluded: not in the schema

    p.export_voc(tmp_path / "out")
    text = (tmp_path / "out" / "a.xml").read_text()
    assert "<difficult>1</difficult>" in text
    assert "<pose>Left</pose>" in text
    assert "<truncated>0</truncated>" in text


def test_export_writes_non_box_shapes_as_their_box(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=["leaf"])
    p.add_images(write_png(tmp_path / "img" / "a.png", (50, 40)), progress=False)
    p.annotate("a.png", [lb.Polygon([(5, 5), (25, 8), (15, 30)], label="leaf"), lb.Tag("sunny")])
    with pytest.warns(UserWarning, match="1 image tag"):
        p.export_voc(tmp_path / "out")
    q = other_project(backend_url, "boxes")
    q.import_voc(tmp_path / "out", progress=False)
    assert boxes(q) == {"a.png": [("leaf", 5, 5, 20, 25)]}


def test_export_refuses_a_folder_with_files(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=["a"])
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "old.xml").write_text("<annotation/>")
    with pytest.raises(lb.LabnbError, match="not an empty folder"):
        p.export_voc(tmp_path / "busy")


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;">]>'
    "<annotation><filename>&y;</filename></annotation>"
)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("<annotation><filename>a.png</filename><object>", "malformed XML: .*line 1"),
        (BILLION_LAUGHS, "refused: the XML uses entities"),
        ("<voc><filename>a.png</filename></voc>", "expected <annotation>"),
        (voc_xml("nothere.png"), "unknown <filename> 'nothere.png'"),
        (voc_xml("a.png", "<object><name>dog</name></object>"), "object 1: has no <bndbox>"),
        (voc_xml("a.png", voc_object("dog", (2, 3, "", 13))), "object 1: <bndbox> has no <xmax>"),
        (voc_xml("a.png", voc_object("dog", (2, 3, "ten", 13))), "<xmax> is not a number"),
        (voc_xml("a.png", voc_object("dog", ("nan", 3, 12, 13))), "<xmin> is nan, not a finite number"),
        (voc_xml("a.png", voc_object("dog", (12, 3, 12, 13))), "xmax must be greater than xmin"),
        (voc_xml("a.png", voc_object("")), "object 1: has no <name>"),
        (voc_xml("a.png", voc_object("dog", (2, 3, 90, 13))), "extends outside the 40x30 image"),
    ],
)
def test_bad_files_name_the_file(backend_url: str, tmp_path: Path, xml: str, message: str) -> None:
    p = lb.Project.create(backend_url, labels=["dog"])
    p.add_images(write_png(tmp_path / "img" / "before.png"), progress=False)
    p.annotate("before.png", lb.Box(1, 1, 5, 5, label="dog"))
    write_png(tmp_path / "ann" / "a.png")
    (tmp_path / "ann" / "good.xml").write_text(voc_xml("a.png", voc_object("cat")).replace("a.png", "b.png"))
    write_png(tmp_path / "ann" / "b.png")
    (tmp_path / "ann" / "bad.xml").write_text(xml)
    with pytest.raises(lb.ImportProblems, match=message) as info:
        p.import_voc(tmp_path / "ann", progress=False)
    assert "bad.xml" in str(info.value)
    assert (len(p.assets), len(p.annotations), p.schema.names) == (1, 1, ["dog"])


def test_size_that_disagrees_with_the_image(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    (tmp_path / "a.xml").write_text(voc_xml("a.png", voc_object("dog"), size=(30, 40)))
    p = lb.Project.create(backend_url, labels=[])
    with pytest.raises(
        lb.ImportProblems, match=r"image 'a\.png' \(a\.xml\): the source says 30x40 but the file is 40x30"
    ):
        p.import_voc(tmp_path / "a.xml", progress=False)
    assert len(p.assets) == 0


def test_skip_imports_the_rest_and_lists_what_was_skipped(backend_url: str, tmp_path: Path) -> None:
    write_png(tmp_path / "a.png")
    write_png(tmp_path / "b.png")
    (tmp_path / "a.xml").write_text(voc_xml("a.png", voc_object("dog"), voc_object("cat", (5, 5, 1, 9))))
    (tmp_path / "b.xml").write_text("<annotation>")
    p = lb.Project.create(backend_url, labels=[])
    skipped = p.import_voc(tmp_path, on_error="skip", progress=False)
    assert list(skipped["item"]) == ["a.xml object 2", "b.xml"]
    assert (len(p.assets), len(p.annotations)) == (1, 1)
    assert p.schema.names == ["dog"]  # a label seen only on a skipped object is not added


def test_missing_path(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=[])
    with pytest.raises(lb.ImportProblems, match="not found"):
        p.import_voc(tmp_path / "nowhere.xml", progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(lb.ImportProblems, match=r"holds no \.xml files"):
        p.import_voc(tmp_path / "empty", progress=False)
