"""The :class:`Project` facade: the one object a notebook holds.

It owns the database engine, the current user and the schema, and delegates everything else: image
loading to :mod:`labnb.assets`, formats to :mod:`labnb.formats`, people to :mod:`labnb.people`,
tables to :mod:`labnb.views`. Each change is one transaction with its event row.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np
import orjson
import pandas as pd
import sqlalchemy as sa

from labnb import assets as _assets
from labnb.annotations.history import history as annotation_history
from labnb.annotations.visibility import hidden_rows, visible
from labnb.annotations.writer import writing
from labnb.assets import Asset
from labnb.assist.methods import AssistMethods
from labnb.clock import now
from labnb.errors import AssetError, LabnbError, ProjectError
from labnb.event_log import record_event
from labnb.formats.methods import FormatMethods
from labnb.geometry import SHAPE_CLASSES, Shape
from labnb.people import Members, current_user
from labnb.performance import PerformanceMethods
from labnb.pyramid import Previews, remove_unused_previews
from labnb.schema import Attribute, LabelClass, Schema, TagGroup, as_label_class, build_schema, check_name
from labnb.settings import ProjectSettings
from labnb.store import database as db
from labnb.store.rows import (
    dumps,
    read_asset_shapes,
)
from labnb.store.tables import (
    annotation_rows,
    assets,
    blobs,
    label_classes,
    members,
    projects,
)
from labnb.views import AnnotationsView, AssetsView, EventsView, PredictionsView
from labnb.widgets.annotator import Annotator
from labnb.workflow.methods import WorkflowMethods


class Project(FormatMethods, AssistMethods, WorkflowMethods, PerformanceMethods):
    """A labelling project stored in a SQLite file or a PostgreSQL database.

    Use :meth:`create` or :meth:`open`; the constructor is internal.
    """

    def __init__(self, engine: sa.Engine, project_id: int, name: str, user: str, location: str) -> None:
        self._engine = engine
        self.id = project_id
        self.name = name
        self.user = user
        self.location = location
        self._schema: Schema | None = None
        self.members = Members(self)
        self.assets = AssetsView(self)
        self.annotations = AnnotationsView(self)
        self.predictions = PredictionsView(self)
        self.events = EventsView(self)
        self.settings = ProjectSettings(self)
        #: Open widgets of this Project object, told when Python writes to an image (see _changed)
        self._watchers: weakref.WeakSet[Any] = weakref.WeakSet()

    def _changed(self, asset_id: int) -> None:
        """Shapes of ``asset_id`` were written through this object: widgets showing it reload them, so what
        ``p.annotate`` writes appears at once. (Writes from other processes show on the next load.)"""
        for w in list(self._watchers):
            w._store_changed(asset_id)

    # -- lifecycle -------------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path_or_url: str | Path,
        labels: Schema | Iterable[str | Mapping[str, Any] | LabelClass] | None = None,
        *,
        name: str | None = None,
        tools: Sequence[str] | None = None,
        tags: Iterable[TagGroup | Mapping[str, Any]] | None = None,
        attributes: Iterable[Attribute | Mapping[str, Any]] | None = None,
        user: str | None = None,
        overwrite: bool = False,
    ) -> Project:
        """Create a project; the creating user becomes its owner.

        ``path_or_url`` is a file path (SQLite, the default) or a database URL such as
        ``postgresql+psycopg://host/db``, where ``name`` tells projects in the same database apart.
        """
        schema = build_schema(labels, tools=tools, tags=tags, attributes=attributes)
        who = current_user(user)
        location = str(path_or_url)
        if not db.is_url(location):
            path = Path(location)
            if path.exists():
                if not overwrite:
                    raise ProjectError(f"{path}: exists already; use Project.open, or overwrite=True")
                for extra in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    extra.unlink(missing_ok=True)
            path.parent.mkdir(parents=True, exist_ok=True)
            name = name or path.stem
        name = check_name(name or "default", "project")
        engine = db.make_engine(location)
        db.ensure_current(engine, location, create=True)
        stamp = now()
        with db.transaction(engine) as conn:
            if conn.execute(sa.select(projects.c.id).where(projects.c.name == name)).first():
                raise ProjectError(f"{location}: a project named '{name}' exists already")
            pid = conn.execute(
                projects.insert()
                .values(name=name, created_at=stamp, created_by=who, settings=dumps(schema.settings_json()))
                .returning(projects.c.id)
            ).scalar_one()
            conn.execute(members.insert().values(project_id=pid, user=who, role="owner", added_at=stamp, added_by=who))
            _insert_classes(conn, pid, schema.classes, start=0)
            record_event(conn, pid, who, "project.create", payload={"name": name}, time=stamp)
        return cls(engine, pid, name, who, location)

    @classmethod
    def open(cls, path_or_url: str | Path, *, name: str | None = None, user: str | None = None) -> Project:
        """Open an existing project, upgrading an older schema; a newer one raises a clear error."""
        location = str(path_or_url)
        if not db.is_url(location) and not Path(location).exists():
            raise ProjectError(f"{location}: no such project file")
        engine = db.make_engine(location)
        db.ensure_current(engine, location, create=False)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(projects.c.id, projects.c.name).order_by(projects.c.id)).all()
        if name is not None:
            found = [r for r in rows if r.name == name]
            if not found:
                raise ProjectError(f"{location}: no project named '{name}'; it has {[r.name for r in rows]}")
            row = found[0]
        elif len(rows) == 1:
            row = rows[0]
        else:
            raise ProjectError(f"{location}: holds projects {[r.name for r in rows]}; pass name=")
        return cls(engine, row.id, row.name, current_user(user), location)

    def close(self) -> None:
        """Release database connections (the file can then be moved or deleted)."""
        self._engine.dispose()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<labnb.Project '{self.name}' at {self.location} as {self.user}>"

    # -- schema ----------------------------------------------------------------------------------
    @property
    def schema(self) -> Schema:
        """Classes (colour, hotkey, keypoints), tools, tag groups and attributes."""
        if self._schema is None:
            with self._engine.connect() as conn:
                settings = conn.execute(sa.select(projects.c.settings).where(projects.c.id == self.id)).scalar_one()
                rows = conn.execute(
                    sa.select(label_classes)
                    .where(label_classes.c.project_id == self.id)
                    .order_by(label_classes.c.position)
                ).all()
            classes = [
                LabelClass(
                    r.name,
                    r.color,
                    r.hotkey,
                    orjson.loads(r.keypoints),
                    [tuple(e) for e in orjson.loads(r.skeleton)],
                    id=r.id,
                )
                for r in rows
            ]
            self._schema = Schema.from_parts(classes, orjson.loads(settings))
        return self._schema

    def _classes_by_id(self) -> dict[int, LabelClass]:
        return {c.id: c for c in self.schema.classes if c.id is not None}

    def add_label(
        self,
        name: str,
        *,
        color: str | None = None,
        hotkey: str | None = None,
        keypoints: Sequence[str] = (),
        skeleton: Sequence[tuple[int | str, int | str]] = (),
    ) -> LabelClass:
        """Add one class to the schema (managers and owners)."""
        self.members.require("manager", f"add the label '{name}'")
        self._add_labels([LabelClass(name, color, hotkey, list(keypoints), list(skeleton))])  # type: ignore[arg-type]
        return self.schema.get(check_name(name, "label"))

    def _add_labels(self, new: Sequence[LabelClass], conn: sa.Connection | None = None) -> Schema:
        """Append classes to the schema, in the caller's transaction when ``conn`` is given.

        Returns the new schema (its classes carry their new ids); the caller that passed ``conn``
        must reset ``self._schema`` if its transaction rolls back.
        """
        current = self.schema
        merged = Schema(
            classes=[*current.classes, *(as_label_class(c) for c in new)],
            tools=current.tools,
            tags=current.tags,
            attributes=current.attributes,
        ).validate()
        added = merged.classes[len(current.classes) :]
        if conn is None:
            with db.transaction(self._engine) as own:
                self._insert_labels(own, added, len(current.classes))
        else:
            self._insert_labels(conn, added, len(current.classes))
        self._schema = merged
        return merged

    def _insert_labels(self, conn: sa.Connection, added: Sequence[LabelClass], start: int) -> None:
        _insert_classes(conn, self.id, added, start=start)
        record_event(conn, self.id, self.user, "schema.add_labels", payload={"labels": [c.name for c in added]})

    def _settings(self, conn: sa.Connection) -> dict[str, Any]:
        raw = conn.execute(sa.select(projects.c.settings).where(projects.c.id == self.id)).scalar_one()
        return dict(orjson.loads(raw))

    def _format_settings(self, fmt: str) -> dict[str, Any]:
        """What an import kept for exports in format ``fmt`` (ids, licences)."""
        with self._engine.connect() as conn:
            return dict(self._settings(conn).get("formats", {}).get(fmt, {}))

    def _merge_format_settings(self, conn: sa.Connection, fmt: str, values: Mapping[str, Any]) -> None:
        """Merge ``values`` into the saved settings of ``fmt``, inside the caller's transaction."""
        settings = self._settings(conn)
        saved = settings.setdefault("formats", {}).setdefault(fmt, {})
        for key, value in values.items():
            if isinstance(value, dict) and isinstance(saved.get(key), dict):
                saved[key] = {**saved[key], **value}
            else:
                saved[key] = value
        conn.execute(projects.update().where(projects.c.id == self.id).values(settings=dumps(settings)))

    # -- assets ----------------------------------------------------------------------------------
    def add_images(
        self,
        source: Any,
        *,
        sequence: str | None = None,
        on_error: _assets.OnError = "raise",
        progress: bool = True,
        previews: Previews = "eager",
    ) -> pd.DataFrame:
        """Add images from a glob, a folder, paths, numpy arrays or PIL images.

        ``sequence`` names an image sequence (video frames): the images get consecutive frame indices
        in the order given. Every file is checked first; a bad one (unreadable, truncated, not an image, too
        large) makes the call raise :class:`lb.ImageProblems` listing all of them and add nothing, or with
        ``on_error="skip"`` be left out. Returns a DataFrame with a row per item: ``status`` added, duplicate
        or skipped (with its ``problem``).

        Each image's stored small levels (the 256-px thumbnail and 1024-px preview the widgets show first)
        are made as it is read, in a few threads: about 60 ms of CPU for a 12 MP JPEG. For a very large
        import, ``previews="lazy"`` leaves them to the first time each image is shown (a file whose
        pixels cannot be decoded is then noticed only there).
        """
        return _assets.add_images(
            self, source, sequence=sequence, on_error=on_error, progress=progress, previews=previews
        )

    def remove_unused_previews(self) -> int:
        """Delete the stored image previews no asset of any project in this database refers to any more, and
        return how many went (maintenance: previews are shared by file hash across projects, so they outlive
        a project removed from a shared database and the files of an import that failed). Managers."""
        self.members.require("manager", "remove unused previews")
        return remove_unused_previews(self._engine)

    def asset(self, ref: int | str | Asset | np.integer[Any]) -> Asset:
        """An image by id or file name."""
        return ref if isinstance(ref, Asset) else self.assets[ref]

    def _asset_id(self, ref: int | str | Asset | np.integer[Any]) -> int:
        if isinstance(ref, Asset):
            return ref.id
        if isinstance(ref, str):
            return self.assets[ref].id
        return int(ref)  # numpy integers out of a DataFrame too

    def _read_uri(self, uri: str) -> bytes:
        if uri.startswith("blob:"):
            with self._engine.connect() as conn:
                data = conn.execute(sa.select(blobs.c.data).where(blobs.c.sha256 == uri[5:])).scalar()
            if data is None:
                raise AssetError(f"{uri}: the image's pixels are missing from the database")
            return bytes(data)
        if uri.startswith("file://"):
            path = Path(unquote(urlparse(uri).path))
            try:
                return path.read_bytes()
            except OSError as exc:
                raise AssetError(f"{path}: cannot read the image ({exc.strerror})") from exc
        raise AssetError(f"{uri}: labnb reads local files and stored images; this image has only a reference")

    # -- widgets ---------------------------------------------------------------------------------
    def annotator(
        self,
        assets: Sequence[int | str | Asset] | None = None,
        *,
        keymap: Mapping[str, str] | None = None,
        guide: str | None = None,
        source: str = "human",
        assist: Any = None,
        assist_threshold: float = 0.3,
        mapping: Mapping[str, str | None] | None = None,
    ) -> Annotator:
        """The Annotator widget on ``assets`` (default: every image, in the order added).

        ``keymap`` remaps actions to keys (``{"tool_box": "r"}``); ``guide`` is markdown shown in a side panel;
        ``source`` picks which annotations it shows and edits (human work by default).

        ``assist`` (an :class:`labnb.assist.OnnxDetector`, or any model with ``name``, ``version``, ``classes``
        and ``run``) shows the model's predictions on each image as grey suggestions: Space accepts the
        selected ones, S all those shown, M turns assist off and on, and a slider hides those scoring under
        ``assist_threshold``. An accepted suggestion becomes an ordinary annotation that records the model,
        version and score. Predictions are stored, so an image is predicted once per model version (in the
        background: the widget keeps working). Model classes map to project classes by name, or by
        ``mapping`` ({model name: project name, or None to drop}).
        """
        self.members.require("reviewer" if source == "ground_truth" else "annotator", f"label {source} images")
        if source not in ("human", "ground_truth"):
            raise LabnbError(f"the annotator edits 'human' or 'ground_truth' annotations, not {source!r}")
        ids = None if assets is None else [self._asset_id(a) for a in assets]
        return Annotator(
            self,
            ids,
            keymap=keymap,
            guide=guide,
            source=source,
            assist=assist,
            assist_threshold=assist_threshold,
            mapping=mapping,
        )

    # -- annotations -----------------------------------------------------------------------------
    def annotate(
        self,
        asset: int | str | Asset,
        shapes: Shape | Iterable[Shape],
        *,
        source: str = "human",
        duration: float | None = None,
        task_id: int | None = None,
    ) -> list[int]:
        """Add shapes to an image as the current user; one transaction and one event. Returns ids.

        ``task_id``: the shapes are the work of that draw task (one pass of a job), which must be yours to
        draw (claimed, or sent back to fix) and be of this image; a reviewer holding its review may fix it.
        """
        self.members.require("annotator", "annotate")
        items: list[Shape] = [shapes] if isinstance(shapes, SHAPE_CLASSES) else list(shapes)
        if source not in ("human", "ground_truth"):
            raise LabnbError(f"source must be 'human' or 'ground_truth' here, got {source!r}")
        target = self.asset(asset)
        with writing(self) as w:
            return w.create(target, items, source=source, task_id=task_id, duration=duration)

    def get_annotations(self, asset: int | str | Asset, *, source: str | None = None) -> list[Shape]:
        """Live shapes of one image (human and ground truth; or one ``source``)."""
        return self._shapes_of(asset, (source,) if source else ("human", "ground_truth"))

    def _shapes_of(
        self, asset: int | str | Asset, sources: Sequence[str], *, outside_jobs: bool = False
    ) -> list[Shape]:
        with self._engine.connect() as conn:
            return read_asset_shapes(
                conn,
                self._asset_id(asset),
                self._classes_by_id(),
                sources,
                outside_jobs=outside_jobs,
                hidden=hidden_rows(self),
            )

    def update_annotation(self, annotation_id: int, shape: Shape, *, duration: float | None = None) -> int:
        """Replace an annotation's geometry, label and attributes; the old state goes to its history.

        Returns the new revision number.
        """
        self.members.require("annotator", "edit annotations")
        with writing(self) as w:
            return w.update(annotation_id, shape, duration=duration)

    def delete_annotation(self, annotation_id: int, *, duration: float | None = None) -> int:
        """Soft-delete: the row stays (with its history) and can be restored. Returns the new revision."""
        self.members.require("annotator", "delete annotations")
        with writing(self) as w:
            return w.set_deleted(annotation_id, True, duration=duration)

    def restore_annotation(self, annotation_id: int) -> int:
        """Undo a soft delete. Returns the new revision."""
        self.members.require("annotator", "restore annotations")
        with writing(self) as w:
            return w.set_deleted(annotation_id, False)

    def mark_ground_truth(self, annotation_ids: int | Iterable[int]) -> list[int]:
        """Copy existing annotations (a trusted annotator's, a job's consensus) into the ground truth that
        annotators and models are scored against (``job.score_annotators()``, exams). The originals stay as
        they are. Reviewers and above; one transaction and one event. Returns the new ground-truth ids."""
        self.members.require("reviewer", "mark ground truth")
        wanted = [annotation_ids] if isinstance(annotation_ids, int) else [int(i) for i in annotation_ids]
        with writing(self) as w:
            return w.copy(wanted, source="ground_truth", kind="annotation.mark_ground_truth", payload={"from": wanted})

    def history(self, annotation_id: int) -> pd.DataFrame:
        """Every state of an annotation, oldest first: revision, the action that made it (create, update,
        delete, restore), by whom, when (UTC), what replaced it ("current" for the live state), geometry."""
        classes = self._classes_by_id()
        with self._engine.connect() as conn:
            return annotation_history(conn, self.id, self.name, annotation_id, classes, visible(self))

    def _export_rows(self, sources: Sequence[str] | None = None) -> tuple[Sequence[Any], Sequence[Any]]:
        """(asset rows, annotation rows) for exporters, in id order, deleted rows left out."""
        srcs = list(sources or ("human", "ground_truth"))
        a = annotation_rows
        with self._engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    a.c.id,
                    a.c.asset_id,
                    a.c.label_id,
                    a.c.kind,
                    a.c.data,
                    a.c.x,
                    a.c.y,
                    a.c.w,
                    a.c.h,
                    a.c.area,
                    a.c.iscrowd,
                    a.c.attributes,
                    a.c.score,
                    a.c.track_id,
                )
                .where(a.c.project_id == self.id, a.c.deleted.is_(False), a.c.source.in_(srcs), visible(self))
                .order_by(a.c.asset_id, a.c.id)
            ).all()
            arows = conn.execute(sa.select(assets).where(assets.c.project_id == self.id).order_by(assets.c.id)).all()
        return arows, rows


def _insert_classes(conn: sa.Connection, project_id: int, classes: Sequence[LabelClass], *, start: int) -> None:
    for i, c in enumerate(classes):
        c.id = conn.execute(
            label_classes.insert()
            .values(
                project_id=project_id,
                name=c.name,
                color=c.color,
                hotkey=c.hotkey,
                keypoints=dumps(c.keypoints),
                skeleton=dumps([list(e) for e in c.skeleton]),
                position=start + i,
            )
            .returning(label_classes.c.id)
        ).scalar_one()
