"""The one place annotation rows are written.

Every writer of annotations (``p.annotate`` and its update/delete/restore, the annotator's edits, a
committed model suggestion, ``p.mark_ground_truth``, a task's hand-in or a reviewer's fix, ``job.merge``,
imports and batch predictions) goes through :class:`Writes`, which

- checks the shape against the image and the schema, and the user's role against the source written
  (human work: annotators; ground truth and consensus: reviewers and above; predictions: whoever runs the
  model);
- keeps the replaced state of every changed row in ``annotation_revisions`` (so ``p.history`` can show it);
- writes the event row in the same transaction;
- tells the Project's open widgets which images changed, after the transaction has committed (a widget
  reloading earlier would read the old rows from its own connection).

Open one with :func:`writing`, which owns the transaction; other statements of the same change (a task's
state, the import's images) use ``w.conn``, so they commit or roll back together with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from labnb.annotations.passes import check_pass_write
from labnb.annotations.visibility import visible
from labnb.clock import now
from labnb.errors import GeometryError, LabnbError, SchemaError
from labnb.event_log import record_event
from labnb.geometry import SHAPE_CLASSES, Keypoints, Shape, Tag, check_inside
from labnb.store import database as db
from labnb.store.rows import ROW_COLUMNS, SOURCES, geometry_data, shape_row
from labnb.store.tables import annotation_revisions, annotation_rows

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.project import Project
    from labnb.schema import LabelClass

#: The least role that may write each source.
SOURCE_ROLES = {"human": "annotator", "ground_truth": "reviewer", "consensus": "reviewer", "prediction": "annotator"}


@contextmanager
def writing(project: Project) -> Iterator[Writes]:
    """A write transaction for annotation rows; open widgets hear of the changed images once it commits."""
    with db.transaction(project._engine) as conn:
        w = Writes(project, conn)
        yield w
    w.notify()


class Writes:
    """Annotation writes of one transaction, by the project's current user. Use :func:`writing`."""

    def __init__(self, project: Project, conn: sa.Connection) -> None:
        self.project = project
        self.conn = conn
        #: Images whose annotations this transaction changed, told to open widgets after the commit.
        self.touched: set[int] = set()

    def notify(self) -> None:
        for asset_id in sorted(self.touched):
            self.project._changed(asset_id)
        self.touched.clear()

    # -- checks ----------------------------------------------------------------------------------------
    def require(self, source: str) -> None:
        """The current user's role allows writing ``source`` annotations (else :class:`AccessDenied`)."""
        if source not in SOURCE_ROLES:
            raise LabnbError(f"unknown annotation source {source!r}; one of {list(SOURCES)}")
        what = "annotate" if source == "human" else f"write {source.replace('_', ' ')} annotations"
        self.project.members.require(SOURCE_ROLES[source], what)

    def row(self, shape: Shape, asset: Asset, source: str, stamp: datetime) -> dict[str, Any]:
        """The checked row of ``shape`` on ``asset``: inside the image, a known label (or tag), valid
        attributes and keypoint names. Raises an error naming the shape."""
        p = self.project
        if not isinstance(shape, SHAPE_CLASSES):
            raise GeometryError(f"expected lb.Box, lb.Polygon, lb.Keypoints, lb.Mask or lb.Tag, got {shape!r}")
        cls = self._shape_class(shape)
        check_inside(shape, asset.width, asset.height)
        if shape.attributes:
            p.schema.check_attributes(shape.label, shape.attributes, shape._name())
        values = shape_row(shape, project_id=p.id, asset_id=asset.id, cls=cls, user=p.user, now=stamp, source=source)
        return dict(zip(ROW_COLUMNS, values, strict=True))

    def _shape_class(self, shape: Shape) -> LabelClass | None:
        schema = self.project.schema
        if isinstance(shape, Tag):
            schema.tag_group(shape.value, shape.group)
            return None
        if shape.label is None:
            raise SchemaError(f"{shape._name()}: needs a label, one of {schema.names}")
        cls = schema.get(shape.label)
        if isinstance(shape, Keypoints):
            geometry_data(shape, cls)  # validates point names against the class
        return cls

    # -- creating --------------------------------------------------------------------------------------
    def create(
        self,
        asset: Asset,
        shapes: Iterable[Shape],
        *,
        source: str = "human",
        task_id: int | None = None,
        duration: float | None = None,
        prediction_id: int | None = None,
        kind: str = "annotation.create",
        payload: Mapping[str, Any] | None = None,
    ) -> list[int]:
        """Insert ``shapes`` on ``asset`` as new rows (revision 1) and one event; returns their ids, also set
        on the shapes. ``prediction_id`` commits a model suggestion: it must be a live prediction of this
        image, whose model, version and score the new row records (never what a browser claims)."""
        self.require(source)
        if task_id is not None:
            check_pass_write(self.conn, self.project, task_id, asset.id)
        items = list(shapes)
        stamp = now()
        rows = self._rows(items, asset, source, stamp)
        extra: dict[str, Any] = {"task_id": task_id}
        event_payload: dict[str, Any] = {"source": source, **(payload or {})}
        if prediction_id is not None:
            extra.update(self._prediction_origin(asset.id, prediction_id))
            event_payload["assist"] = {
                "prediction_id": prediction_id,
                "model": extra["model"],
                "version": extra["model_version"],
                "score": extra["score"],
            }
        a = annotation_rows
        ids = [int(self.conn.execute(a.insert().values({**r, **extra}).returning(a.c.id)).scalar_one()) for r in rows]
        event_payload["annotation_ids"] = ids
        self._event(
            kind,
            asset_id=asset.id,
            task_id=task_id,
            annotation_id=ids[0] if len(ids) == 1 else None,
            duration=duration,
            payload=event_payload,
            time=stamp,
        )
        for shape, new_id in zip(items, ids, strict=True):
            shape.id = new_id
        self.touched.add(asset.id)
        return ids

    def _prediction_origin(self, asset_id: int, prediction_id: Any) -> dict[str, Any]:
        if not isinstance(prediction_id, int) or isinstance(prediction_id, bool):
            raise LabnbError(f"prediction_id must be an annotation id, got {prediction_id!r}")
        a = annotation_rows
        pred = self.conn.execute(
            sa.select(a.c.asset_id, a.c.source, a.c.deleted, a.c.model, a.c.model_version, a.c.score).where(
                a.c.id == prediction_id, a.c.project_id == self.project.id
            )
        ).first()
        if pred is None or pred.source != "prediction" or pred.asset_id != asset_id or pred.deleted:
            raise LabnbError(f"annotation {prediction_id} is not a live prediction of image {asset_id}")
        return {
            "model": pred.model,
            "model_version": pred.model_version,
            "score": pred.score,
            "prediction_id": prediction_id,
        }

    def bulk_create(
        self,
        rows: Sequence[Sequence[Any]],
        *,
        kind: str,
        payload: Mapping[str, Any],
        asset_ids: Iterable[int],
        sources: Iterable[str],
        stamp: datetime | None = None,
    ) -> None:
        """Insert many prepared rows (tuples in :data:`~labnb.store.rows.ROW_COLUMNS` order, checked by the
        caller: an import's plan, a model's decoded output) at bulk speed, with one event. ``sources`` are
        those the rows hold (their roles are checked); ``asset_ids`` the images they are on."""
        for source in set(sources):
            self.require(source)
        images = set(asset_ids)
        db.bulk_insert(self.conn, annotation_rows, ROW_COLUMNS, rows)
        self._event(
            kind,
            asset_id=next(iter(images)) if len(images) == 1 else None,
            payload=dict(payload),
            time=stamp,
            created=len(rows),
        )
        self.touched.update(images)

    # -- changing --------------------------------------------------------------------------------------
    def update(self, annotation_id: int, shape: Shape, *, duration: float | None = None) -> int:
        """Replace an annotation's geometry, label and attributes, keeping the old state as a revision.
        Its source, model origin and creator stay. Returns the new revision number."""
        old = self._live_row(annotation_id)
        self._may_change(old)
        asset = self.project.asset(old.asset_id)
        stamp = now()
        row = self.row(shape, asset, old.source, stamp)
        self._keep_revision(old, "update", stamp)
        keep = {"project_id", "asset_id", "source", "model", "model_version", "created_by", "created_at", "deleted"}
        if old.model is not None:
            keep.add("score")  # a committed suggestion keeps its model's score through edits
        values = {k: v for k, v in row.items() if k not in keep}
        values["revision"] = old.revision + 1
        if shape.kind == old.kind == "mask":
            values["iscrowd"] = bool(getattr(shape, "iscrowd", False))
        self.conn.execute(annotation_rows.update().where(annotation_rows.c.id == annotation_id).values(values))
        self._event(
            "annotation.update",
            asset_id=old.asset_id,
            task_id=old.task_id,
            annotation_id=annotation_id,
            duration=duration,
            payload={"revision": old.revision + 1},
            time=stamp,
        )
        self.touched.add(int(old.asset_id))
        return int(old.revision) + 1

    def set_deleted(self, annotation_id: int, deleted: bool, *, duration: float | None = None) -> int:
        """Soft-delete (or restore) one annotation, keeping the old state as a revision. Returns the new
        revision number."""
        old = self._live_row(annotation_id, deleted=not deleted)
        self._may_change(old)
        stamp = now()
        self._keep_revision(old, "delete" if deleted else "restore", stamp)
        self.conn.execute(
            annotation_rows.update()
            .where(annotation_rows.c.id == annotation_id)
            .values(deleted=deleted, revision=old.revision + 1, updated_by=self.project.user, updated_at=stamp)
        )
        self._event(
            "annotation.delete" if deleted else "annotation.restore",
            asset_id=old.asset_id,
            task_id=old.task_id,
            annotation_id=annotation_id,
            duration=duration,
            time=stamp,
        )
        self.touched.add(int(old.asset_id))
        return int(old.revision) + 1

    def replace(
        self,
        asset: Asset,
        shapes: Iterable[Shape],
        *,
        where: sa.ColumnElement[bool],
        source: str,
        task_id: int | None = None,
        kind: str,
        payload: Mapping[str, Any] | None = None,
        duration: float | None = None,
        event_task_id: int | None = None,
    ) -> list[int]:
        """The live rows of ``asset`` matching ``where`` (a pass's, an image's consensus) become ``shapes``:
        the old rows are soft-deleted with their state kept as revisions, the new ones inserted with
        ``task_id``; one event ``kind`` lists both. The event is of ``event_task_id`` (default ``task_id``):
        the task the user works on, e.g. the review task of a reviewer's fix of a pass."""
        self.require(source)
        if task_id is not None:
            check_pass_write(self.conn, self.project, task_id, asset.id)
        items = list(shapes)
        stamp = now()
        rows = self._rows(items, asset, source, stamp)  # checked before anything is deleted
        a = annotation_rows
        old = self.conn.execute(
            sa.select(a).where(
                where, a.c.asset_id == asset.id, a.c.project_id == self.project.id, a.c.deleted.is_(False)
            )
        ).all()
        for r in old:
            self._keep_revision(r, "delete", stamp)
        if old:
            self.conn.execute(
                a.update()
                .where(a.c.id.in_([r.id for r in old]))
                .values(deleted=True, revision=a.c.revision + 1, updated_by=self.project.user, updated_at=stamp)
            )
        ids = [
            int(self.conn.execute(a.insert().values({**r, "task_id": task_id}).returning(a.c.id)).scalar_one())
            for r in rows
        ]
        for shape, new_id in zip(items, ids, strict=True):
            shape.id = new_id
        self._event(
            kind,
            asset_id=asset.id,
            task_id=task_id if event_task_id is None else event_task_id,
            duration=duration,
            payload={"source": source, "deleted": [int(r.id) for r in old], "annotation_ids": ids, **(payload or {})},
            time=stamp,
        )
        self.touched.add(asset.id)
        return ids

    def copy(self, annotation_ids: Sequence[int], *, source: str, kind: str, payload: Mapping[str, Any]) -> list[int]:
        """New rows of ``source`` copied from live annotations (``p.mark_ground_truth``): same image,
        geometry, label and attributes, a fresh history; the originals stay. One event. Returns the new ids."""
        self.require(source)
        a = annotation_rows
        stamp = now()
        copied = [c.name for c in a.columns if c.name not in ("id", "source", "task_id", "revision", "deleted")]
        found = {
            r.id: r
            for r in self.conn.execute(
                sa.select(a).where(a.c.id.in_(list(annotation_ids)), a.c.project_id == self.project.id)
            ).all()
        }
        for i in annotation_ids:
            r = found.get(i)
            if r is None or r.deleted:
                raise LabnbError(f"annotation {i}: not a live annotation of project '{self.project.name}'")
            if r.source == source:
                raise LabnbError(f"annotation {i} is {source.replace('_', ' ')} already")
        user = self.project.user
        fresh = {"source": source, "revision": 1, "deleted": False, "created_by": user, "created_at": stamp,
                 "updated_by": user, "updated_at": stamp}  # fmt: skip
        new_ids = [
            int(
                self.conn.execute(
                    a.insert().values({**{c: getattr(found[i], c) for c in copied}, **fresh}).returning(a.c.id)
                ).scalar_one()
            )
            for i in annotation_ids
        ]
        self._event(kind, payload={**payload, "annotation_ids": new_ids}, time=stamp)
        self.touched.update(int(found[i].asset_id) for i in annotation_ids)
        return new_ids

    # -- internals -------------------------------------------------------------------------------------
    def _may_change(self, old: Any) -> None:
        """The current user may change existing row ``old``: the role its source needs and, for a job's
        pass, being its drawer while it is open or the reviewer holding its review."""
        self.require(old.source)
        if old.task_id is not None:
            check_pass_write(self.conn, self.project, int(old.task_id), int(old.asset_id))

    def _rows(self, shapes: Sequence[Shape], asset: Asset, source: str, stamp: datetime) -> list[dict[str, Any]]:
        """The checked rows of ``shapes``; an error names the image and the shape's place in the list."""
        rows = []
        for i, shape in enumerate(shapes):
            try:
                rows.append(self.row(shape, asset, source, stamp))
            except LabnbError as exc:
                where = f"image '{asset.file_name}'" + (f", shape #{i + 1} of {len(shapes)}" if len(shapes) > 1 else "")
                raise type(exc)(f"{where}: {exc}") from exc
        return rows

    def _event(self, kind: str, **fields: Any) -> None:
        """The change's event row, by the current user, in this transaction (with the number of rows it
        created, from the ids its payload lists)."""
        ids = (fields.get("payload") or {}).get("annotation_ids")
        if "created" not in fields and isinstance(ids, list):
            fields["created"] = len(ids)
        record_event(self.conn, self.project.id, self.project.user, kind, **fields)

    def _live_row(self, annotation_id: int, *, deleted: bool = False) -> Any:
        a = annotation_rows
        q = sa.select(a).where(a.c.id == annotation_id, a.c.project_id == self.project.id, visible(self.project))
        if self.conn.dialect.name == "postgresql":
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        if row is None:
            raise LabnbError(f"annotation {annotation_id}: not found in project '{self.project.name}'")
        if bool(row.deleted) != deleted:
            raise LabnbError(f"annotation {annotation_id}: is {'deleted' if row.deleted else 'not deleted'}")
        return row

    def _keep_revision(self, old: Any, action: str, stamp: datetime) -> None:
        """Keep ``old``'s state; ``action`` (by the current user, at ``stamp``) is what replaces it."""
        self.conn.execute(
            annotation_revisions.insert().values(
                annotation_id=old.id,
                revision=old.revision,
                action=action,
                user=self.project.user,
                time=stamp,
                label_id=old.label_id,
                kind=old.kind,
                data=old.data,
                x=old.x,
                y=old.y,
                w=old.w,
                h=old.h,
                attributes=old.attributes,
                deleted=old.deleted,
            )
        )
