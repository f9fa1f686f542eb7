"""The synthetic images and the project schema of the browser tests (imported by conftest.py and the tests).

Each image has two flat halves, so a test can check that the bitmap reached the screen by sampling pixel
colours at image points, whatever the zoom.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from labnb.project import Project

#: Synthetic images: two flat halves each, so a test can check the bitmap by sampling pixel colours.
#: name -> (size, left colour, right colour as the browser should show it, or None when transparent)
IMAGES: dict[str, tuple[tuple[int, int], tuple[int, int, int], tuple[int, int, int] | None]] = {
    "scene.png": ((800, 600), (40, 40, 40), (200, 200, 200)),
    "gray.png": ((640, 480), (30, 30, 30), (220, 220, 220)),
    "deep16.png": ((640, 480), (0, 0, 0), (255, 255, 255)),  # 16-bit: min-max scaled by Python
    "cmyk.jpg": ((640, 480), (0, 255, 255), (255, 0, 255)),  # pure cyan | pure magenta
    "rgba.png": ((640, 480), (255, 0, 0), None),  # opaque red | fully transparent blue
    "wide.jpg": ((50_000, 400), (0, 160, 0), (0, 0, 200)),
}

LABELS = [
    {"name": "cat", "color": "#E69F00"},
    {"name": "dog", "color": "#56B4E9"},
    {
        "name": "person",
        "color": "#009E73",
        "keypoints": ["head", "left_hand", "right_hand"],
        "skeleton": [["head", "left_hand"], ["head", "right_hand"]],
    },
]
TAGS = [{"name": "weather", "options": ["sunny", "rainy"]}]
ATTRIBUTES = [
    {"name": "occluded", "type": "choice", "options": ["no", "yes"]},
    {"name": "note", "type": "text"},
]


def _halves(size: tuple[int, int], left: Any, right: Any, mode: str) -> Image.Image:
    w, h = size
    im = Image.new(mode, size, left)
    im.paste(Image.new(mode, (w - w // 2, h), right), (w // 2, 0))
    return im


def write_images(folder: Path) -> dict[str, Path]:
    paths = {name: folder / name for name in IMAGES}
    _halves((800, 600), (40, 40, 40), (200, 200, 200), "RGB").save(paths["scene.png"])
    _halves((640, 480), 30, 220, "L").save(paths["gray.png"])
    deep = np.full((480, 640), 1000, dtype=np.uint16)
    deep[:, 320:] = 60000
    Image.fromarray(deep).save(paths["deep16.png"])  # mode I;16
    _halves((640, 480), (255, 0, 0, 0), (0, 255, 0, 0), "CMYK").save(paths["cmyk.jpg"], quality=95)
    _halves((640, 480), (255, 0, 0, 255), (0, 0, 255, 0), "RGBA").save(paths["rgba.png"])
    _halves((50_000, 400), (0, 160, 0), (0, 0, 200), "RGB").save(paths["wide.jpg"], quality=90)
    return paths


def make_project(location: str | Path, image_files: dict[str, Path], *labels: Any) -> Project:
    """A project with the test schema (or ``labels``) and every synthetic image, in ``IMAGES`` order."""
    from labnb.project import Project  # noqa: PLC0415

    p = Project.create(
        location, labels=list(labels) or LABELS, tags=TAGS, attributes=ATTRIBUTES, name="browser", overwrite=True
    )
    p.add_images([str(image_files[n]) for n in IMAGES], progress=False)
    return p


#: The review job of ``make_team``: two passes of each image, alice drawing the first and bob the second.
JOB_IMAGES = ["scene.png", "gray.png", "deep16.png"]

#: Boxes (x, y, w, h) per image: on scene.png the two passes disagree, on the others they agree. Every box
#: is a cat but bob's on scene.png, a dog.
ALICE = {"scene.png": (100, 100, 200, 150), "gray.png": (100, 100, 200, 150), "deep16.png": (50, 50, 100, 100)}
BOB = {"scene.png": (450, 300, 200, 150), "gray.png": (102, 100, 200, 150), "deep16.png": (50, 50, 100, 100)}
DOG = ("bob", "scene.png")


def make_team(path: Path, image_files: dict[str, Path]) -> Path:
    """A project of the test images where alice and bob drew both passes of the job "review" (JOB_IMAGES);
    carol reviews, mona manages."""
    from labnb.geometry import Box  # noqa: PLC0415
    from labnb.project import Project  # noqa: PLC0415

    owner = make_project(path, image_files)
    for user, role in {"alice": "annotator", "bob": "annotator", "carol": "reviewer", "mona": "manager"}.items():
        owner.members.add(user, role)
    mona = Project.open(path, user="mona")
    mona.jobs.create("review", assets=JOB_IMAGES, passes_per_file=2, review_frequency=1,
                     review_guide="Boxes must **touch** the object").launch()  # fmt: skip
    for user, boxes in (("alice", ALICE), ("bob", BOB)):
        p = Project.open(path, user=user)
        while (t := p.next_task()) is not None:
            x, y, w, h = boxes[t.asset.file_name]
            t.submit([Box(x, y, w, h, label="dog" if (user, t.asset.file_name) == DOG else "cat")])
    return path
