"""The agreement report ``p.agreement(...)``: real projects (SQLite files and the PostgreSQL server), passes
drawn by different people through the real workflow (claim with ``p.next_task``, hand in with
``task.submit(shapes)``), and the numbers a project lead would check: identical passes agree fully, a missed
object lowers alpha, the pair matrix is symmetric with the right counts, a sloppy annotator ranks last, the
tag statistics equal ``lb.metrics`` on the same ratings, exam images stay out, annotators are refused, and
the threshold filter returns exactly the images under it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from PIL import Image

import labnb as lb
from labnb.agreement import annotator_agreement
from labnb.agreement.shapes import as_ratings, image_shapes, sum_terms
from labnb.geometry import Shape
from labnb.metrics.agreement import image_agreement, pair_agreement

TEAM = {"alice": "annotator", "bob": "annotator", "carl": "annotator", "rita": "reviewer", "mona": "manager"}
FILES = ["im0.png", "im1.png", "im2.png", "im3.png"]


@pytest.fixture
def url(backend_url: str, tmp_path: Path) -> str:
    p = lb.Project.create(
        backend_url,
        labels=["cat", "dog"],
        tags=[{"name": "light", "options": ["day", "night"]}, {"name": "weather", "options": ["sun", "rain"]}],
        attributes=[{"name": "occluded", "type": "choice", "options": ["yes", "no"]}],
        user="olga",
        overwrite=True,
    )
    for i in range(len(FILES)):
        Image.fromarray(np.full((100, 200, 3), 40 * i + 20, np.uint8)).save(tmp_path / FILES[i])
    p.add_images([tmp_path / f for f in FILES], progress=False)
    for user, role in TEAM.items():
        p.members.add(user, role)
    return backend_url


def as_user(url: str, user: str) -> lb.Project:
    return lb.Project.open(url, user=user)


def run_job(
    url: str, name: str, drawings: Mapping[str, Mapping[str, Sequence[Shape]]], **options: object
) -> lb.Project:
    """A launched job over the drawn images with one pass per drawer, each drawer claiming and handing in
    their passes through the workflow; returns the manager's project."""
    mona = as_user(url, "mona")
    files = sorted({f for d in drawings.values() for f in d})
    options.setdefault("review_frequency", 0)
    mona.jobs.create(name, files, passes_per_file=len(drawings), **options).launch()  # type: ignore[arg-type]
    for user, mine in drawings.items():
        me = as_user(url, user)
        for _ in range(len(mine)):
            task = me.next_task(job=name)
            assert task is not None
            task.submit(list(mine[task.asset.file_name]))
        assert me.next_task(job=name) is None
    return mona


def box(x: float, y: float, w: float = 30, h: float = 30, label: str = "cat", **attributes: str) -> lb.Box:
    return lb.Box(x, y, w, h, label=label, attributes=attributes)


#: Two objects far apart (IoU 0 between them), so identical passes have something to be chance-corrected by.
PAIR = [box(10, 10), box(120, 50, label="dog")]


def test_identical_passes_give_one(url: str) -> None:
    same = {"im0.png": PAIR, "im1.png": PAIR, "im2.png": PAIR[:1]}
    mona = run_job(url, "same", {"alice": same, "bob": same})
    report = mona.agreement()
    df = report.df.set_index("file_name")
    assert list(df.index) == FILES[:3]
    assert (df.passes == 2).all()
    assert df.objects.tolist() == [2, 2, 1]
    assert (df.iou == 1.0).all()
    assert (df.found_by_all == 1.0).all()
    assert (df.alpha[["im0.png", "im1.png"]] == 1.0).all()
    # one object: nothing to compare its agreement with, so alpha is undefined; the iou still says 1
    assert math.isnan(df.loc["im2.png", "alpha"])
    shapes = report.summary.set_index("item").loc["shapes"]
    assert shapes.alpha == 1.0
    assert shapes.iou == 1.0
    assert shapes.n_units == 5
    assert shapes.n_raters == 2


