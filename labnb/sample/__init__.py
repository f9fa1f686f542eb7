"""Sample images bundled with labnb (8 COCO photos with their annotations) and a small pretrained detector
(YOLOX-Nano, ONNX, 3.7 MB), for the demo and examples.

Sources and licences: ``ATTRIBUTION.md`` beside this file. Everything here works offline.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from labnb.errors import LabnbError
from labnb.project import Project

if TYPE_CHECKING:
    from labnb.assist.model import OnnxDetector

HERE = Path(__file__).parent
IMAGES = HERE / "images"
COCO_FILE = HERE / "instances.json"
MODELS = HERE / "models"


def demo_project(
    path: str | Path = "demo.labnb", *, overwrite: bool = True, user: str | None = None, unlabelled: int = 0
) -> Project:
    """A project on the sample images with their COCO annotations imported as ground truth.

    The ground truth is there to compare against (agreement, exams, model scores); human annotations
    start empty, as in a real labelling job. ``unlabelled`` leaves the last images of the sample (in
    ``instances.json`` order) without their ground truth: images still to label, which is what
    ``p.next_to_label`` ranks. The schema is COCO's 18 classes of the sample either way.
    """
    coco = json.loads(COCO_FILE.read_text(encoding="utf-8"))
    n = len(coco["images"])
    if not 0 <= unlabelled <= n:
        raise LabnbError(f"unlabelled must be between 0 and {n} (the sample has {n} images), got {unlabelled!r}")
    project = Project.create(path, labels=[], name="demo", overwrite=overwrite, user=user)
    if unlabelled == 0:
        project.import_coco(COCO_FILE, images=IMAGES, source="ground_truth", progress=False)
        return project
    keep, rest = coco["images"][: n - unlabelled], coco["images"][n - unlabelled :]
    kept_ids = {image["id"] for image in keep}
    part = {**coco, "images": keep, "annotations": [a for a in coco["annotations"] if a["image_id"] in kept_ids]}
    with tempfile.TemporaryDirectory(prefix="labnb-sample-") as tmp:
        subset = Path(tmp) / "instances.json"
        subset.write_text(json.dumps(part), encoding="utf-8")
        project.import_coco(subset, images=IMAGES, source="ground_truth", progress=False)
    project.add_images([IMAGES / image["file_name"] for image in rest], progress=False)
    return project


def detector(**options: Any) -> OnnxDetector:
    """YOLOX-Nano on the 80 COCO classes, ready for ``p.annotator(assist=...)`` and ``p.pre_annotate``.

    ``options`` go to :class:`labnb.assist.OnnxDetector` (``score_threshold``, ``providers``, ...).
    """
    from labnb.assist.model import OnnxDetector  # noqa: PLC0415 - onnxruntime loads only when a model is wanted

    return OnnxDetector(MODELS / "yolox_nano.onnx", "yolox", classes=MODELS / "yolox_coco_classes.txt", **options)
