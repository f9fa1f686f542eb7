"""``p.agreement(...)``: read the drawn passes once, compare them image by image, and shape the tables a
project lead reads (by image, by label, annotator x annotator, per annotator) into an
:class:`labnb.agreement.report.AgreementReport`.

The passes and their shapes come in two queries (:mod:`labnb.agreement.passes`), the ground truth in one
more for ``by="annotator"``; the comparison is per image in Python (:mod:`labnb.agreement.shapes`,
:mod:`labnb.agreement.tags`), with a progress bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from labnb.agreement.passes import ImagePasses, read_ground_truth, read_passes
from labnb.agreement.people import annotator_table, pair_matrix
from labnb.agreement.report import AgreementReport
from labnb.agreement.shapes import AlphaTerms, ImageShapes, image_shapes, sum_terms
from labnb.agreement.tags import (
    NO_TAG,
    RATING_COLUMNS,
    attribute_value,
    pair_share,
    statistics,
    tag_ratings,
    tag_values,
)
from labnb.errors import LabnbError

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job

By = Literal["image", "label", "pair", "annotator"]
BY: tuple[str, ...] = ("image", "label", "pair", "annotator")
#: Columns of the per-image table (then one ``tag:<group>`` column per tag group used).
IMAGE_COLUMNS = [
    "job",
    "job_id",
    "asset",
    "file_name",
    "passes",
    "annotators",
    "objects",
    "found_by_all",
    "iou",
    "alpha",
]
LABEL_COLUMNS = ["job", "job_id", "label", "images", "objects", "found_by_all", "iou", "alpha"]
SUMMARY_COLUMNS = ["job", "job_id", "item", "iou", "alpha", "fleiss_kappa", "percent_agreement", "n_units", "n_raters"]

Result = tuple[ImagePasses, ImageShapes]


def job_ids(project: Project, job: Job | int | str | None) -> list[int] | None:
    """The work job ``job`` names (None: every work job of the project), refusing an exam by name."""
    from labnb.exams import Exam  # noqa: PLC0415 - exams sit above the workflow this module starts from

    if job is None:
        return None
    refusal = "exam images are never part of the agreement report (read them with p.exams[...].results())"
    if isinstance(job, Exam):
        raise LabnbError(f"'{job.name}' is an exam; {refusal}")
    if isinstance(job, np.integer):
        job = int(job)
    try:
        found = project.jobs[job]
    except LabnbError:
        if isinstance(job, str) and job in {e.name for e in project.exams}:
            raise LabnbError(f"'{job}' is an exam, not a work job; {refusal}") from None
        raise
    if found.kind != "work":
        raise LabnbError(f"job '{found.name}' holds an exam's attempts; {refusal}")
    return [found.id]


def _share(values: Sequence[bool]) -> float:
    return float(np.mean(values)) if len(values) else math.nan


def _image_rows(results: Sequence[Result], groups: list[str | None]) -> pd.DataFrame:
    rows = []
    for img, shapes in results:
        answers = [tag_values(p.tags) for p in img.passes]
        row: dict[str, Any] = {
            "job": img.job,
            "job_id": img.job_id,
            "asset": img.asset_id,
            "file_name": img.file_name,
            "passes": len(img.passes),
            "annotators": ", ".join(p.user for p in img.passes),
            "objects": len(shapes.units),
            "found_by_all": _share([u.found_by_all for u in shapes.units]) if len(img.passes) >= 2 else math.nan,
            "iou": shapes.iou,
            "alpha": shapes.alpha,
        }
        for g in groups:
            used = any(g in a for a in answers)
            row[f"tag:{g}"] = pair_share([a.get(g, NO_TAG) for a in answers]) if used else math.nan
        rows.append(row)
    table: pd.DataFrame = pd.DataFrame(rows, columns=IMAGE_COLUMNS + [f"tag:{g}" for g in groups])
    return table


def _label_rows(results: Sequence[Result]) -> pd.DataFrame:
    acc: dict[tuple[int, str, str | None], dict[str, Any]] = {}
    for img, shapes in results:
        if len(img.passes) < 2:
            continue
        for label, value in shapes.iou_by_label.items():
            a = acc.setdefault((img.job_id, img.job, label), {"iou": [], "terms": [], "found": []})
            a["iou"].append(value)
            a["terms"].append(shapes.terms_by_label.get(label, AlphaTerms()))
            a["found"].extend(u.found_by_all for u in shapes.units if u.label == label)
    rows = [
        (
            job,
            job_id,
            label,
            len(a["iou"]),
            len(a["found"]),
            _share(a["found"]),
            float(np.mean(a["iou"])),
            sum_terms(a["terms"]).alpha,
        )
        for (job_id, job, label), a in sorted(acc.items(), key=lambda kv: (kv[0][0], str(kv[0][2])))
    ]
    table: pd.DataFrame = pd.DataFrame(rows, columns=LABEL_COLUMNS)
    return table


def _ratings(results: Sequence[Result]) -> pd.DataFrame:
    """Long ratings of every tag group and attribute (:data:`labnb.agreement.tags.RATING_COLUMNS`)."""
    rows: list[tuple[Any, ...]] = []
    for img, shapes in results:
        rows += tag_ratings(img.job_id, img.asset_id, [(p.user, p.tags) for p in img.passes])
        if len(img.passes) < 2:
            continue
        for k, unit in enumerate(shapes.units):
            for pos, member in enumerate(unit.members):
                if member is None:
                    continue
                for name, value in shapes.shapes[member].attributes.items():
                    if value is None or value == "":
                        continue
                    unit_key = f"{img.job_id}/{img.asset_id}/{k}"
                    rows.append(
                        (
                            img.job_id,
                            img.asset_id,
                            f"attribute:{name}",
                            unit_key,
                            img.passes[pos].user,
                            attribute_value(value),
                        )
                    )
    table: pd.DataFrame = pd.DataFrame(rows, columns=RATING_COLUMNS)
    return table


def _summary(project: Project, results: Sequence[Result], ratings: pd.DataFrame) -> pd.DataFrame:
    numeric = {f"attribute:{a.name}" for a in project.schema.attributes if a.type == "number"}
    rows = []
    names = {img.job_id: img.job for img, _ in results}
    for job_id, job in names.items():
        compared = [(img, s) for img, s in results if img.job_id == job_id and len(img.passes) >= 2]
        terms = sum_terms([s.terms for _, s in compared])
        raters = {p.user for img, _ in compared for p in img.passes}
        ious = [s.iou for _, s in compared]
        rows.append(
            (
                job,
                job_id,
                "shapes",
                float(np.mean(ious)) if ious else math.nan,
                terms.alpha,
                math.nan,
                math.nan,
                float(terms.units),
                float(len(raters)),
            )
        )
        of_job = ratings[ratings.job_id == job_id]
        for item, frame in of_job.groupby("item", sort=True):
            st = statistics(frame, numeric=item in numeric)
            rows.append(
                (
                    job,
                    job_id,
                    item,
                    math.nan,
                    st["alpha"],
                    st["fleiss_kappa"],
                    st["percent_agreement"],
                    st["n_units"],
                    st["n_raters"],
                )
            )
    frame = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    typed: pd.DataFrame = frame.astype({"n_units": "int64", "n_raters": "int64"})
    return typed


def compare(
    project: Project, images: Sequence[ImagePasses], *, threshold: float = 0.5, progress: bool = True
) -> list[Result]:
    """Each image's passes compared (:func:`labnb.agreement.shapes.image_shapes`)."""
    return [
        (img, image_shapes([p.objects for p in img.passes], img.height, img.width, threshold=threshold))
        for img in tqdm(images, desc="agreement", unit="img", disable=not progress or len(images) < 50)
    ]