def test_a_missing_shape_lowers_alpha_as_krippendorff_says(url: str) -> None:
    mona = run_job(
        url, "miss", {"alice": {"im0.png": PAIR, "im1.png": PAIR}, "bob": {"im0.png": PAIR, "im1.png": PAIR[:1]}}
    )
    df = mona.agreement().df.set_index("file_name")
    assert df.loc["im0.png", "alpha"] == 1.0
    # im1: units (a1, b1) with IoU 1 and (a2, absent). n = 4 values; D_o = (0 + 2 / 1) / 4 = 0.5; of the 12
    # ordered pairs of values only a1-b1 and b1-a1 are at distance 0, so D_e = 10 / 12: alpha = 1 - 0.6
    assert df.loc["im1.png", "alpha"] == pytest.approx(0.4)
    assert df.loc["im1.png", "iou"] == pytest.approx(1 / 1.5)  # one match over the mean count (2 + 1) / 2
    assert df.loc["im1.png", "found_by_all"] == 0.5
    # the same by lb.metrics: codes 0 a1, 1 b1, 2 a2, 3 absent; distance 1 - IoU, 1 against absent
    d = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [1, 1, 0, 1], [1, 1, 1, 0]], dtype=float)
    ratings = np.array([[0, 1], [2, 3]], dtype=float)
    expected = lb.metrics.krippendorff_alpha(ratings, level=lambda c, k: d[np.asarray(c, int), np.asarray(k, int)])
    assert df.loc["im1.png", "alpha"] == pytest.approx(expected.coefficient, abs=1e-12)


def test_pooled_alpha_equals_krippendorff_with_the_same_distance() -> None:
    """The alpha sums over several images, with partial overlaps and keypoints aside, against the reference
    implementation given every value and the distance (1 - similarity in one image, 1 across images)."""
    rng = np.random.default_rng(3)
    images = []
    for k in range(6):
        truth = [(rng.uniform(0, 150), rng.uniform(0, 60), rng.choice(["cat", "dog"])) for _ in range(3)]
        passes: list[list[Shape]] = []
        for _ in range(3):
            drawn: list[Shape] = [
                box(x + rng.normal(0, 4), y + rng.normal(0, 4), label=str(c)) for x, y, c in truth if rng.random() > 0.2
            ]
            drawn.append(lb.Polygon([(150, 60), (190, 60 + rng.normal(0, 3)), (170, 95)], label="dog"))
            passes.append(drawn)
        img = image_shapes(passes, 100, 200)
        images.append((k, img, ["alice", "bob", "carl"]))
        # one similarity matrix per image gives the workflow's own pair agreement and per-label image agreement
        for a, b, value in img.pairs:
            assert value == pytest.approx(pair_agreement(passes[a], passes[b], 100, 200), abs=1e-12)
        for label, value in img.iou_by_label.items():
            of = [[s for s in p if s.label == label] for p in passes]
            assert value == pytest.approx(image_agreement(of, 100, 200), abs=1e-12)
    pooled = sum_terms([img.terms for _, img, _ in images])
    ratings, distance = as_ratings(images)
    expected = lb.metrics.krippendorff_alpha(ratings, level=distance)
    assert 0 < pooled.alpha < 1
    assert pooled.alpha == pytest.approx(expected.coefficient, abs=1e-9)
    for key, img, raters in images:
        r, dist = as_ratings([(key, img, raters)])
        assert img.alpha == pytest.approx(lb.metrics.krippendorff_alpha(r, level=dist).coefficient, abs=1e-9)


