"""The import/export methods of :class:`~labnb.project.Project`, one pair per format.

A mixin keeps ``project.py`` about the project itself; each method delegates to its format module,
which is imported on first use (most sessions touch one format, if any).

Every importer takes ``on_error``, ``source``, ``progress`` and ``previews``: the image files it checks get
their stored previews as they are read (``"eager"``, about 60 ms of CPU per 12 MP JPEG, in a few threads)
or the first time each is shown (``"lazy"``, for a very large import), as with ``p.add_images``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast, overload

import pandas as pd

from labnb.formats import coco
from labnb.formats.common import gc_paused
from labnb.formats.export import ExportOptions
from labnb.formats.ingest import OnError
from labnb.pyramid import Previews

if TYPE_CHECKING:
    from labnb.project import Project

#: What ``split=`` takes: a ``p.assets.df`` column, ``{image: split}``, a fraction or ``{split: fraction}``.
Split = str | float | Mapping[Any, Any]
Sources = str | Sequence[str] | None


class ImportOptions(TypedDict):
    """What every importer takes besides its file (see :func:`labnb.formats.ingest.ingest`)."""

    on_error: OnError
    source: str
    progress: bool
    previews: Previews


def _options(on_error: OnError, source: str, progress: bool, previews: Previews) -> ImportOptions:
    return {"on_error": on_error, "source": source, "progress": progress, "previews": previews}


class FormatMethods:
    """``p.import_coco``, ``p.export_yolo``, ...: mixed into :class:`~labnb.project.Project`."""

    def _project(self) -> Project:
        return cast("Project", self)

    def import_coco(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
        previews: Previews = "eager",
    ) -> pd.DataFrame:
        """Import a COCO JSON file (boxes, polygons, RLE, keypoints, iscrowd; image-level labels as tags).

        Panoptic files are refused (convert them to instances first).

        ``images`` is the folder holding the image files; each is checked. Without it, sizes are taken
        from the file. Returns the skipped items (empty unless ``on_error="skip"``). ``previews="lazy"``
        makes the image previews when each image is first shown instead of now (see ``p.add_images``).
        """
        with gc_paused():
            return coco.import_coco(
                self._project(), path, images=images, **_options(on_error, source, progress, previews)
            )

    @overload
    def export_coco(
        self,
        path: str | Path,
        *,
        source: Sources = ...,
        assets: Any = ...,
        split: None = ...,
        seed: int | None = ...,
        skip_empty: bool = ...,
    ) -> Path: ...
    @overload
    def export_coco(
        self,
        path: str | Path,
        *,
        source: Sources = ...,
        assets: Any = ...,
        split: Split,
        seed: int | None = ...,
        skip_empty: bool = ...,
    ) -> dict[str, Path]: ...
    def export_coco(
        self,
        path: str | Path,
        *,
        source: Sources = None,
        assets: Any = None,
        split: Split | None = None,
        seed: int | None = 0,
        skip_empty: bool = False,
    ) -> Path | dict[str, Path]:
        """Write the project's annotations as COCO JSON; returns the path.

        A box, or an object that is only keypoints, is written with its box's rectangle as the segmentation,
        marked ``"labnb_kind": "box"`` (or ``"keypoints"``) so that :meth:`import_coco` reads it back as it was.
        ``assets``, ``split``, ``seed``, ``skip_empty`` choose the images (:class:`~labnb.formats.export.ExportOptions`;
        images without annotations are exported, as background images, unless ``skip_empty``). With a split,
        one file per split: ``out.json`` -> ``out_train.json``, ``out_val.json``, returned as ``{split: path}``.
        """
        options = ExportOptions(assets, split, seed, skip_empty)
        return coco.export_coco(self._project(), path, source=source, options=options)

    def import_yolo(
        self,
        path: str | Path,
        *,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
        previews: Previews = "eager",
    ) -> pd.DataFrame:
        """Import a YOLO dataset folder (``data.yaml``, ``images/``, ``labels/``): detect, segment or pose."""
        from labnb.formats import yolo  # noqa: PLC0415 (each format loads on first use)

        with gc_paused():
            return yolo.import_yolo(self._project(), path, **_options(on_error, source, progress, previews))

    def export_yolo(
        self,
        path: str | Path,
        *,
        task: str | None = None,
        source: Sources = None,
        assets: Any = None,
        split: Split | None = None,
        seed: int | None = 0,
        skip_empty: bool = False,
    ) -> Path:
        """Write a YOLO dataset folder with ``data.yaml``; ``task`` is detect, segment or pose.

        ``assets``, ``split``, ``seed``, ``skip_empty``: which images (:class:`~labnb.formats.export.ExportOptions`);
        an image without annotations gets an empty label file (a background image) unless ``skip_empty``.
        Splits are ``images/<split>/`` and ``labels/<split>/``, listed in data.yaml; their names must be train,
        val or test (Train, Validation, valid, ... are read as those). Without ``split``, each image's own
        (``p.assets.df.split``, else train); when no image is in val, data.yaml's val is the training images
        (Ultralytics needs the key) and a warning says to pass ``split=0.2`` to hold some out.
        """
        from labnb.formats import yolo_export  # noqa: PLC0415

        options = ExportOptions(assets, split, seed, skip_empty)
        return yolo_export.export_yolo(self._project(), path, task=task, source=source, options=options)

    def import_voc(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
        previews: Previews = "eager",
    ) -> pd.DataFrame:
        """Import Pascal VOC XML files (a file or a folder of them)."""
        from labnb.formats import voc  # noqa: PLC0415

        with gc_paused():
            return voc.import_voc(
                self._project(), path, images=images, **_options(on_error, source, progress, previews)
            )

    def export_voc(
        self,
        path: str | Path,
        *,
        source: Sources = None,
        assets: Any = None,
        split: Split | None = None,
        seed: int | None = 0,
        skip_empty: bool = False,
    ) -> Path:
        """Write one Pascal VOC XML file per image into the folder ``path``.

        ``assets``, ``split``, ``seed``, ``skip_empty``: which images (:class:`~labnb.formats.export.ExportOptions`);
        an image without annotations gets a file with no ``<object>`` unless ``skip_empty``. With a split,
        the VOC devkit layout: ``Annotations/*.xml`` and ``ImageSets/Main/<split>.txt``.
        """
        from labnb.formats import voc  # noqa: PLC0415

        options = ExportOptions(assets, split, seed, skip_empty)
        return voc.export_voc(self._project(), path, source=source, options=options)

    def import_label_studio(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
        previews: Previews = "eager",
    ) -> pd.DataFrame:
        """Import a Label Studio JSON export (rectangle, polygon, keypoint, brush, choices)."""
        from labnb.formats import label_studio  # noqa: PLC0415

        with gc_paused():
            return label_studio.import_label_studio(
                self._project(), path, images=images, **_options(on_error, source, progress, previews)
            )

    def export_label_studio(
        self,
        path: str | Path,
        *,
        source: Sources = None,
        assets: Any = None,
        split: Split | None = None,
        seed: int | None = 0,
        skip_empty: bool = False,
    ) -> Path:
        """Write Label Studio JSON tasks with their annotations.

        ``assets``, ``split``, ``seed``, ``skip_empty``: which images (:class:`~labnb.formats.export.ExportOptions`);
        an image without annotations is a task without one (Label Studio shows it unlabelled) unless
        ``skip_empty``. A split is each task's ``data.split`` (a Data Manager column to filter by).
        """
        from labnb.formats import label_studio  # noqa: PLC0415

        options = ExportOptions(assets, split, seed, skip_empty)
        return label_studio.export_label_studio(self._project(), path, source=source, options=options)

    def import_cvat(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
        previews: Previews = "eager",
    ) -> pd.DataFrame:
        """Import a "CVAT for images 1.1" XML file of a task or a project export.

        ``images`` is the export's ``images`` folder (or its root); a project export's images keep their
        subset (``p.assets.df.split``) and task (``p.assets.df.cvat_task``).
        """
        from labnb.formats import cvat  # noqa: PLC0415

        with gc_paused():
            return cvat.import_cvat(
                self._project(), path, images=images, **_options(on_error, source, progress, previews)
            )

    def export_cvat(
        self,
        path: str | Path,
        *,
        source: Sources = None,
        assets: Any = None,
        split: Split | None = None,
        seed: int | None = 0,
        skip_empty: bool = False,
    ) -> Path:
        """Write a "CVAT for images 1.1" XML file.

        ``assets``, ``split``, ``seed``, ``skip_empty``: which images (:class:`~labnb.formats.export.ExportOptions`);
        an image without annotations is an ``<image>`` with no shapes unless ``skip_empty``. With a split,
        the file is shaped like a CVAT project export, each image with its ``subset``: images imported from
        a CVAT project keep their task (name and id), so ``split="split"`` writes that project back as it
        came; other images make one task per split.
        """
        from labnb.formats import cvat_export  # noqa: PLC0415

        options = ExportOptions(assets, split, seed, skip_empty)
        return cvat_export.export_cvat(self._project(), path, source=source, options=options)
