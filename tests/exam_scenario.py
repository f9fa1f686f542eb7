"""An exam with every kind of instance, sat sloppily, for the exam grader's tests (Python and browser).

Three 400x300 images whose gold holds boxes, a polygon, keypoints, a mask and a tag; the trainee tina
draws them with the mistakes a grader has to judge:

- im0.png: the cat a little off (a match, 4 stars proposed); the dog drawn as a cat (a wrong label: its gold
  is unmatched but not proposed Missing, its instance gets 1 star);
- im1.png: the polygon cat and the dog right; the second cat missed (proposed Missing); a stray dog (1 star);
- im2.png: the person's keypoints near the gold, the dog's mask close to it, the tag "light:night" where the
  gold says "light:day" (a wrong tag).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

import labnb as lb

TEAM = {"tina": "annotator", "tom": "annotator", "rita": "reviewer", "ravi": "reviewer", "mona": "manager"}
EXAM = "pets-101"
SIZE = (400, 300)  # width, height
LABELS: list[Any] = [
    {"name": "cat", "color": "#E69F00"},
    {"name": "dog", "color": "#56B4E9"},
    {"name": "person", "color": "#009E73", "keypoints": ["head", "left_hand", "right_hand"],
     "skeleton": [["head", "left_hand"], ["head", "right_hand"]]},
]  # fmt: skip
TAGS = [{"name": "light", "options": ["day", "night"]}]
#: colours of the images' two halves (left, right), so pixel checks know the background
IMAGE_COLOURS = {"im0.png": (60, 60, 60), "im1.png": (80, 80, 80), "im2.png": (100, 100, 100), "im3.png": (40, 40, 40)}


def mask(x0: int, y0: int, x1: int, y1: int) -> lb.Mask:
    w, h = SIZE
    a = np.zeros((h, w), bool)
    a[y0:y1, x0:x1] = True
    return lb.Mask(a, label="dog")


def gold() -> dict[str, list[Any]]:
    return {
        "im0.png": [lb.Box(40, 40, 120, 90, label="cat"), lb.Box(240, 60, 120, 120, label="dog")],
        "im1.png": [lb.Polygon([(60, 120), (160, 120), (160, 220), (60, 220)], label="cat"),
                    lb.Box(260, 30, 100, 100, label="cat"), lb.Box(180, 180, 60, 60, label="dog")],
        "im2.png": [lb.Keypoints({"head": (100, 60), "left_hand": (70, 140), "right_hand": (130, 140)}, label="person"),
                    mask(220, 150, 340, 250), lb.Tag("day", group="light")],
        "im3.png": [lb.Box(50, 50, 100, 100, label="dog")],
    }  # fmt: skip


def sloppy() -> dict[str, list[Any]]:
    return {
        "im0.png": [lb.Box(46, 44, 120, 90, label="cat"), lb.Box(240, 60, 120, 120, label="cat")],
        "im1.png": [lb.Polygon([(64, 122), (160, 122), (160, 220), (64, 220)], label="cat"),
                    lb.Box(180, 180, 60, 60, label="dog"), lb.Box(330, 220, 40, 40, label="dog")],
        "im2.png": [lb.Keypoints({"head": (102, 62), "left_hand": (72, 138), "right_hand": (128, 142)}, label="person"),
                    mask(225, 155, 340, 250), lb.Tag("night", group="light")],
        "im3.png": [],
    }  # fmt: skip


def make_project(url: str, folder: Path) -> str:
    """The project at ``url`` (made anew): classes, the tag group, four images, their ground truth, the team."""
    p = lb.Project.create(url, labels=LABELS, tags=TAGS, user="olga", overwrite=True)
    w, h = SIZE
    for name, colour in IMAGE_COLOURS.items():
        im = Image.new("RGB", (w, h), colour)
        im.paste(Image.new("RGB", (w // 2, h), tuple(c + 40 for c in colour)), (w // 2, 0))
        im.save(folder / name)
    p.add_images([folder / n for n in IMAGE_COLOURS], progress=False)
    for name, shapes in gold().items():
        p.annotate(name, shapes, source="ground_truth")
    for user, role in TEAM.items():
        p.members.add(user, role)
    return url


def make_exam(url: str, images: tuple[str, ...] = ("im0.png", "im1.png", "im2.png"), **options: Any) -> lb.exams.Exam:
    options.setdefault("grants", ["pets"])
    options.setdefault("pass_mark", {"stars": 3.0, "f1": 0.5, "max_missed": 2})
    return lb.Project.open(url, user="mona").exams.create(EXAM, list(images), **options)


def sit(url: str, user: str = "tina", hand_in: int | None = None) -> lb.exams.Attempt:
    """``user``'s attempt at the exam, drawn as :func:`sloppy` says; ``hand_in`` images only (default all)."""
    p = lb.Project.open(url, user=user)
    attempt = p.exams.start(EXAM)
    drawings = sloppy()
    left = len(attempt.tasks) if hand_in is None else hand_in
    for _ in range(left):
        task = p.next_task()
        assert task is not None
        shapes = drawings[task.asset.file_name]
        if shapes:
            p.annotate(task.asset_id, shapes, task_id=task.id, duration=1.0)
        task.submit()
    return attempt.refresh()


def ids_by_label(p: lb.Project, attempt: lb.exams.Attempt, file_name: str) -> dict[tuple[str, int], int]:
    """The trainee's annotation ids on one image by (label or tag value, x of the bounding box)."""
    tasks = attempt.tasks.set_index("file_name")
    out = {}
    for s in p.task(int(tasks.loc[file_name, "task"])).shapes():
        key = s.value if isinstance(s, lb.Tag) else s.label
        out[(str(key), round(s.bbox[0]))] = int(s.id or 0)
    return out


def gold_ids(exam: lb.exams.Exam, file_name: str) -> dict[tuple[str, int], int]:
    """The gold ids of one image by (label or tag value, x of the bounding box)."""
    out = {}
    for s in exam.gold_shapes(file_name):
        key = s.value if isinstance(s, lb.Tag) else s.label
        out[(str(key), round(s.bbox[0]))] = int(s.id or 0)
    return out
