"""Model predictions in the project's store: batch pre-annotation, the per-image cache the annotator reads,
and the uncertainty that ranks which image to label next.

A prediction is an annotation row with source ``prediction`` and the model's name, version and score, so
everything that reads shapes reads predictions too, and committing one copies a row. ``prediction_runs``
records that a model version ran on an image even when it found nothing there: that is what makes batch
pre-annotation resumable and the annotator's suggestions cached per image and model version.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import sqlalchemy as sa
from tqdm.auto import tqdm

from labnb.annotations.writer import writing
from labnb.assist.classes import map_classes, warn_unmapped
from labnb.clock import now
from labnb.errors import GeometryError, LabnbError, SchemaError
from labnb.geometry import Keypoints, Shape, Tag, check_inside
from labnb.store.rows import read_asset_shapes, shape_row
from labnb.store.tables import prediction_runs

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.assist.model import Predictions
    from labnb.project import Project


class AssistModel(Protocol):
    """What labnb needs of a model: ``OnnxDetector`` and ``OnnxModel`` are two; any object with these
    members works (a model served elsewhere, say)."""

    name: str
    version: str
    classes: list[str]

    def run(self, image: Any) -> Predictions: ...

    def run_batch(self, images: Sequence[Any]) -> list[Predictions]: ...


# -- uncertainty ---------------------------------------------------------------------------------------
def detection_uncertainty(score: float, probs: np.ndarray | None) -> tuple[float, float, float]:
    """Least confidence, margin uncertainty (1 - top1 + top2) and normalised entropy of one detection.

    The outcomes are the model's classes and "nothing here": with per-class probabilities ``p`` (YOLOX:
    objectness x class probability) the distribution is ``p`` and ``1 - score``, normalised; with a score
    only, it is ``score`` and ``1 - score``. A detection at 0.05 is a confident "nothing" (uncertainty near
    0), one at 0.5, or torn between two classes, is what a person should look at.
    """
    s = min(max(float(score), 0.0), 1.0)
    if probs is not None and len(probs) > 0:
        q = np.append(np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0), 1.0 - s)
    else:
        q = np.array([s, 1.0 - s])
    total = q.sum()
    q = q / total if total > 0 else np.full(len(q), 1.0 / len(q))
    top = np.sort(q)[::-1]
    least_confidence = 1.0 - float(top[0])
    margin = 1.0 - float(top[0] - top[1])
    nz = q[q > 0]
    entropy = float(-(nz * np.log(nz)).sum() / math.log(len(q)))
    return least_confidence, margin, entropy


def image_uncertainty(shapes: Sequence[Shape], probs: Sequence[np.ndarray | None]) -> tuple[float, float, float]:
    """The image's uncertainty by each measure: that of its most uncertain detection (0 with none: the
    model is sure there is nothing)."""
    worst = [0.0, 0.0, 0.0]
    for shape, p in zip(shapes, probs, strict=True):
        for i, u in enumerate(detection_uncertainty(shape.score if shape.score is not None else 1.0, p)):
            worst[i] = max(worst[i], u)
    return worst[0], worst[1], worst[2]


# -- class mapping -------------------------------------------------------------------------------------
@dataclass
class ClassMap:
    """Model class names to project class names; unmapped ones are dropped, with one warning per name."""

    project_classes: list[str]
    mapping: Mapping[str, str | None] | None = None
    known: dict[str, str | None] = field(default_factory=dict)
    model_name: str = "the model"
    model_version: str = ""
    #: what "once" is counted in (the project): see :func:`labnb.assist.classes.warn_unmapped`
    scope: Hashable = None

    def add(self, names: Sequence[str]) -> None:
        new = [n for n in dict.fromkeys(names) if n not in self.known]
        if not new:
            return
        mapped, unmapped = map_classes(new, self.project_classes, self.mapping)
        for n in new:
            self.known[n] = mapped.get(n)
        warn_unmapped(self.model_name, self.model_version, unmapped, self.scope)

    def __call__(self, name: str | None) -> str | None:
        if name is None:
            return None
        if name not in self.known:
            self.add([name])
        return self.known[name]


def class_map(project: Project, model: AssistModel, mapping: Mapping[str, str | None] | None) -> ClassMap:
    names = project.schema.names
    if mapping:
        bad = {v for v in mapping.values() if v is not None and v not in names}
        if bad:
            raise SchemaError(f"mapping targets {sorted(bad)} are not classes of the project; it has {names}")
    scope = (str(project._engine.url), project.id)
    cmap = ClassMap(list(names), mapping, model_name=str(model.name), model_version=str(model.version), scope=scope)
    if model.classes:
        cmap.add(model.classes)
    return cmap


# -- writing -------------------------------------------------------------------------------------------
def _kept(
    project: Project, asset: Asset, preds: Predictions, cmap: ClassMap
) -> tuple[list[Shape], list[np.ndarray | None]]:
    """The predictions that fit the project: mapped class, inside the image, keypoint names of the class."""
    shapes: list[Shape] = []
    probs: list[np.ndarray | None] = []
    for shape, p in zip(preds.shapes, preds.probs, strict=True):
        if isinstance(shape, Tag):
            continue
        label = cmap(shape.label)
        if label is None:
            continue
        shape.label = label
        try:
            check_inside(shape, asset.width, asset.height)
            if isinstance(shape, Keypoints):
                missing = set(shape.points) - set(project.schema.get(label).keypoints)
                if missing:
                    raise GeometryError(f"keypoints {sorted(missing)} are not points of '{label}'")
        except GeometryError as exc:
            warnings.warn(f"asset {asset.id} ({asset.file_name}): a prediction is dropped: {exc}", stacklevel=4)
            continue
        shapes.append(shape)
        probs.append(p)
    return shapes, probs


def _write(
    project: Project, model: AssistModel, results: Sequence[tuple[Asset, Predictions]], cmap: ClassMap
) -> dict[int, int]:
    """Store one batch of predictions and their run rows in one transaction with one event. Images another
    process finished meanwhile are left as they are. Returns {asset id: predictions stored}."""
    stamp = now()
    classes = {c.name: c for c in project.schema.classes}
    prepared = []
    for asset, preds in results:
        shapes, probs = _kept(project, asset, preds, cmap)
        prepared.append((asset, shapes, image_uncertainty(shapes, probs)))
    counts: dict[int, int] = {}
    with writing(project) as w:
        conn = w.conn
        done = _done(conn, project.id, model, [a.id for a, _, _ in prepared])
        rows = []
        runs: list[dict[str, Any]] = []
        for asset, shapes, (lc, margin, entropy) in prepared:
            if asset.id in done:
                continue
            for s in shapes:
                rows.append(
                    shape_row(
                        s, project_id=project.id, asset_id=asset.id, cls=classes.get(s.label or ""),
                        user=project.user, now=stamp, source="prediction", model=model.name,
                        model_version=model.version,
                    )
                )  # fmt: skip
            runs.append(
                {
                    "project_id": project.id, "asset_id": asset.id, "model": model.name,
                    "model_version": model.version, "count": len(shapes), "least_confidence": lc,
                    "margin": margin, "entropy": entropy, "created_at": stamp, "created_by": project.user,
                }
            )  # fmt: skip
            counts[asset.id] = len(shapes)
        if not runs:
            return counts
        conn.execute(prediction_runs.insert(), runs)
        w.bulk_create(
            rows,
            kind="assist.predict",
            payload={"model": model.name, "version": model.version, "images": len(runs), "predictions": len(rows)},
            asset_ids=counts,
            sources=["prediction"],
            stamp=stamp,
        )
    return counts


def _done(conn: sa.Connection, project_id: int, model: AssistModel, asset_ids: Sequence[int] | None = None) -> set[int]:
    r = prediction_runs
    q = sa.select(r.c.asset_id).where(
        r.c.project_id == project_id, r.c.model == model.name, r.c.model_version == model.version
    )
    if asset_ids is not None:
        q = q.where(r.c.asset_id.in_(list(asset_ids)))
    return set(conn.execute(q).scalars())


def _batches(items: Sequence[Asset], size: int) -> Iterator[Sequence[Asset]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def pre_annotate(
    project: Project,
    model: AssistModel,
    assets: Sequence[Any] | None = None,
    *,
    batch_size: int = 8,
    mapping: Mapping[str, str | None] | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run ``model`` over images and store what it finds as predictions; see :meth:`Project.pre_annotate`."""
    project.members.require("annotator", "pre-annotate")
    if batch_size < 1:
        raise LabnbError(f"batch_size must be at least 1, got {batch_size}")
    targets = [project.asset(a) for a in assets] if assets is not None else list(project.assets)
    cmap = class_map(project, model, mapping)
    with project._engine.connect() as conn:
        done = _done(conn, project.id, model)
    todo = [a for a in targets if a.id not in done]
    status: dict[int, tuple[str, int | None]] = {a.id: ("stored before", None) for a in targets if a.id in done}
    bar = tqdm(
        total=len(targets),
        initial=len(targets) - len(todo),
        desc=f"{model.name} {model.version}",
        disable=not progress,
        unit="img",
    )
    try:
        for chunk in _batches(todo, batch_size):
            images: list[np.ndarray] = []
            readable: list[Asset] = []
            for asset in chunk:
                try:
                    images.append(_rgb(asset))
                    readable.append(asset)
                except LabnbError as exc:
                    status[asset.id] = (f"not predicted: {exc}", None)
            if readable:
                preds = model.run_batch(images)
                if len(preds) != len(readable):
                    raise LabnbError(f"model '{model.name}' returned {len(preds)} results for {len(readable)} images")
                for asset_id, n in _write(project, model, list(zip(readable, preds, strict=True)), cmap).items():
                    status[asset_id] = ("predicted", n)
                for asset in readable:
                    status.setdefault(asset.id, ("stored by another process", None))
            bar.update(len(chunk))
    finally:
        bar.close()
    failed = [f"asset {a}: {s}" for a, (s, _) in status.items() if s.startswith("not predicted")]
    if failed:
        warnings.warn(
            f"{len(failed)} image(s) could not be read and were skipped: " + "; ".join(failed[:5]), stacklevel=3
        )
    with project._engine.connect() as conn:
        stored = dict(
            conn.execute(
                sa.select(prediction_runs.c.asset_id, prediction_runs.c.count).where(
                    prediction_runs.c.project_id == project.id,
                    prediction_runs.c.model == model.name,
                    prediction_runs.c.model_version == model.version,
                )
            ).all()
        )
    frame: pd.DataFrame = pd.DataFrame(
        {
            "asset": [a.id for a in targets],
            "file_name": [a.file_name for a in targets],
            "predictions": pd.array([stored.get(a.id) for a in targets], dtype="Int64"),
            "status": [status.get(a.id, ("predicted", None))[0] for a in targets],
        }
    )
    return frame


def _rgb(asset: Asset) -> np.ndarray:
    from labnb.assist.image import to_rgb  # noqa: PLC0415 - the model half loads onnxruntime lazily

    return to_rgb(asset.read_bytes(), f"asset {asset.id} ({asset.file_name})")


def suggestions(
    project: Project, asset: Asset, model: AssistModel, mapping: Mapping[str, str | None] | None = None
) -> list[Shape]:
    """The predictions of ``model`` for one image, each with its stored id and score: read from the store
    when this model version has seen the image, else predicted now and stored (the annotator's cache)."""
    with project._engine.connect() as conn:
        seen = asset.id in _done(conn, project.id, model, [asset.id])
    if not seen:
        preds = model.run(_rgb(asset))
        _write(project, model, [(asset, preds)], class_map(project, model, mapping))
    with project._engine.connect() as conn:
        return read_asset_shapes(
            conn, asset.id, project._classes_by_id(), sources=("prediction",), model=(model.name, model.version)
        )