def test_by_label_scores_each_class(url: str) -> None:
    missed_dog = dict.fromkeys(FILES[:2], PAIR[:1])
    mona = run_job(url, "labels", {"alice": dict.fromkeys(FILES[:2], PAIR), "bob": missed_dog})
    by = mona.agreement(by="label").df.set_index("label")
    assert by.loc["cat", ["images", "objects", "found_by_all", "iou", "alpha"]].tolist() == [2, 2, 1.0, 1.0, 1.0]
    assert by.loc["dog", "objects"] == 2
    assert by.loc["dog", "found_by_all"] == 0.0
    assert by.loc["dog", "iou"] == 0.0
    assert by.loc["dog", "alpha"] < 0


def test_pair_matrix_is_symmetric_with_the_images_both_drew(url: str) -> None:
    shifted = [box(14, 10), box(120, 50, label="dog")]  # the cat's IoU with PAIR's is 26 * 30 / (34 * 30)
    run_job(url, "ab", {"alice": dict.fromkeys(FILES[:3], PAIR), "bob": dict.fromkeys(FILES[:3], shifted)})
    mona = run_job(url, "ac", {"alice": {"im3.png": PAIR}, "carl": {"im3.png": PAIR}})
    report = mona.agreement(by="pair")
    m, n = report.df, report.n
    assert n is not None
    assert list(m.index) == list(m.columns) == ["alice", "bob", "carl"]
    assert m.equals(m.T)
    assert n.equals(n.T)
    assert n.loc["alice", "bob"] == 3
    assert n.loc["alice", "carl"] == 1
    assert n.loc["bob", "carl"] == 0
    assert math.isnan(m.loc["bob", "carl"])
    assert np.isnan(np.diag(m.to_numpy())).all()
    iou = (26 * 30) / (34 * 30)
    assert m.loc["alice", "bob"] == pytest.approx((iou + 1) / 2)  # matched similarity over 2 objects each
    assert m.loc["alice", "carl"] == 1.0
    images = mona.agreement(job="ab").df
    assert m.loc["alice", "bob"] == pytest.approx(images.iou.mean())
    fig = report.figure()
    assert isinstance(fig, go.FigureWidget)
    heat = fig.data[0]
    assert heat.type == "heatmap"
    assert list(heat.x) == list(heat.y) == ["alice", "bob", "carl"]
    np.testing.assert_array_equal(np.array(heat.z, dtype=float), m.to_numpy())


def test_the_annotator_table_ranks_the_sloppy_one_last(url: str) -> None:
    p = as_user(url, "olga")
    truth = [box(10, 10, 40, 40), box(120, 40, 40, 40, label="dog")]
    for f in FILES[:3]:
        p.annotate(f, truth, source="ground_truth")
    good = [box(11, 10, 40, 40), box(120, 41, 40, 40, label="dog")]
    sloppy = [box(18, 10, 40, 40)]  # its cat off by a fifth of its width (IoU 2 / 3), its dog missed
    mona = run_job(url, "team", {"alice": dict.fromkeys(FILES[:3], truth), "bob": dict.fromkeys(FILES[:3], good),
                                 "carl": dict.fromkeys(FILES[:3], sloppy)})  # fmt: skip
    table = mona.agreement(by="annotator").df
    assert table.index[-1] == "carl"  # sorted by vs_others, highest first
    assert table.vs_others.is_monotonic_decreasing
    for column in ("vs_others", "vs_consensus", "vs_ground_truth"):
        assert table[column].idxmin() == "carl"
    assert table.loc["alice", "vs_ground_truth"] == 1.0
    assert table.loc["carl", "gt_recall"] == pytest.approx(0.5)  # its cat matches at IoU >= 0.5, its dog is missed
    assert (table[["images", "n_others", "n_consensus", "n_ground_truth"]] == 3).all().all()
    # vs_consensus is the pass against what job.consensus() merges (shapes; every pass here is completed)
    merged = mona.jobs["team"].consensus(progress=False)
    against = [
        lb.metrics.agreement.pair_agreement(good, [s for s in merged[a.id] if not isinstance(s, lb.Tag)], 100, 200)
        for a in (mona.asset(f) for f in FILES[:3])
    ]
    assert table.loc["bob", "vs_consensus"] == pytest.approx(np.mean(against), abs=1e-12)
    # the dashboard's entry point gives the same frame
    pd.testing.assert_frame_equal(annotator_agreement(mona), table)
    assert isinstance(mona.agreement(by="annotator").figure(), go.FigureWidget)