def agreement(
    project: Project,
    job: Job | int | str | None = None,
    by: By = "image",
    *,
    threshold: float = 0.5,
    progress: bool = True,
) -> AgreementReport:
    """The agreement report (see :meth:`labnb.workflow.methods.WorkflowMethods.agreement`)."""
    project.members.require("reviewer", "read the agreement report")
    if by not in BY:
        raise LabnbError(f"agreement by={by!r} is not one of {list(BY)}")
    if not 0 < threshold <= 1:
        raise LabnbError(f"agreement threshold={threshold!r}: the IoU/OKS a match needs, in (0, 1]")
    images = read_passes(project, job_ids(project, job))
    results = compare(project, images, threshold=threshold, progress=progress)
    ratings = _ratings(results)
    groups = list(dict.fromkeys(g for img, _ in results for p in img.passes for g in tag_values(p.tags)))
    per_image = _image_rows(results, groups)
    summary = _summary(project, results, ratings)
    counts: pd.DataFrame | None = None
    if by == "image":
        frame = per_image
    elif by == "label":
        frame = _label_rows(results)
    elif by == "pair":
        frame, counts = pair_matrix(results)
    else:
        truth = read_ground_truth(project, [img.asset_id for img in images])
        frame = annotator_table(results, truth, threshold=threshold)
    return AgreementReport(project, by, frame, per_image, summary, ratings, counts)


def annotator_agreement(
    project: Project, job: Job | int | str | None = None, *, since: datetime | None = None, threshold: float = 0.5
) -> pd.DataFrame:
    """Per annotator (indexed by user): images drawn, ``vs_others`` (mean pairwise agreement with the other
    passes of the same images), ``vs_consensus``, ``vs_ground_truth`` (F1 against ground truth where the
    image has some) and their counts (:mod:`labnb.agreement.people`). Reviewers and above; what the
    performance dashboard shows per person, over the images with a pass that changed state ``since`` its
    range began (the whole table of ``p.agreement(by="annotator")`` without ``since``)."""
    project.members.require("reviewer", "read the agreement report")
    images = read_passes(project, job_ids(project, job), since)
    results = compare(project, images, threshold=threshold, progress=False)
    truth = read_ground_truth(project, [img.asset_id for img in images])
    return annotator_table(results, truth, threshold=threshold)
