"""Large imports take the bulk path (indexes rebuilt after filling an empty table) and stay correct."""

from __future__ import annotations

from pathlib import Path

import orjson
import sqlalchemy as sa

import labnb as lb
from labnb.store.database import BULK_REBUILD_INDEXES


def boxes_file(path: Path, n_images: int, n_annotations: int, prefix: str) -> Path:
    images = [{"id": i + 1, "file_name": f"{prefix}{i:06d}.jpg", "width": 640, "height": 480} for i in range(n_images)]
    anns = [
        {
            "id": k + 1,
            "image_id": k % n_images + 1,
            "category_id": 1 + k % 3,
            "bbox": [k % 500, 10, 20, 30],
            "area": 600,
            "iscrowd": 0,
            "segmentation": [] if (k // n_images) % 2 else [[k % 500, 10, k % 500 + 20, 10, k % 500, 40]],
        }
        for k in range(n_annotations)
    ]
    cats = [{"id": i, "name": f"c{i}"} for i in (1, 2, 3)]
    path.write_bytes(orjson.dumps({"images": images, "annotations": anns, "categories": cats}))
    return path


def test_bulk_import_into_empty_and_filled_projects(backend_url: str, tmp_path: Path) -> None:
    n = BULK_REBUILD_INDEXES + 1000
    p = lb.Project.create(backend_url, labels=[], user="alice")
    p.import_coco(boxes_file(tmp_path / "a.json", 500, n, "a"), progress=False)
    p.import_coco(boxes_file(tmp_path / "b.json", 500, n, "b"), progress=False)
    assert len(p.assets) == 1000
    assert len(p.annotations) == 2 * n
    first = p.get_annotations("a000007.jpg")
    assert len(first) == n // 500 + (1 if n % 500 > 7 else 0)
    assert {type(s).__name__ for s in first} == {"Box", "Polygon"}
    with p._engine.connect() as conn:
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("annotations")}
    assert {"ix_annotations_asset", "ix_annotations_project_source"} <= names
    (aid,) = p.annotate("b000001.jpg", lb.Box(1, 1, 5, 5, label="c1"))  # ids keep counting after bulk ids
    assert aid == 2 * n + 1
