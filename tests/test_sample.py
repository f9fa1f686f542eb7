"""The bundled sample: ``demo_project`` with some images left to label, as the quickstart uses it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import labnb as lb
from labnb.sample import COCO_FILE, demo_project


def test_unlabelled_images_come_without_ground_truth_and_the_schema_is_whole(tmp_path: Path) -> None:
    coco = json.loads(COCO_FILE.read_text())
    full = demo_project(tmp_path / "full.labnb")
    p = demo_project(tmp_path / "part.labnb", unlabelled=3)
    assert (
        sorted(p.assets.df.file_name)
        == sorted(full.assets.df.file_name)
        == sorted(i["file_name"] for i in coco["images"])
    )
    assert p.schema.names == full.schema.names
    labelled = set(p.assets.df.set_index("asset_id").file_name[p.annotations.df.asset_id.unique()])
    assert labelled == {i["file_name"] for i in coco["images"][:-3]}
    assert len(full.annotations.df) == len(coco["annotations"])
    assert len(p.annotations.df) == sum(
        1 for a in coco["annotations"] if a["image_id"] in {i["id"] for i in coco["images"][:-3]}
    )
    assert set(p.annotations.df.source) == {"ground_truth"}


def test_unlabelled_out_of_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(lb.LabnbError, match="between 0 and 8"):
        demo_project(tmp_path / "x.labnb", unlabelled=9)
