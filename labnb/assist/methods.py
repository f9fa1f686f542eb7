"""The model-assist methods of :class:`labnb.Project` (a mixin, like the format methods): batch
pre-annotation, which images to label next, and how two model versions agree."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import pandas as pd
import sqlalchemy as sa

from labnb.assist import store
from labnb.errors import LabnbError
from labnb.metrics.agreement import match_shapes
from labnb.store.rows import read_asset_shapes
from labnb.store.tables import annotation_rows, prediction_runs
from labnb.store.tables import assets as asset_rows

if TYPE_CHECKING:
    from labnb.project import Project

Strategy = Literal["least_confidence", "margin", "entropy"]
STRATEGIES: tuple[Strategy, ...] = ("least_confidence", "margin", "entropy")


class AssistMethods:
    """Mixed into :class:`labnb.Project`."""

    def _assist_project(self) -> Project:
        return cast("Project", self)

    def pre_annotate(
        self,
        model: store.AssistModel,
        assets: Sequence[Any] | None = None,
        *,
        batch_size: int = 8,
        mapping: Mapping[str, str | None] | None = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """Run ``model`` (an :class:`labnb.assist.OnnxDetector`, :class:`~labnb.assist.OnnxModel`, or anything
        with ``name``, ``version``, ``classes``, ``run`` and ``run_batch``) over images, ``batch_size`` at a
        time, with a progress bar, and store what it finds as predictions (``p.predictions.df``).

        Model classes map to project classes by name (case, spaces and well-known spellings aside) or by
        ``mapping`` ({model name: project name, or None to drop}); unmapped ones are dropped with a warning.
        Each batch is stored in one transaction, so an interrupted run resumes where it stopped: images this
        model version has already seen are skipped (also across processes). Unreadable images are skipped
        with a warning and listed. Returns a DataFrame: asset, file_name, predictions, status.
        """
        p = self._assist_project()
        return store.pre_annotate(p, model, assets, batch_size=batch_size, mapping=mapping, progress=progress)

    def next_to_label(
        self,
        model: store.AssistModel,
        strategy: Strategy = "least_confidence",
        k: int = 10,
        *,
        assets: Sequence[Any] | None = None,
        include_labelled: bool = False,
        mapping: Mapping[str, str | None] | None = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """The ``k`` images the model is least sure about, most uncertain first: a DataFrame (rank, asset,
        file_name, uncertainty, least_confidence, margin, entropy, predictions) whose ``asset`` column can
        become a job.

        An image's uncertainty is that of its most uncertain detection, over the model's classes and
        "nothing here" (see :func:`labnb.assist.store.detection_uncertainty`): ``least_confidence`` is 1 -
        the top probability, ``margin`` 1 - (top - second), ``entropy`` the normalised entropy. Images the
        model has not seen yet are predicted first (and stored); images that already carry human or
        ground-truth labels are left out unless ``include_labelled``.
        """
        if strategy not in STRATEGIES:
            raise LabnbError(f"strategy must be one of {list(STRATEGIES)}, got {strategy!r}")
        if k < 1:
            raise LabnbError(f"k must be at least 1, got {k}")
        p = self._assist_project()
        self.pre_annotate(model, assets, mapping=mapping, progress=progress)
        r, s, a = prediction_runs, asset_rows, annotation_rows
        labelled = (
            sa.select(a.c.asset_id)
            .where(a.c.project_id == p.id, a.c.deleted.is_(False), a.c.source.in_(["human", "ground_truth"]))
            .distinct()
        )
        q = (
            sa.select(s.c.id, s.c.file_name, r.c.least_confidence, r.c.margin, r.c.entropy, r.c["count"])
            .join(s, s.c.id == r.c.asset_id)
            .where(r.c.project_id == p.id, r.c.model == model.name, r.c.model_version == model.version)
        )
        if assets is not None:
            q = q.where(r.c.asset_id.in_([p._asset_id(x) for x in assets]))
        if not include_labelled:
            q = q.where(r.c.asset_id.not_in(labelled))
        q = q.order_by(r.c[strategy].desc(), s.c.id).limit(k)
        with p._engine.connect() as conn:
            rows = conn.execute(q).all()
        frame: pd.DataFrame = pd.DataFrame(
            rows, columns=["asset", "file_name", "least_confidence", "margin", "entropy", "predictions"]
        )
        frame.insert(2, "uncertainty", frame[strategy])
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame

    def compare_models(
        self,
        model_a: store.AssistModel,
        model_b: store.AssistModel,
        assets: Sequence[Any] | None = None,
        *,
        min_score: float = 0.3,
        iou_threshold: float = 0.5,
        mapping: Mapping[str, str | None] | None = None,
        progress: bool = True,
    ) -> pd.DataFrame:
        """Per image, how two models (or two versions of one) agree: predictions of each at or above
        ``min_score``, matched one-to-one within a class (:func:`labnb.metrics.agreement.match_shapes`, by the
        rule of :func:`~labnb.metrics.agreement.similarity_matrix`: IoU of boxes, a box against a polygon or
        mask by the region's box, IoU of pixel areas between outlines, OKS of keypoints; Hungarian, pairs at
        or above ``iou_threshold``), so a box detector and a segmenter can be compared.

        A DataFrame: asset, file_name, n_a, n_b, matched, mean_iou (of the matched pairs), agreement
        (2 x matched / (n_a + n_b); 1 when both found nothing). Predictions not stored yet are made first.
        """
        if (model_a.name, model_a.version) == (model_b.name, model_b.version):
            raise LabnbError(f"both models are '{model_a.name}' version {model_a.version}: nothing to compare")
        p = self._assist_project()
        targets = [p.asset(x) for x in assets] if assets is not None else list(p.assets)
        for m in (model_a, model_b):
            self.pre_annotate(m, targets, mapping=mapping, progress=progress)
        classes = p._classes_by_id()
        out = []
        with p._engine.connect() as conn:
            for asset in targets:
                found = [
                    [
                        sh
                        for sh in read_asset_shapes(conn, asset.id, classes, ("prediction",), (m.name, m.version))
                        if (sh.score if sh.score is not None else 1.0) >= min_score
                    ]
                    for m in (model_a, model_b)
                ]
                pairs = match_shapes(found[0], found[1], asset.height, asset.width, threshold=iou_threshold)
                n_a, n_b = len(found[0]), len(found[1])
                out.append(
                    {
                        "asset": asset.id,
                        "file_name": asset.file_name,
                        "n_a": n_a,
                        "n_b": n_b,
                        "matched": len(pairs),
                        "mean_iou": float(np.mean([p.similarity for p in pairs])) if pairs else np.nan,
                        "agreement": 2 * len(pairs) / (n_a + n_b) if n_a + n_b else 1.0,
                    }
                )
        frame: pd.DataFrame = pd.DataFrame(
            out, columns=["asset", "file_name", "n_a", "n_b", "matched", "mean_iou", "agreement"]
        )
        return frame
