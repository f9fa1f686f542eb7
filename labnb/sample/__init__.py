"""Sample images bundled with labnb (8 COCO photos with their annotations) and a small pretrained detector
(YOLOX-Nano, ONNX, 3.7 MB), for the demo and examples.

Sources and licences: ``ATTRIBUTION.md`` beside this file. Everything here works offline.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from labnb.project import Project

if TYPE_CHECKING:
    from labnb.assist.model import OnnxDetector

HERE = Path(__file__).parent
IMAGES = HERE / "images"
COCO_FILE = HERE / "instances.json"
MODELS = HERE / "models"


def demo_project(path: str | Path = "demo.labnb", *, overwrite: bool = True, user: str | None = None) -> Project:
    """A project on the sample images with their COCO annotations imported as ground truth.

    The ground truth is there to compare against (agreement, exams, model scores); human annotations
    start empty, as in a real labelling job.
    """
    project = Project.create(path, labels=[], name="demo", overwrite=overwrite, user=user)
    project.import_coco(COCO_FILE, images=IMAGES, source="ground_truth", progress=False)
    return project


def detector(**options: Any) -> OnnxDetector:
    """YOLOX-Nano on the 80 COCO classes, ready for ``p.annotator(assist=...)`` and ``p.pre_annotate``.

    ``options`` go to :class:`labnb.assist.OnnxDetector` (``score_threshold``, ``providers``, ...).
    """
    from labnb.assist.model import OnnxDetector  # noqa: PLC0415 - onnxruntime loads only when a model is wanted

    return OnnxDetector(MODELS / "yolox_nano.onnx", "yolox", classes=MODELS / "yolox_coco_classes.txt", **options)