def test_tag_and_attribute_statistics_equal_lb_metrics(url: str) -> None:
    light = {"alice": ["day", "day", "night", "day"], "bob": ["day", "night", "night", "day"],
             "carl": ["day", "day", "night", "night"]}  # fmt: skip
    occluded = {
        "alice": ["yes", "no", "no", "yes"],
        "bob": ["yes", "no", "yes", "yes"],
        "carl": ["yes", "no", "no", "no"],
    }
    drawings = {
        who: {
            f: [box(10, 10, occluded=occluded[who][i]), lb.Tag(light[who][i], group="light")]
            for i, f in enumerate(FILES)
        }
        for who in light
    }
    drawings["bob"]["im0.png"].append(lb.Tag("sun", group="weather"))  # only bob used "weather", on im0
    mona = run_job(url, "tags", drawings)
    report = mona.agreement()
    summary = report.summary.set_index("item")
    by_hand = pd.DataFrame(
        [(i, who, light[who][i]) for who in light for i in range(len(FILES))], columns=["unit", "rater", "value"]
    )
    row = summary.loc["tag:light"]
    assert row.fleiss_kappa == pytest.approx(lb.metrics.fleiss_kappa(by_hand).coefficient, abs=1e-12)
    assert row.alpha == pytest.approx(lb.metrics.krippendorff_alpha(by_hand).coefficient, abs=1e-12)
    assert row.percent_agreement == pytest.approx(lb.metrics.percent_agreement(by_hand).coefficient, abs=1e-12)
    assert (row.n_units, row.n_raters) == (4, 3)
    attr = pd.DataFrame(
        [(i, who, occluded[who][i]) for who in occluded for i in range(len(FILES))], columns=["unit", "rater", "value"]
    )
    row = summary.loc["attribute:occluded"]
    assert row.fleiss_kappa == pytest.approx(lb.metrics.fleiss_kappa(attr).coefficient, abs=1e-12)
    assert row.alpha == pytest.approx(lb.metrics.krippendorff_alpha(attr).coefficient, abs=1e-12)
    # weather: one unit (im0), bob's "sun" against two "(none)": no agreement there, nothing to correct by
    assert summary.loc["tag:weather", "n_units"] == 1
    assert summary.loc["tag:weather", "percent_agreement"] == pytest.approx(1 / 3)
    per_image = report.df.set_index("file_name")
    assert per_image.loc["im1.png", "tag:light"] == pytest.approx(1 / 3)  # day, night, day: one pair of three
    assert per_image.loc["im0.png", "tag:light"] == 1.0
    assert math.isnan(per_image.loc["im1.png", "tag:weather"])


def test_exam_images_are_never_part_of_it(url: str) -> None:
    olga = as_user(url, "olga")
    olga.annotate("im3.png", [box(10, 10)], source="ground_truth")
    mona = as_user(url, "mona")
    mona.exams.create("pets-101", ["im3.png"], grants=["pets"], pass_mark={"f1": 0.5})
    alice = as_user(url, "alice")
    alice.exams.start("pets-101")
    task = alice.next_task()
    assert task is not None
    task.submit([box(10, 10)])
    # continuous gold: bob's work job mixes in the exam image, scored against its gold
    mona.members.grant("bob", "pets")
    mona.jobs.create("work", ["im0.png"], credentials=["pets"], gold_rate=1.0, gold_exam="pets-101",
                     review_frequency=0).launch()  # fmt: skip
    bob = as_user(url, "bob")
    for _ in range(2):
        t = bob.next_task()
        assert t is not None
        t.submit([box(12, 10)])
    assert mona.jobs["work"].tasks.gold.sum() == 1
    df = mona.agreement().df
    assert list(df.file_name) == ["im0.png"]
    assert list(df.job) == ["work"]
    assert "bob" in annotator_agreement(mona).index
    assert "alice" not in annotator_agreement(mona).index
    exam = mona.exams["pets-101"]
    for ref in ("pets-101", exam, exam.job_id):
        with pytest.raises(lb.LabnbError, match="exam"):
            mona.agreement(job=ref)


