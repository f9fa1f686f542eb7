"""Read-only pandas views of a project's tables: ``p.assets``, ``p.annotations``, ``p.events``, ...

Each view reads with one SQL query into a DataFrame (``.df``) and offers the lookups users need most.
Predictions are model output and are kept out of ``p.annotations`` (human and ground-truth work).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timezone
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from labnb.annotations.visibility import visible
from labnb.assets import Asset
from labnb.errors import LabnbError
from labnb.geometry import Shape
from labnb.performance.ranges import window
from labnb.store.tables import annotation_rows, assets, events, label_classes

if TYPE_CHECKING:
    from labnb.project import Project

ASSET_COLUMNS = [
    "asset_id",
    "file_name",
    "width",
    "height",
    "uri",
    "sha256",
    "sequence",
    "frame_index",
    "added_at",
]
#: Facts imports keep in an asset's ``meta`` that users sort and split by, shown as ``p.assets.df`` columns:
#: the dataset split (YOLO's folder, CVAT's subset; usable as an export's ``split="split"``) and the CVAT
#: task an image came from in a CVAT project export.
META_COLUMNS = ["split", "cvat_task"]
ANNOTATION_COLUMNS = [
    "annotation_id",
    "asset_id",
    "file_name",
    "label",
    "kind",
    "group",
    "value",
    "x",
    "y",
    "w",
    "h",
    "area",
    "iscrowd",
    "track_id",
    "attributes",
    "source",
    "model",
    "model_version",
    "score",
    "prediction_id",
    "task_id",
    "revision",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
]


def _utc(df: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Make time columns UTC-aware: SQLite hands back naive UTC, PostgreSQL aware, so frames agree."""
    for c in columns:
        df[c] = pd.to_datetime(df[c], utc=True)
    return df


class AssetsView:
    """``p.assets``: the images. ``len(p.assets)``, iteration, ``p.assets[asset_id]``, ``.df``."""

    def __init__(self, project: Project) -> None:
        self._p = project

    def _select(self) -> sa.Select[Any]:
        return sa.select(assets).where(assets.c.project_id == self._p.id).order_by(assets.c.id)

    def _asset(self, row: Any) -> Asset:
        return Asset(
            id=row.id,
            file_name=row.file_name,
            uri=row.uri,
            width=row.width,
            height=row.height,
            sha256=row.sha256,
            sequence=row.sequence,
            frame_index=row.frame_index,
            meta=orjson.loads(row.meta) if row.meta else {},
            _read=self._p._read_uri,
        )

    def __len__(self) -> int:
        with self._p._engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(assets.c.project_id == self._p.id)).scalar_one())

    def __iter__(self) -> Iterator[Asset]:
        with self._p._engine.connect() as conn:
            rows = conn.execute(self._select()).all()
        return iter([self._asset(r) for r in rows])

    def __getitem__(self, key: int | str | np.integer[Any]) -> Asset:
        """An asset by id (numpy integers too: ids often come out of a DataFrame), or by file name."""
        if not isinstance(key, str):
            key = int(key)
        cond = assets.c.id == key if isinstance(key, int) else assets.c.file_name == key
        with self._p._engine.connect() as conn:
            rows = conn.execute(self._select().where(cond)).all()
        if not rows:
            raise LabnbError(f"project '{self._p.name}' has no image {key!r}")
        if len(rows) > 1:  # the same file name in two folders: picking one would label the wrong image
            ids = [r.id for r in rows]
            raise LabnbError(f"{key!r} is the file name of images {ids} of project '{self._p.name}'; use an id")
        return self._asset(rows[0])

    @property
    def df(self) -> pd.DataFrame:
        with self._p._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    assets.c.id,
                    assets.c.file_name,
                    assets.c.width,
                    assets.c.height,
                    assets.c.uri,
                    assets.c.sha256,
                    assets.c.sequence,
                    assets.c.frame_index,
                    assets.c.added_at,
                    assets.c.meta,
                )
                .where(assets.c.project_id == self._p.id)
                .order_by(assets.c.id)
            ).all()
        df = pd.DataFrame([r[:-1] for r in rows], columns=ASSET_COLUMNS)
        metas = [orjson.loads(r.meta) if r.meta else {} for r in rows]
        for key in META_COLUMNS:
            df[key] = pd.Series([m.get(key) for m in metas], dtype=object)
        return _utc(df, "added_at")

    def __repr__(self) -> str:
        return f"<{len(self)} assets of '{self._p.name}'>"


