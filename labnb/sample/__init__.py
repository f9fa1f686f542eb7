"""Sample images bundled with labnb (8 COCO photos with their annotations), for the demo and examples.

Sources and licences: ``ATTRIBUTION.md`` beside this file. Everything here works offline.
"""

from __future__ import annotations

from pathlib import Path

from labnb.project import Project

HERE = Path(__file__).parent
IMAGES = HERE / "images"
COCO_FILE = HERE / "instances.json"


def demo_project(path: str | Path = "demo.labnb", *, overwrite: bool = True, user: str | None = None) -> Project:
    """A project on the sample images with their COCO annotations imported as ground truth.

    The ground truth is there to compare against (agreement, exams, model scores); human annotations
    start empty, as in a real labelling job.
    """
    project = Project.create(path, labels=[], name="demo", overwrite=overwrite, user=user)
    project.import_coco(COCO_FILE, images=IMAGES, source="ground_truth", progress=False)
    return project