def test_an_annotator_is_refused(url: str) -> None:
    run_job(url, "j", {"alice": {"im0.png": PAIR}, "bob": {"im0.png": PAIR}})
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        as_user(url, "alice").agreement()
    with pytest.raises(lb.AccessDenied, match="reviewer"):
        annotator_agreement(as_user(url, "bob"))
    assert len(as_user(url, "rita").agreement(by="pair").df) == 2


def test_below_returns_exactly_the_images_under_the_threshold_and_sends_them_back(url: str) -> None:
    drawings = {"alice": dict.fromkeys(FILES, PAIR), "bob": {"im0.png": PAIR, "im1.png": PAIR[:1], "im2.png": PAIR,
                                                           "im3.png": [box(40, 10)]}}  # fmt: skip
    mona = run_job(url, "rb", drawings)
    report = mona.agreement(job="rb")
    images = report.images.set_index("file_name")
    assert images.loc["im3.png", "iou"] == 0.0  # nothing matched at IoU >= 0.5
    picked = report.below(0.9)
    assert list(picked.df.file_name) == ["im3.png", "im1.png"]  # lowest first
    assert list(picked.df.value) == [images.loc["im3.png", "iou"], images.loc["im1.png", "iou"]]
    assert set(picked.df.columns) >= {"asset", "file_name", "job", "value"}
    assert len(report.below(0.5)) == 1
    assert len(report.below(0.0)) == 0
    assert list(report.below(0.5, on="alpha").df.file_name) == ["im3.png", "im1.png"]
    with pytest.raises(lb.LabnbError, match="choose one of"):
        report.below(0.5, on="nonsense")
    with pytest.raises(lb.AccessDenied, match="manager"):
        as_user(url, "rita").agreement().below(0.9).add_passes()
    added = picked.add_passes()
    assert list(added.file_name) == ["im3.png", "im1.png"]
    assert list(added["pass"]) == [3, 3]
    job = mona.jobs["rb"]
    assert job.state == "launched"
    assert job.tasks.groupby("file_name").size().to_dict() == {"im0.png": 2, "im1.png": 3, "im2.png": 2, "im3.png": 3}
    recheck = picked.to_job("recheck")
    assert recheck.state == "draft"
    assert sorted(recheck.assets) == sorted(picked.assets)
    assert recheck.review_frequency == 1
    with pytest.raises(lb.LabnbError, match="nothing to put"):
        report.below(0.0).to_job("empty")


def test_figures_and_bad_input(url: str) -> None:
    mona = run_job(url, "f", {"alice": dict.fromkeys(FILES[:2], PAIR), "bob": {"im0.png": PAIR, "im1.png": PAIR[:1]}})
    for by in ("image", "label"):
        report = mona.agreement(by=by)
        fig = report.figure()
        assert isinstance(fig, go.FigureWidget)
        assert [t.name for t in fig.data] == ["iou", "alpha"]
        assert list(fig.data[0].y) == report.df.iou.tolist()
        assert "<table" in report._repr_html_()
        assert "Agreement by" in repr(report)
    with pytest.raises(lb.LabnbError, match="not one of"):
        mona.agreement(by="person")  # type: ignore[arg-type]
    with pytest.raises(lb.LabnbError, match="no job"):
        mona.agreement(job="missing")
    with pytest.raises(lb.LabnbError, match="threshold"):
        mona.agreement(threshold=0)
    assert mona.agreement(job=mona.jobs["f"].id).df.equals(mona.agreement(job="f").df)
