"""ONNX models that propose labels: a ready detector for the common YOLO exports, and a plug-in wrapper.

:class:`OnnxDetector` knows the usual detector layouts (see :mod:`labnb.assist.decoders`): give it the file,
the decoder name and the class names, and ``predict(image)`` returns labnb shapes in the image's own
pixels. :class:`OnnxModel` runs any ONNX model with a user's ``preprocess`` and ``decode`` functions.

Both load the model once into an ``onnxruntime.InferenceSession``, accept any image kind
(:func:`labnb.assist.image.to_rgb`), and identify themselves by ``name`` (the file stem) and ``version``
(the start of the file's sha256) so stored predictions say which model made them.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from labnb.assist.decoders import DECODERS, BoxesScoresLabels, Candidates, Decoder, fmt, masks
from labnb.assist.image import ImageLike, to_rgb
from labnb.assist.nms import nms
from labnb.assist.preprocess import Letterbox, LetterboxInfo, letterbox
from labnb.errors import ModelError
from labnb.geometry import SHAPE_CLASSES, Box, Mask, Shape

PathLike = str | os.PathLike[str]

#: Images per ``session.run`` in :meth:`OnnxDetector.run_batch` when the model's batch size is dynamic.
BATCH_SIZE = 8

_INPUT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(uint8)": np.uint8,
}

#: Input conventions of the exports each decoder is for.
DEFAULT_LETTERBOX = {
    # YOLOX: BGR 0..255, image in the top-left corner (Megvii's ``preproc``)
    "yolox": Letterbox(pad="top-left", channels="BGR"),
    # ultralytics: RGB 0..1, centred
    "yolov5": Letterbox(pad="center", channels="RGB", scale=1 / 255),
    "yolov8": Letterbox(pad="center", channels="RGB", scale=1 / 255),
    "yolov8-seg": Letterbox(pad="center", channels="RGB", scale=1 / 255),
    "boxes_scores_labels": Letterbox(pad="center", channels="RGB", scale=1 / 255),
}


@dataclass
class Predictions:
    """What a model proposes for one image.

    ``shapes`` carry the model's class name as ``label`` and a ``score`` in [0, 1], in original image
    pixels, by descending score. ``probs[i]`` is the model's per-class probability vector for
    ``shapes[i]`` (float32, one per model class), or ``None`` when the model gives only a score.
    """

    shapes: list[Shape]
    probs: list[NDArray[np.float32] | None]


def load_classes(classes: Sequence[str] | PathLike | None, model: str) -> list[str] | None:
    """Class names from a list, or from a names file (one per line, blank lines ignored)."""
    if classes is None:
        return None
    if isinstance(classes, (str, os.PathLike)):
        path = Path(classes)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ModelError(f"{model}: cannot read the class names file {path} ({exc.strerror})") from exc
        names = [line.strip() for line in lines if line.strip()]
        if not names:
            raise ModelError(f"{model}: the class names file {path} is empty")
    else:
        names = [str(c) for c in classes]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ModelError(f"{model}: class names must be unique, {dup} repeat")
    return names


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class _Onnx:
    """What both model kinds share: loading, identity, running."""

    def __init__(
        self,
        path: PathLike,
        *,
        providers: Sequence[str] | None,
        name: str | None,
        version: str | None,
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path}: model file not found")
        if providers is None:
            available = ort.get_available_providers()
            providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors are raised below; don't also print them
        try:
            # from the path, not bytes: a large model keeps its weights in external files next to it
            self.session = ort.InferenceSession(str(self.path), sess_options=options, providers=list(providers))
        except Exception as exc:  # onnxruntime raises its own classes (InvalidProtobuf, Fail, ...) for bad files
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelError(f"{self.path.name}: not a valid ONNX model ({detail[:300]})") from exc
        self.name: str = name if name is not None else self.path.stem
        self.version: str = version if version is not None else _sha256(self.path)[:12]
        self.classes: list[str] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, version={self.version!r}, classes={len(self.classes)})"

    # -- the two halves, given by subclasses
    def preprocess(self, image: ImageLike) -> tuple[dict[str, NDArray[Any]], Any]:
        """Model inputs for an image (RGB uint8 ``(h, w, 3)``, or any kind :func:`to_rgb` accepts)."""
        raise NotImplementedError

    def decode(self, outputs: list[NDArray[Any]], context: Any) -> Predictions:
        """Predictions from the raw outputs of ``session.run`` and the context ``preprocess`` returned."""
        raise NotImplementedError

    # -- running
    def _session_run(self, inputs: dict[str, NDArray[Any]]) -> list[NDArray[Any]]:
        try:
            outputs: list[NDArray[Any]] = self.session.run(None, inputs)
        except Exception as exc:  # onnxruntime's own exception classes (InvalidArgument, Fail, ...)
            shapes = ", ".join(f"{k} {fmt(v.shape)} {v.dtype}" for k, v in inputs.items())
            raise ModelError(f"{self.path.name}: running the model on {shapes} failed ({exc})") from exc
        return outputs

    def run(self, image: ImageLike) -> Predictions:
        """Predictions for one image: a numpy array (RGB, grayscale, RGBA), a PIL image, a path or bytes."""
        inputs, context = self.preprocess(to_rgb(image))
        return self.decode(self._session_run(inputs), context)

    def predict(self, image: ImageLike) -> list[Shape]:
        """The shapes of :meth:`run`."""
        return self.run(image).shapes

    def run_batch(self, images: Sequence[ImageLike]) -> list[Predictions]:
        """Predictions for several images, in order."""
        return [self.run(image) for image in images]


class OnnxModel(_Onnx):
    """Any ONNX model, with the user's own pre- and post-processing.

    Parameters
    ----------
    path
        The ``.onnx`` file.
    preprocess
        ``f(rgb) -> (inputs, context)``: ``rgb`` is an RGB uint8 ``(h, w, 3)`` array, ``inputs`` the
        ``{input name: array}`` for ``session.run``, ``context`` anything ``decode`` needs (scale, size).
    decode
        ``f(outputs, context) -> list of shapes``, each with ``label`` (a model class name) and ``score``,
        in original image pixels. ``outputs`` is ``session.run``'s list of arrays.
    classes
        The model's class names (a list or a names file); may be omitted.
    """

    def __init__(
        self,
        path: PathLike,
        preprocess: Callable[[NDArray[np.uint8]], tuple[dict[str, NDArray[Any]], Any]],
        decode: Callable[[list[NDArray[Any]], Any], Sequence[Shape]],
        *,
        classes: Sequence[str] | PathLike | None = None,
        providers: Sequence[str] | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> None:
        super().__init__(path, providers=providers, name=name, version=version)
        self._preprocess = preprocess
        self._decode = decode
        self.classes = load_classes(classes, self.path.name) or []

    def preprocess(self, image: ImageLike) -> tuple[dict[str, NDArray[Any]], Any]:
        return self._preprocess(to_rgb(image))

    def decode(self, outputs: list[NDArray[Any]], context: Any) -> Predictions:
        shapes = list(self._decode(outputs, context))
        bad = [type(s).__name__ for s in shapes if not isinstance(s, SHAPE_CLASSES)]
        if bad:
            raise ModelError(
                f"{self.path.name}: decode must return labnb shapes (Box, Polygon, Mask, ...), got {bad[0]}"
            )
        return Predictions(shapes, [None] * len(shapes))


class OnnxDetector(_Onnx):
    """An ONNX object detector of a known export layout.

    Parameters
    ----------
    path
        The ``.onnx`` file.
    decoder
        The output layout: ``"yolox"``, ``"yolov5"``, ``"yolov8"``, ``"yolov8-seg"`` or
        ``"boxes_scores_labels"`` (see :mod:`labnb.assist.decoders`).
    classes
        Class names in the model's order, as a list or a names file (one per line). Ultralytics exports
        carry their names in the model's metadata, which is used when this is omitted; for
        ``boxes_scores_labels`` without names, labels are the class ids as strings.
    input_size
        ``(height, width)`` or one int; by default the model's static input size.
    providers
        onnxruntime execution providers; by default CUDA when available, else CPU.
    score_threshold, iou_threshold, max_detections
        Detections scoring below ``score_threshold`` are dropped, then per-class NMS at ``iou_threshold``,
        then at most ``max_detections`` are kept.
    letterbox
        How the image is fitted into the input; the default matches the decoder's usual export (YOLOX:
        BGR, top-left, 0..255; ultralytics: RGB, centred, 0..1, both padded with 114).
    name, version
        Identity recorded with predictions; default: the file stem and the first 12 hex digits of its sha256.
    """

    def __init__(
        self,
        path: PathLike,
        decoder: str = "yolox",
        *,
        classes: Sequence[str] | PathLike | None = None,
        input_size: tuple[int, int] | int | None = None,
        providers: Sequence[str] | None = None,
        score_threshold: float = 0.05,
        iou_threshold: float = 0.5,
        max_detections: int = 300,
        letterbox: Letterbox | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> None:
        if decoder not in DECODERS:
            raise ModelError(f"{Path(path).name}: unknown decoder {decoder!r}; known decoders: {sorted(DECODERS)}")
        if not 0.0 <= score_threshold <= 1.0 or not 0.0 <= iou_threshold <= 1.0:
            raise ModelError(
                f"{Path(path).name}: score_threshold and iou_threshold must be in [0, 1], "
                f"got {score_threshold!r} and {iou_threshold!r}"
            )
        if int(max_detections) < 1:
            raise ModelError(f"{Path(path).name}: max_detections must be at least 1, got {max_detections!r}")
        super().__init__(path, providers=providers, name=name, version=version)
        self.decoder_name = decoder
        self.score_threshold = float(score_threshold)
        self.iou_threshold = float(iou_threshold)
        self.max_detections = int(max_detections)
        model = self.path.name

        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            listed = [f"{i.name} {fmt(i.shape)}" for i in inputs]
            raise ModelError(
                f"{model}: OnnxDetector needs a model with one image input, this one has {listed}; "
                "use OnnxModel with your own preprocess"
            )
        self.input = inputs[0]
        shape = list(self.input.shape)
        if len(shape) != 4 or (isinstance(shape[1], int) and shape[1] != 3):
            raise ModelError(
                f"{model}: expects an image input [batch, 3, height, width], got {self.input.name} {fmt(shape)}"
            )
        self.input_size = self._input_size(shape, input_size)
        dtype = _INPUT_DTYPES.get(self.input.type)
        if dtype is None:
            raise ModelError(f"{model}: input {self.input.name} has type {self.input.type}, expected float or uint8")
        self.batch_dynamic = not isinstance(shape[0], int)

        cfg = letterbox if letterbox is not None else DEFAULT_LETTERBOX[decoder]
        if cfg.size is not None and cfg.size != self.input_size:
            raise ModelError(f"{model}: letterbox size {cfg.size} differs from the input size {self.input_size}")
        self.letterbox = dataclasses.replace(cfg, size=self.input_size, dtype=dtype)

        given = load_classes(classes, model)
        names = given if given is not None else self._metadata_names()
        decoder_cls = DECODERS[decoder]
        if names is None and decoder_cls.needs_classes:
            raise ModelError(f"{model}: decoder {decoder!r} needs the class names: give classes=[...] or a names file")
        self.classes = names or []
        self._decoder: Decoder = decoder_cls(
            model,
            len(names) if names is not None else None,
            self.input_size,
            [o.name for o in self.session.get_outputs()],
        )
        self._decoder.check([list(o.shape) for o in self.session.get_outputs()])

    def _input_size(self, shape: list[Any], input_size: tuple[int, int] | int | None) -> tuple[int, int]:
        model = self.path.name
        static = (shape[2], shape[3]) if isinstance(shape[2], int) and isinstance(shape[3], int) else None
        if input_size is None:
            if static is None:
                meta = self.session.get_modelmeta().custom_metadata_map.get("imgsz")
                try:
                    size = ast.literal_eval(meta) if meta else None
                    return (int(size[0]), int(size[1]))  # type: ignore[index]
                except (ValueError, SyntaxError, TypeError, IndexError):
                    raise ModelError(
                        f"{model}: the input {self.input.name} {fmt(shape)} has a dynamic size; "
                        "give input_size=(height, width)"
                    ) from None
            return static
        size = (input_size, input_size) if isinstance(input_size, int) else (int(input_size[0]), int(input_size[1]))
        if min(size) < 1:
            raise ModelError(f"{model}: input_size must be positive, got {input_size!r}")
        if static is not None and size != static:
            raise ModelError(f"{model}: input_size {size} differs from the model's fixed input {fmt(shape)}")
        return size

    def _metadata_names(self) -> list[str] | None:
        """Class names stored by ultralytics exports: ``names = "{0: 'person', ...}"``."""
        raw = self.session.get_modelmeta().custom_metadata_map.get("names")
        if not raw:
            return None
        try:
            parsed = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return None
        if isinstance(parsed, dict):
            return [str(parsed[k]) for k in sorted(parsed)]
        if isinstance(parsed, (list, tuple)):
            return [str(v) for v in parsed]
        return None

    def preprocess(self, image: ImageLike) -> tuple[dict[str, NDArray[Any]], LetterboxInfo]:
        array, info = letterbox(to_rgb(image), self.letterbox)
        return {self.input.name: array}, info

    def decode(self, outputs: list[NDArray[Any]], context: Any) -> Predictions:
        self._decoder.check_outputs(outputs)
        return self._finish(self._decoder.candidates(outputs, self.score_threshold), context)

    def _finish(self, cand: Candidates, info: LetterboxInfo) -> Predictions:
        """NMS, back to original pixels, shapes."""
        boxes = info.to_original(cand.boxes)
        # drop boxes entirely outside the image (and NaN from a broken model: NaN > x is False)
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        idx = np.flatnonzero(valid)
        keep = idx[nms(cand.boxes[idx], cand.scores[idx], self.iou_threshold, cand.labels[idx], self.max_detections)]
        boxes, scores, labels = boxes[keep], np.clip(cand.scores[keep], 0.0, 1.0), cand.labels[keep]
        names = self.classes if self.classes else None
        label_of = [names[i] if names is not None else str(i) for i in labels.tolist()]
        probs: list[NDArray[np.float32] | None] = (
            list(cand.probs[keep]) if cand.probs is not None else [None] * len(keep)
        )
        shapes: list[Shape] = []
        if cand.coeffs is not None and cand.protos is not None:
            kept_probs: list[NDArray[np.float32] | None] = []
            for k, m in enumerate(masks(cand.coeffs[keep], cand.protos, boxes, info)):
                if m.any():  # a detection whose mask is empty has nothing to draw
                    shapes.append(Mask(m, label=label_of[k], score=float(scores[k])))
                    kept_probs.append(probs[k])
            return Predictions(shapes, kept_probs)
        xywh = np.column_stack([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]]).tolist()
        for (x, y, w, h), label, score in zip(xywh, label_of, scores.tolist(), strict=True):
            shapes.append(Box(x, y, w, h, label=label, score=score))
        return Predictions(shapes, probs)

    def run_batch(self, images: Sequence[ImageLike]) -> list[Predictions]:
        """Predictions for several images: one ``session.run`` per :data:`BATCH_SIZE` images when the model's
        batch dimension is dynamic, else one per image."""
        if not self.batch_dynamic or isinstance(self._decoder, BoxesScoresLabels):
            return super().run_batch(images)
        h, w = self.input_size
        results: list[Predictions] = []
        for start in range(0, len(images), BATCH_SIZE):
            chunk = [to_rgb(im) for im in images[start : start + BATCH_SIZE]]
            batch = np.empty((len(chunk), 3, h, w), dtype=self.letterbox.dtype)
            infos = [letterbox(rgb, self.letterbox, out=batch[i : i + 1])[1] for i, rgb in enumerate(chunk)]
            outputs = self._session_run({self.input.name: batch})
            results += [self.decode([o[i : i + 1] for o in outputs], info) for i, info in enumerate(infos)]
        return results
