"""The import/export methods of :class:`~labnb.project.Project`, one pair per format.

A mixin keeps ``project.py`` about the project itself; each method delegates to its format module,
which is imported on first use (most sessions touch one format, if any).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pandas as pd

from labnb.formats import coco
from labnb.formats.common import gc_paused
from labnb.formats.ingest import OnError

if TYPE_CHECKING:
    from labnb.project import Project


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
    ) -> pd.DataFrame:
        """Import a COCO JSON file (boxes, polygons, RLE, keypoints, iscrowd).

        ``images`` is the folder holding the image files; each is checked. Without it, sizes are taken
        from the file. Returns the skipped items (empty unless ``on_error="skip"``).
        """
        with gc_paused():
            return coco.import_coco(
                self._project(), path, images=images, on_error=on_error, source=source, progress=progress
            )

    def export_coco(self, path: str | Path, *, source: str | Sequence[str] | None = None) -> Path:
        """Write the project's annotations as COCO JSON; returns the path."""
        return coco.export_coco(self._project(), path, source=source)

    def import_yolo(
        self, path: str | Path, *, on_error: OnError = "raise", source: str = "human", progress: bool = True
    ) -> pd.DataFrame:
        """Import a YOLO dataset folder (``data.yaml``, ``images/``, ``labels/``): detect, segment or pose."""
        from labnb.formats import yolo  # noqa: PLC0415 (each format loads on first use)

        with gc_paused():
            return yolo.import_yolo(self._project(), path, on_error=on_error, source=source, progress=progress)

    def export_yolo(
        self, path: str | Path, *, task: str | None = None, source: str | Sequence[str] | None = None
    ) -> Path:
        """Write a YOLO dataset folder with ``data.yaml``; ``task`` is detect, segment or pose."""
        from labnb.formats import yolo_export  # noqa: PLC0415

        return yolo_export.export_yolo(self._project(), path, task=task, source=source)

    def import_voc(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
    ) -> pd.DataFrame:
        """Import Pascal VOC XML files (a file or a folder of them)."""
        from labnb.formats import voc  # noqa: PLC0415

        with gc_paused():
            return voc.import_voc(
                self._project(), path, images=images, on_error=on_error, source=source, progress=progress
            )

    def export_voc(self, path: str | Path, *, source: str | Sequence[str] | None = None) -> Path:
        """Write one Pascal VOC XML file per image into the folder ``path``."""
        from labnb.formats import voc  # noqa: PLC0415

        return voc.export_voc(self._project(), path, source=source)

    def import_label_studio(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
    ) -> pd.DataFrame:
        """Import a Label Studio JSON export (rectangle, polygon, keypoint, brush, choices)."""
        from labnb.formats import label_studio  # noqa: PLC0415

        with gc_paused():
            return label_studio.import_label_studio(
                self._project(), path, images=images, on_error=on_error, source=source, progress=progress
            )

    def export_label_studio(self, path: str | Path, *, source: str | Sequence[str] | None = None) -> Path:
        """Write Label Studio JSON tasks with their annotations."""
        from labnb.formats import label_studio  # noqa: PLC0415

        return label_studio.export_label_studio(self._project(), path, source=source)

    def import_cvat(
        self,
        path: str | Path,
        *,
        images: str | Path | None = None,
        on_error: OnError = "raise",
        source: str = "human",
        progress: bool = True,
    ) -> pd.DataFrame:
        """Import a "CVAT for images 1.1" XML file."""
        from labnb.formats import cvat  # noqa: PLC0415

        with gc_paused():
            return cvat.import_cvat(
                self._project(), path, images=images, on_error=on_error, source=source, progress=progress
            )

    def export_cvat(self, path: str | Path, *, source: str | Sequence[str] | None = None) -> Path:
        """Write a "CVAT for images 1.1" XML file."""
        from labnb.formats import cvat  # noqa: PLC0415

        return cvat.export_cvat(self._project(), path, source=source)
