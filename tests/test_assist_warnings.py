"""Model classes a project lacks: one warning per project and model version, pointing at the user's line.

YOLOX-Nano knows 80 COCO classes; a project of three drops 77. The warning names the first few and the
count, is raised once however many calls use the model (pre_annotate, next_to_label, the annotator's
background worker), and its file and line are the caller's, not labnb's. ``simplefilter("always")`` turns
off Python's own once-per-location filter, so what is counted here is labnb's doing.
"""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import pytest
from test_annotator_python import settled  # pytest puts tests/ on sys.path

import labnb as lb
from labnb.assist import classes
from labnb.sample import IMAGES

PROJECT_CLASSES = ["person", "dog", "kite"]


@pytest.fixture
def project(tmp_path: Path) -> lb.Project:
    p = lb.Project.create(tmp_path / "w.labnb", labels=PROJECT_CLASSES, user="alice")
    p.add_images(sorted(IMAGES.glob("*.jpg"))[:2], progress=False)
    return p


def dropped(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in caught if "have no project class" in str(w.message)]


def test_the_warning_comes_once_per_model_version_and_points_at_the_caller(project: lb.Project) -> None:
    model = lb.sample.detector()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        project.pre_annotate(model, progress=False)
        project.pre_annotate(model, progress=False)
        project.next_to_label(model, k=1, progress=False)
    [w] = dropped(caught)
    assert w.filename == __file__
    assert w.lineno == line
    text = str(w.message)
    assert f"model 'yolox_nano' (version {model.version}): 77 of its classes" in text
    assert "dropped: bicycle, car, motorbike, aeroplane, bus, train, truck, boat and 69 more" in text
    assert "mapping=" in text

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        project.pre_annotate(lb.sample.detector(version="v2"), progress=False)  # another version speaks again
    [again] = dropped(caught)
    assert "(version v2)" in str(again.message)
    assert again.filename == __file__


def test_the_annotator_warns_when_it_is_built_not_from_its_worker(project: lb.Project) -> None:
    model = lb.sample.detector()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
        widget = project.annotator(assist=model)
        settled(widget)  # the background worker predicts each image shown
        widget.goto(1)
        assert "suggestion" in settled(widget)
        project.pre_annotate(model, progress=False)
        widget.close()
    [w] = dropped(caught)
    assert (w.filename, w.lineno) == (__file__, line)


def test_a_project_of_its_own_hears_it_too(project: lb.Project, tmp_path: Path) -> None:
    model = lb.sample.detector()
    other = lb.Project.create(tmp_path / "other.labnb", labels=PROJECT_CLASSES, user="alice")
    other.add_images(sorted(IMAGES.glob("*.jpg"))[:1], progress=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        project.pre_annotate(model, progress=False)
        other.pre_annotate(model, progress=False)
    assert len(dropped(caught)) == 2


def test_user_stacklevel_skips_every_labnb_frame() -> None:
    def from_outside() -> list[warnings.WarningMessage]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            classes.warn_unmapped("m", "1", ["zebra"], scope=object())
        return caught

    [w] = from_outside()
    assert w.filename == __file__
    assert "1 of its classes have no project class and are dropped: zebra." in str(w.message)