class AnnotationsView:
    """``p.annotations``: live human and ground-truth annotations (predictions are in ``p.predictions``)."""

    sources: tuple[str, ...] = ("human", "ground_truth")

    def __init__(self, project: Project) -> None:
        self._p = project

    def for_asset(self, asset: int | str | Asset) -> list[Shape]:
        """Shapes of one image, as ``lb.Box``/``lb.Polygon``/... with their annotation ids."""
        return self._p._shapes_of(asset, self.sources)

    def _query(self) -> sa.Select[Any]:
        a, c, s = annotation_rows, label_classes, assets
        return (
            sa.select(
                a.c.id,
                a.c.asset_id,
                s.c.file_name,
                c.c.name,
                a.c.kind,
                # a tag's group and value are its geometry; other kinds' (possibly large) geometry stays out
                sa.case((a.c.kind == "tag", a.c.data), else_=None),
                a.c.x,
                a.c.y,
                a.c.w,
                a.c.h,
                a.c.area,
                a.c.iscrowd,
                a.c.track_id,
                a.c.attributes,
                a.c.source,
                a.c.model,
                a.c.model_version,
                a.c.score,
                a.c.prediction_id,
                a.c.task_id,
                a.c.revision,
                a.c.created_by,
                a.c.created_at,
                a.c.updated_by,
                a.c.updated_at,
            )
            .join(s, s.c.id == a.c.asset_id)
            .outerjoin(c, c.c.id == a.c.label_id)
            .where(a.c.project_id == self._p.id, a.c.deleted.is_(False), a.c.source.in_(self.sources))
            .where(visible(self._p))
            .order_by(a.c.id)
        )

    @property
    def df(self) -> pd.DataFrame:
        """One row per live annotation. Tags have their ``group`` and ``value`` (and no label or box); an
        accepted model suggestion keeps the ``model``, ``model_version`` and ``score`` of the prediction
        ``prediction_id`` it came from; ``task_id`` is the job pass it was drawn in. Each attribute of the
        schema is also a column of its own (named as the attribute, or ``attribute_<name>`` where that name
        is taken), empty where an object does not set it; ``attributes`` keeps them all as a dict."""
        with self._p._engine.connect() as conn:
            rows = conn.execute(self._query()).all()
        head = ANNOTATION_COLUMNS[:5]
        body = ANNOTATION_COLUMNS[7:]
        df: pd.DataFrame = pd.DataFrame(rows, columns=[*head, "_tag", *body])
        tags = [orjson.loads(v) if isinstance(v, str) else {} for v in df.pop("_tag")]
        df.insert(5, "group", [t.get("group") for t in tags])
        df.insert(6, "value", [t.get("value") for t in tags])
        df["attributes"] = [orjson.loads(v) if isinstance(v, str) else {} for v in df["attributes"]]
        df["iscrowd"] = df["iscrowd"].astype(bool)
        df.loc[df["kind"] == "tag", ["x", "y", "w", "h", "area"]] = float("nan")  # an image tag has no box
        for col in ("prediction_id", "task_id"):
            df[col] = df[col].astype("Int64")
        for attr in self._p.schema.attributes:
            name = attr.name if attr.name not in df.columns else f"attribute_{attr.name}"
            df[name] = [a.get(attr.name) for a in df["attributes"]]
        return _utc(df, "created_at", "updated_at")

    def __len__(self) -> int:
        a = annotation_rows
        with self._p._engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).where(
                        a.c.project_id == self._p.id,
                        a.c.deleted.is_(False),
                        a.c.source.in_(self.sources),
                        visible(self._p),
                    )
                ).scalar_one()
            )

    def __repr__(self) -> str:
        return f"<{len(self)} {'/'.join(self.sources)} annotations of '{self._p.name}'>"


