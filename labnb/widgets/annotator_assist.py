"""Model assist in the Annotator: the model's predictions for the shown image as grey suggestions.

The predictions are cached in the store per image and model version (:mod:`labnb.assist.store`); an image
the model has not seen is predicted in one background thread, so the kernel keeps saving edits meanwhile,
and its result is shown only if that image is still shown and nothing changed the assist state since (a
generation counter). Split from :mod:`labnb.widgets.annotator` (the widget), which subclasses this; the
browser commits a suggestion as an ordinary edit naming its prediction (:mod:`labnb.workflow.editing`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from labnb.widgets.serializers import suggestion_dto

if TYPE_CHECKING:
    from labnb.assets import Asset
    from labnb.assist.store import AssistModel
    from labnb.project import Project


class AssistSide(anywidget.AnyWidget):
    """The assist traits and the background prediction of :class:`labnb.widgets.annotator.Annotator`."""

    suggestions: traitlets.List[dict[str, Any]] = traitlets.List().tag(sync=True)
    """The assist model's predictions for the shown image, as shape dicts (``js/src/types.ts`` ShapeDTO) with
    ``prediction_id`` (the stored prediction's annotation id), ``model`` and ``score``; cid ``g<prediction id>``
    and no ``id`` (a suggestion is not an annotation until committed). Empty without a model, with assist
    off, or while the model runs on the image."""

    assist_on = traitlets.Bool(False).tag(sync=True)
    """Whether suggestions are shown (the browser toggles it, key M); true at start when a model is given."""

    assist_threshold = traitlets.Float(0.3).tag(sync=True)
    """Suggestions scoring below this (0..1) are not shown; the browser's slider sets it."""

    assist_status = traitlets.Unicode("").tag(sync=True)
    """"" (no model or assist off), "predicting …", "N suggestions", or the error the model raised."""

    assist_model = traitlets.Dict().tag(sync=True)
    """``{"name", "version"}`` of the assist model; ``{}`` when there is none (the browser then shows no
    assist controls)."""

    # set up by Annotator.__init__
    _project: Project
    _asset: Asset | None
    _assist: AssistModel | None
    _mapping: dict[str, str | None] | None
    _assist_lock: threading.RLock
    _executor: ThreadPoolExecutor | None
    _job: Future[list[dict[str, Any]]] | None
    _job_asset: int | None
    _generation: int

    def _assist_state(self, asset: Asset, on: bool) -> dict[str, Any]:
        """The suggestions and status for ``asset``: read now when the model version has seen the image,
        else empty with "predicting …" (the caller then starts the prediction: :meth:`_start_prediction`).
        Every call starts a new generation: a prediction still running for an earlier state is not shown."""
        self._generation += 1
        self._job_asset = None
        if self._assist is None or not on:
            return {"suggestions": [], "assist_status": ""}
        try:
            if not self._predicted_before(asset):
                self._job_asset = asset.id
                return {"suggestions": [], "assist_status": "predicting …"}
            dtos = self._suggestions(asset)
        except Exception as exc:  # the model's or the store's error is shown, never raised into a callback
            return {"suggestions": [], "assist_status": f"{type(exc).__name__}: {exc}"}
        return {"suggestions": dtos, "assist_status": _count(len(dtos))}

    def _set_assist(self, state: Mapping[str, Any]) -> None:
        with self.hold_sync():
            self.suggestions = state["suggestions"]
            self.assist_status = state["assist_status"]

    def _predicted_before(self, asset: Asset) -> bool:
        from labnb.assist import store  # noqa: PLC0415 - only widgets with a model need it

        assert self._assist is not None
        with self._project._engine.connect() as conn:
            return asset.id in store._done(conn, self._project.id, self._assist, [asset.id])

    def _suggestions(self, asset: Asset) -> list[dict[str, Any]]:
        """The model's stored predictions for ``asset`` as suggestion dicts (predicting them first when the
        model version has not seen the image: slow, so the background thread does that)."""
        from labnb.assist import store  # noqa: PLC0415

        assert self._assist is not None
        shapes = store.suggestions(self._project, asset, self._assist, self._mapping)
        return [suggestion_dto(s, str(self._assist.name)) for s in shapes if s.id is not None]

    def _start_prediction(self) -> None:
        """Run the model on the image :meth:`_assist_state` found unseen, in the one background worker; the
        result is shown only if that image is still shown and nothing changed the assist state since."""
        with self._assist_lock:
            asset_id = self._job_asset
            if asset_id is None or self._asset is None or self._asset.id != asset_id:
                return
            self._job_asset = None
            asset = self._asset
            generation = self._generation
            if self._job is not None:
                self._job.cancel()  # not started yet: an image the user has already left
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labnb-assist")
            job = self._executor.submit(self._suggestions, asset)
            self._job = job
        job.add_done_callback(lambda done: self._predicted(done, asset_id, generation))

    def _predicted(self, job: Future[list[dict[str, Any]]], asset_id: int, generation: int) -> None:
        """The worker finished (in the worker's thread): show its suggestions if they are still wanted."""
        if job.cancelled():
            return
        try:
            with self._assist_lock:
                if generation != self._generation or self._asset is None or self._asset.id != asset_id:
                    return
                exc = job.exception()
                if exc is not None:
                    self._set_assist({"suggestions": [], "assist_status": f"{type(exc).__name__}: {exc}"})
                    return
                dtos = job.result()
                self._set_assist({"suggestions": dtos, "assist_status": _count(len(dtos))})
        except Exception as exc:  # e.g. the widget was closed meanwhile: nothing to show it in
            with contextlib.suppress(Exception):
                self.assist_status = f"{type(exc).__name__}: {exc}"


def _count(n: int) -> str:
    return f"{n} suggestion{'s' if n != 1 else ''}"
