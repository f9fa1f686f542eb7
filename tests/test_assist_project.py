"""Model assist at the project level: batch pre-annotation into the store (SQLite file and PostgreSQL),
resuming, class mapping, which image to label next, and comparing two model versions.

The real YOLOX-Nano ONNX model on the real photos of ``coco_tiny_ccby``; no mocks. A second "version" of
the model is the same network with another score floor and name, which is what a retrained model looks
like to these methods: same classes, different output.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import labnb as lb
from labnb.assist import OnnxDetector
from labnb.assist.store import detection_uncertainty
from labnb.sample import MODELS

ALIASES = {"motorbike": "motorcycle", "aeroplane": "airplane", "sofa": "couch", "tvmonitor": "tv"}


def detector(**kw: Any) -> OnnxDetector:
    return OnnxDetector(MODELS / "yolox_nano.onnx", "yolox", classes=MODELS / "yolox_coco_classes.txt", **kw)


@pytest.fixture(scope="module")
def coco(repo_data: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((repo_data / "coco_tiny_ccby" / "instances.json").read_text())
    return data


@pytest.fixture
def project(backend_url: str, repo_data: Path, coco: dict[str, Any]) -> lb.Project:
    p = lb.Project.create(backend_url, labels=[c["name"] for c in coco["categories"]], overwrite=True)
    files = sorted((repo_data / "coco_tiny_ccby" / "images").glob("*.jpg"))[:12]
    p.add_images(files, progress=False)
    return p


def test_pre_annotate_stores_predictions_that_score_like_yolox_nano(
    tmp_path: Path, repo_data: Path, coco: dict[str, Any]
) -> None:
    """Every image of coco_tiny pre-annotated through the project, the stored predictions exported as COCO
    results and scored by pycocotools against the file's ground truth: YOLOX-Nano's published accuracy
    (the data README's reference decoding gave AP 0.31 on 80 COCO images). A wrong letterbox, channel order
    or stride, or boxes stored in the wrong frame, would fall far below."""
    p = lb.Project.create(tmp_path / "all.labnb", labels=[c["name"] for c in coco["categories"]])
    p.add_images(repo_data / "coco_tiny_ccby" / "images", progress=False)
    model = detector(score_threshold=0.001, max_detections=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 20 COCO classes are not in this file's 60
        summary = p.pre_annotate(model, batch_size=4, progress=False)
    assert len(summary) == 41
    assert set(summary.status) == {"predicted"}
    preds = p.predictions.df
    assert set(preds.model) == {"yolox_nano"}
    assert set(preds.version) == {model.version}
    assert int(summary.predictions.sum()) == len(preds)
    ids = {im["file_name"]: im["id"] for im in coco["images"]}
    cats = {c["name"]: c["id"] for c in coco["categories"]}
    results = [
        {"image_id": ids[r.file_name], "category_id": cats[r.label], "bbox": [r.x, r.y, r.w, r.h], "score": r.score}
        for r in preds.itertuples()
    ]
    gt = COCO(str(repo_data / "coco_tiny_ccby" / "instances.json"))
    ev = COCOeval(gt, gt.loadRes(results), "bbox")
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    ap, ap50 = ev.stats[0], ev.stats[1]
    assert 0.22 <= ap <= 0.5, ap
    assert ap50 >= 0.35, ap50


def test_pre_annotate_resumes_and_skips_what_it_has_seen(project: lb.Project) -> None:
    model = detector()
    first = list(project.assets)[:5]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        part = project.pre_annotate(model, first, batch_size=2, progress=False)
    assert list(part.status) == ["predicted"] * 5
    stored = len(project.predictions.df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = project.pre_annotate(model, batch_size=4, progress=False)
    assert list(whole.status[:5]) == ["stored before"] * 5
    assert set(whole.status[5:]) == {"predicted"}
    df = project.predictions.df
    assert len(df[df.asset.isin([a.id for a in first])]) == stored  # nothing predicted twice
    kinds = project.events.df.kind
    assert (kinds == "assist.predict").sum() == 3 + 2  # one event per stored batch
    # the human side is untouched
    assert project.annotations.df.empty


def test_unmapped_classes_warn_and_mapping_keeps_them(tmp_path: Path, repo_data: Path, coco: dict[str, Any]) -> None:
    """A project with its own names: "people" is not a model class, so persons are dropped with a warning
    naming them until a mapping says where they go; a mapping onto a class the project lacks is refused."""
    photo = next(im for im in coco["images"] if _count(coco, im["id"], "person") >= 2)
    p = lb.Project.create(tmp_path / "m.labnb", labels=["people", "dog", "cat"])
    p.add_images(repo_data / "coco_tiny_ccby" / "images" / photo["file_name"], progress=False)
    model = detector(version="a")
    with pytest.warns(UserWarning, match=r"dropped: person, bicycle"):
        p.pre_annotate(model, progress=False)
    assert "people" not in set(p.predictions.df.label)
    with pytest.raises(lb.SchemaError, match="giraffe"):
        p.pre_annotate(detector(version="b"), mapping={"person": "giraffe"}, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the other 79 classes
        p.pre_annotate(detector(version="c"), mapping={"person": "people"}, progress=False)
    df = p.predictions.df
    assert (df[df.version == "c"].label == "people").sum() >= 2


def _count(coco: dict[str, Any], image_id: int, name: str) -> int:
    cat = next(c["id"] for c in coco["categories"] if c["name"] == name)
    return sum(1 for a in coco["annotations"] if a["image_id"] == image_id and a["category_id"] == cat)


def test_corrupt_image_is_named_and_the_rest_are_predicted(tmp_path: Path, repo_data: Path) -> None:
    src = sorted((repo_data / "coco_tiny_ccby" / "images").glob("*.jpg"))[:3]
    for f in src:
        shutil.copy(f, tmp_path / f.name)
    p = lb.Project.create(tmp_path / "c.labnb", labels=["person", "dog", "cat", "car"])
    p.add_images(sorted(tmp_path.glob("*.jpg")), progress=False)
    broken = src[1].name
    (tmp_path / broken).write_bytes((tmp_path / broken).read_bytes()[:2000])  # truncated after adding
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = p.pre_annotate(detector(), progress=False)
    row = out.set_index("file_name").loc[broken]
    assert row.status.startswith("not predicted")
    assert broken in row.status
    assert set(out[out.file_name != broken].status) == {"predicted"}


def test_uncertainty_of_a_detection() -> None:
    sure_nothing = detection_uncertainty(0.02, None)
    torn = detection_uncertainty(0.5, None)
    sure_cat = detection_uncertainty(0.97, np.array([0.97, 0.01, 0.0], np.float32))
    two_classes = detection_uncertainty(0.45, np.array([0.45, 0.44, 0.0], np.float32))
    for measure in range(3):
        assert sure_nothing[measure] < torn[measure]
        assert sure_cat[measure] < torn[measure]
        assert sure_cat[measure] < two_classes[measure]
    assert torn[1] == pytest.approx(1.0)  # margin: 0.5 vs 0.5
    assert torn[2] == pytest.approx(1.0)  # entropy of a fair coin


def test_next_to_label_ranks_uncertain_unlabelled_images(project: lb.Project) -> None:
    model = detector()
    labelled = next(iter(project.assets))
    project.annotate(labelled, lb.Box(1, 1, 10, 10, label="person"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for strategy in ("least_confidence", "margin", "entropy"):
            nxt = project.next_to_label(model, strategy=strategy, k=5, progress=False)
            assert list(nxt.columns[:4]) == ["rank", "asset", "file_name", "uncertainty"]
            assert len(nxt) == 5
            assert list(nxt["rank"]) == [1, 2, 3, 4, 5]
            assert nxt.uncertainty.is_monotonic_decreasing
            assert (nxt.uncertainty == nxt[strategy]).all()
            assert labelled.id not in set(nxt.asset)
        everything = project.next_to_label(model, k=100, include_labelled=True, progress=False)
    assert len(everything) == len(project.assets)
    # the ranking is the stored per-image uncertainty: recompute it from the stored predictions
    runs = everything.set_index("asset")
    top = runs.least_confidence.idxmax()
    scores = project.predictions.df.query("asset == @top").score
    assert runs.loc[top, "least_confidence"] >= 1 - scores.max() - 1e-9 or scores.empty
    with pytest.raises(lb.LabnbError, match="strategy"):
        project.next_to_label(model, strategy="random", progress=False)  # type: ignore[arg-type]


def test_compare_models_per_image(project: lb.Project) -> None:
    a = detector(score_threshold=0.3, name="yolox_nano", version="v1")
    b = detector(score_threshold=0.6, name="yolox_nano", version="v2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same = project.compare_models(a, detector(score_threshold=0.3, version="v1-copy"), progress=False)
        cmp = project.compare_models(a, b, progress=False)
    assert isinstance(cmp, pd.DataFrame)
    assert list(cmp.columns) == ["asset", "file_name", "n_a", "n_b", "matched", "mean_iou", "agreement"]
    assert len(cmp) == len(project.assets)
    # the same network agrees with itself completely; the stricter version finds a subset of the boxes
    assert (same.agreement == 1.0).all()
    assert (same.mean_iou.dropna() > 0.999).all()
    assert (cmp.n_b <= cmp.n_a).all()
    assert (cmp.matched == cmp.n_b).all()
    assert (cmp.agreement <= 1.0).all()
    assert (cmp.agreement < 1.0).any()
    with pytest.raises(lb.LabnbError, match="nothing to compare"):
        project.compare_models(a, a, progress=False)