class PredictionsView(AnnotationsView):
    """``p.predictions``: model output, kept apart from human work until a person commits it."""

    sources = ("prediction",)

    @property
    def df(self) -> pd.DataFrame:
        a, c, s = annotation_rows, label_classes, assets
        with self._p._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    a.c.id,
                    a.c.asset_id,
                    s.c.file_name,
                    c.c.name,
                    a.c.score,
                    a.c.kind,
                    a.c.x,
                    a.c.y,
                    a.c.w,
                    a.c.h,
                    a.c.model,
                    a.c.model_version,
                )
                .join(s, s.c.id == a.c.asset_id)
                .outerjoin(c, c.c.id == a.c.label_id)
                .where(a.c.project_id == self._p.id, a.c.deleted.is_(False), a.c.source == "prediction")
                .order_by(a.c.id)
            ).all()
        frame: pd.DataFrame = pd.DataFrame(
            rows,
            columns=[
                "prediction_id",
                "asset",
                "file_name",
                "label",
                "score",
                "kind",
                "x",
                "y",
                "w",
                "h",
                "model",
                "version",
            ],
        )
        return frame


class EventsView:
    """``p.events``: every change, who made it, when, and how long it took.

    ``p.events(range="7d", user="ann", kind="review.*")`` is the same view filtered: ``range`` as the
    dashboard takes it (a preset ending today or ``(first, last)`` local days in ``tz``), ``user`` one
    person or several, ``kind`` exact kinds or prefixes ending in ``.*``."""

    def __init__(self, project: Project, where: tuple[Any, ...] = ()) -> None:
        self._p = project
        self._where = where

    def __call__(
        self,
        range: Any = None,  # the dashboard's name for it
        user: str | Sequence[str] | None = None,
        kind: str | Sequence[str] | None = None,
        tz: str | None = None,
    ) -> EventsView:
        e = events
        where = list(self._where)
        if range is not None:
            win = window(range, tz)
            where += [e.c.time >= win.start.astimezone(timezone.utc), e.c.time < win.end.astimezone(timezone.utc)]
        if user is not None:
            where.append(e.c.user.in_([user] if isinstance(user, str) else list(user)))
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            where.append(sa.or_(*(e.c.kind.startswith(k[:-1]) if k.endswith(".*") else e.c.kind == k for k in kinds)))
        return EventsView(self._p, tuple(where))

    @property
    def df(self) -> pd.DataFrame:
        """One row per event, oldest first: event_id, time (UTC), user, kind, asset_id, task_id, annotation_id,
        duration (active seconds), payload (a dict), work (label, review, rework, exam or None: see
        :mod:`labnb.event_log`), created (annotation rows created), job_id."""
        e = events
        columns = ["id", "time", "user", "kind", "asset_id", "task_id", "annotation_id", "duration", "payload",
                   "work", "created", "job_id"]  # fmt: skip
        with self._p._engine.connect() as conn:
            rows = conn.execute(
                sa.select(*(e.c[c] for c in columns)).where(e.c.project_id == self._p.id, *self._where).order_by(e.c.id)
            ).all()
        df: pd.DataFrame = pd.DataFrame(rows, columns=["event_id", *columns[1:]])
        df["payload"] = [orjson.loads(v) if isinstance(v, str) else {} for v in df["payload"]]
        df["created"] = df["created"].astype("Int64")
        df["job_id"] = df["job_id"].astype("Int64")
        return _utc(df, "time")

    def __len__(self) -> int:
        with self._p._engine.connect() as conn:
            q = sa.select(sa.func.count()).where(events.c.project_id == self._p.id, *self._where)
            return int(conn.execute(q).scalar_one())
