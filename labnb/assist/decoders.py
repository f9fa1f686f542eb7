"""Turning raw detector outputs into candidate boxes, for the common ONNX export layouts.

Each decoder checks the output shapes first (the static ones when the model is loaded, the real ones at
every run) and raises :class:`~labnb.errors.ModelError` naming the expected and the actual shapes, so a
wrong ``decoder=`` fails at once instead of yielding nonsense boxes. Decoding thresholds on the score
before anything else: the box arithmetic runs only on the rows that survive.

Layouts (``C`` classes, ``N`` candidates, boxes in model-input pixels):

- ``yolox``: ``[1, N, 5+C]`` grid-relative cx, cy, log w, log h, objectness, class probabilities;
  ``N`` = the grid points of strides 8, 16, 32. Score = objectness x class probability.
- ``yolov5``: ``[1, N, 5+C]`` cx, cy, w, h, objectness, class probabilities.
- ``yolov8``: ``[1, 4+C, N]`` cx, cy, w, h, class probabilities (no objectness).
- ``yolov8-seg``: ``[1, 4+C+M, N]`` as yolov8 plus ``M`` mask coefficients, and prototypes ``[1, M, mh, mw]``.
- ``boxes_scores_labels``: ``boxes [N, 4]`` x0, y0, x1, y1, ``scores [N]``, ``labels [N]`` (integer class
  ids), each with or without a leading batch dimension of 1; found by name (box / score / label or class),
  else by position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from labnb.assist.preprocess import LetterboxInfo
from labnb.errors import ModelError

#: A shape as onnxruntime reports it: ints, or a name / None for a dynamic dimension.
Dims = Sequence[int | str | None]
F32 = NDArray[np.float32]


@dataclass
class Candidates:
    """Detections above the score threshold, before NMS, in model-input pixels."""

    boxes: F32  # (n, 4) x0, y0, x1, y1
    scores: F32  # (n,)
    labels: NDArray[np.intp]  # (n,)
    probs: F32 | None  # (n, C) per-class probabilities, or None
    coeffs: F32 | None = None  # (n, M) mask coefficients (segmentation)
    protos: F32 | None = None  # (M, mh, mw) mask prototypes (segmentation)


def fmt(dims: Dims) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else (d or "?") for d in dims) + "]"


def _fits(dims: Dims, pattern: Sequence[int | None]) -> bool:
    """Same rank and every static dimension equal to the pattern's (``None`` in the pattern: anything)."""
    if len(dims) != len(pattern):
        return False
    return all(p is None or not isinstance(d, int) or d == p for d, p in zip(dims, pattern, strict=True))


def _known(d: int | str | None) -> int | None:
    return d if isinstance(d, int) else None


class Decoder:
    """Base of the decoders: shape checks and messages; subclasses implement the layout."""

    name: ClassVar[str]
    #: Whether class names are needed (else labels are the class ids as strings).
    needs_classes: ClassVar[bool] = True

    def __init__(self, model: str, num_classes: int | None, input_hw: tuple[int, int], output_names: Sequence[str]):
        self.model = model
        self.num_classes = num_classes
        self.input_hw = input_hw
        self.output_names = list(output_names)

    # -- what subclasses provide
    def expected(self) -> str:
        """The expected outputs, in words, for messages."""
        raise NotImplementedError

    def patterns(self, shapes: Sequence[Dims]) -> list[list[int | None]] | None:
        """Expected shape of each output, or None when the output count is wrong."""
        raise NotImplementedError

    def classes_in(self, shapes: Sequence[Dims]) -> int | None:
        """The class count the outputs imply, when their layout fits apart from it."""
        return None

    def candidates(self, outputs: Sequence[NDArray[Any]], score_threshold: float) -> Candidates:
        raise NotImplementedError

    # -- shared
    def _c(self) -> str:
        return "C" if self.num_classes is None else f"C = {self.num_classes} classes"

    def check(self, shapes: Sequence[Dims]) -> None:
        """Raise ModelError unless ``shapes`` fit this decoder."""
        patterns = self.patterns(shapes)
        if patterns is not None and all(_fits(s, p) for s, p in zip(shapes, patterns, strict=True)):
            return
        got = fmt(shapes[0]) if len(shapes) == 1 else f"{len(shapes)} outputs " + ", ".join(fmt(s) for s in shapes)
        hint = ""
        implied = self.classes_in(shapes)
        if implied is not None and self.num_classes is not None and implied != self.num_classes:
            hint = f" (the output holds {implied} classes but {self.num_classes} class names were given)"
        raise ModelError(f"{self.model}: decoder '{self.name}' expects {self.expected()}, got {got}{hint}")

    def check_outputs(self, outputs: Sequence[NDArray[Any]]) -> None:
        self.check([tuple(int(d) for d in o.shape) for o in outputs])


def _boxes_from_centre(cxcywh: F32) -> F32:
    half = cxcywh[:, 2:4] * np.float32(0.5)
    return np.concatenate([cxcywh[:, 0:2] - half, cxcywh[:, 0:2] + half], axis=1)


def _best_class(probs: F32, score_threshold: float) -> tuple[NDArray[np.intp], F32, NDArray[np.bool_]]:
    labels = probs.argmax(axis=1)
    scores = np.take_along_axis(probs, labels[:, None], axis=1)[:, 0]
    return labels, scores, scores >= score_threshold


class Yolox(Decoder):
    name = "yolox"
    strides = (8, 16, 32)

    def __init__(self, model: str, num_classes: int | None, input_hw: tuple[int, int], output_names: Sequence[str]):
        super().__init__(model, num_classes, input_hw, output_names)
        h, w = input_hw
        grids, strides = [], []
        for s in self.strides:
            gy, gx = np.meshgrid(np.arange(h // s), np.arange(w // s), indexing="ij")
            grids.append(np.stack([gx.ravel(), gy.ravel()], axis=1))
            strides.append(np.full(gx.size, s))
        self.grid: F32 = np.concatenate(grids).astype(np.float32)
        self.stride: F32 = np.concatenate(strides).astype(np.float32)[:, None]

    def expected(self) -> str:
        h, w = self.input_hw
        return (
            f"one output [1, N, 5+C] with {self._c()} and N = {len(self.grid)} grid points "
            f"(strides 8, 16, 32 at {h}x{w})"
        )

    def patterns(self, shapes: Sequence[Dims]) -> list[list[int | None]] | None:
        c = self.num_classes
        return [[1, len(self.grid), None if c is None else 5 + c]] if len(shapes) == 1 else None

    def classes_in(self, shapes: Sequence[Dims]) -> int | None:
        if len(shapes) == 1 and _fits(shapes[0], [1, len(self.grid), None]) and (d := _known(shapes[0][2])):
            return d - 5
        return None

    def candidates(self, outputs: Sequence[NDArray[Any]], score_threshold: float) -> Candidates:
        out = outputs[0][0]
        # score = obj * cls <= obj: rows below the threshold on objectness alone are out already.
        rows = np.flatnonzero(out[:, 4] >= score_threshold)
        sub = out[rows]
        probs = sub[:, 5:] * sub[:, 4:5]
        labels, scores, ok = _best_class(probs, score_threshold)
        rows, sub, probs = rows[ok], sub[ok], probs[ok]
        stride = self.stride[rows]
        xy = (sub[:, 0:2] + self.grid[rows]) * stride
        wh = np.exp(sub[:, 2:4]) * stride
        boxes = _boxes_from_centre(np.concatenate([xy, wh], axis=1))
        return Candidates(boxes, scores[ok], labels[ok], probs)


class Yolov5(Decoder):
    name = "yolov5"

    def expected(self) -> str:
        return f"output 0 of shape [1, N, 5+C] with {self._c()}"

    def check(self, shapes: Sequence[Dims]) -> None:
        super().check(shapes)
        # YOLOX has the same [1, N, 5+C] layout but one prediction per grid cell where YOLOv5 has three
        # anchors per cell: decoding one as the other gives boxes in the wrong places without any error.
        h, w = self.input_hw
        cells = sum((h // s) * (w // s) for s in (8, 16, 32))
        if _known(shapes[0][1]) == cells:
            raise ModelError(
                f"{self.model}: output {fmt(shapes[0])} has N = {cells}, one prediction per grid cell at strides "
                f"8, 16, 32 ({h}x{w}): an anchor-free YOLOX head; a YOLOv5 head has 3 anchors per cell "
                f"(N = {3 * cells}). Use decoder='yolox'"
            )

    def patterns(self, shapes: Sequence[Dims]) -> list[list[int | None]] | None:
        if not shapes:
            return None
        c = self.num_classes
        # Older exports add the per-stride outputs after the merged one; only output 0 is read.
        return [[1, None, None if c is None else 5 + c]] + [[None] * len(s) for s in shapes[1:]]

    def classes_in(self, shapes: Sequence[Dims]) -> int | None:
        if shapes and _fits(shapes[0], [1, None, None]) and (d := _known(shapes[0][2])):
            n = _known(shapes[0][1])
            return d - 5 if d > 5 and (n is None or n > d) else None  # candidates outnumber channels
        return None

    def candidates(self, outputs: Sequence[NDArray[Any]], score_threshold: float) -> Candidates:
        out = outputs[0][0]
        rows = np.flatnonzero(out[:, 4] >= score_threshold)
        sub = out[rows]
        probs = sub[:, 5:] * sub[:, 4:5]
        labels, scores, ok = _best_class(probs, score_threshold)
        return Candidates(_boxes_from_centre(sub[ok, 0:4]), scores[ok], labels[ok], probs[ok])


class Yolov8(Decoder):
    name = "yolov8"

    def expected(self) -> str:
        return f"one output [1, 4+C, N] with {self._c()}"

    def patterns(self, shapes: Sequence[Dims]) -> list[list[int | None]] | None:
        c = self.num_classes
        return [[1, None if c is None else 4 + c, None]] if len(shapes) == 1 else None

    def classes_in(self, shapes: Sequence[Dims]) -> int | None:
        if len(shapes) == 1 and _fits(shapes[0], [1, None, None]) and (d := _known(shapes[0][1])):
            n = _known(shapes[0][2])
            return d - 4 if d > 4 and (n is None or n > d) else None  # candidates outnumber channels
        return None

    def check(self, shapes: Sequence[Dims]) -> None:
        try:
            super().check(shapes)
        except ModelError as exc:
            if len(shapes) == 2 and any(len(s) == 4 for s in shapes):
                raise ModelError(f"{exc} (two outputs with 4-D prototypes: use decoder='yolov8-seg')") from None
            raise

    @staticmethod
    def _rows(
        pred: NDArray[Any], score_threshold: float, n_masks: int = 0
    ) -> tuple[NDArray[Any], F32, NDArray[np.intp], F32]:
        """``pred`` ``(4+C+M, N)`` -> surviving columns as rows ``(k, 4+C+M)``, probs, labels, scores."""
        c = pred.shape[0] - 4 - n_masks
        best = pred[4 : 4 + c].max(axis=0)
        cols = np.flatnonzero(best >= score_threshold)
        sub = pred[:, cols].T
        probs = np.ascontiguousarray(sub[:, 4 : 4 + c])
        labels, scores, _ = _best_class(probs, score_threshold)
        return sub, probs, labels, scores

    def candidates(self, outputs: Sequence[NDArray[Any]], score_threshold: float) -> Candidates:
        sub, probs, labels, scores = self._rows(outputs[0][0], score_threshold)
        return Candidates(_boxes_from_centre(sub[:, 0:4]), scores, labels, probs)


class Yolov8Seg(Yolov8):
    name = "yolov8-seg"

    def _split(self, shapes: Sequence[Dims]) -> tuple[int, int]:
        """Indices of (predictions, prototypes): the 3-D and the 4-D output."""
        ranks = [len(s) for s in shapes]
        return (ranks.index(3), ranks.index(4)) if sorted(ranks) == [3, 4] else (0, 1)

    def expected(self) -> str:
        return f"two outputs [1, 4+C+M, N] with {self._c()} and prototypes [1, M, mh, mw]"

    def patterns(self, shapes: Sequence[Dims]) -> list[list[int | None]] | None:
        if len(shapes) != 2:
            return None
        ip, iq = self._split(shapes)
        m = _known(shapes[iq][1]) if len(shapes[iq]) == 4 else None
        c = self.num_classes
        out: list[list[int | None]] = [[], []]
        out[ip] = [1, None if c is None or m is None else 4 + c + m, None]
        out[iq] = [1, None, None, None]
        return out

    def classes_in(self, shapes: Sequence[Dims]) -> int | None:
        if len(shapes) != 2:
            return None
        ip, iq = self._split(shapes)
        d, m = _known(shapes[ip][1]) if len(shapes[ip]) == 3 else None, _known(shapes[iq][1])
        return d - 4 - m if d is not None and m is not None and len(shapes[iq]) == 4 else None

    def check(self, shapes: Sequence[Dims]) -> None:
        Decoder.check(self, shapes)

    def candidates(self, outputs: Sequence[NDArray[Any]], score_threshold: float) -> Candidates:
        ip, iq = self._split([o.shape for o in outputs])
        protos = outputs[iq][0]
        n_masks = protos.shape[0]
        sub, probs, labels, scores = self._rows(outputs[ip][0], score_threshold, n_masks)
        boxes = _boxes_from_centre(sub[:, 0:4])
        coeffs = np.ascontiguousarray(sub[:, sub.shape[1] - n_masks :])
        return Candidates(boxes, scores, labels, probs, coeffs, protos)


class BoxesScoresLabels(Decoder):
    name = "boxes_scores_labels"
    needs_classes = False

    def _order(self, n: int) -> tuple[int, int, int]:
        """Indices of the boxes, scores and labels outputs: by name when the names say, else by position."""
        names = [s.lower() for s in self.output_names[:n]]
        found = []
        for keys in (("box",), ("score", "conf"), ("label", "class")):
            hits = [i for i, nm in enumerate(names) if any(k in nm for k in keys)]
            found.append(hits[0] if len(hits) == 1 else -1)
        return (found[0], found[1], found[2]) if sorted(found) == [0, 1, 2] else (0, 1, 2)

    def expected(self) -> str:
        return "three outputs boxes [N, 4], scores [N], labels [N] (each optionally with a batch dimension 1)"

    def patterns(self, shapes: Sequence[Dims]) -> list[list[int | None]] | None:
        if len(shapes) != 3:
            return None
        ib, isc, il = self._order(3)
        out: list[list[int | None]] = [[], [], []]
        batched = len(shapes[ib]) == 3
        out[ib] = [1, None, 4] if batched else [None, 4]
        out[isc] = [1, None] if batched else [None]
        out[il] = [1, None] if batched else [None]
        n = _known(shapes[ib][-2]) if len(shapes[ib]) >= 2 else None
        if n is not None:  # all three must agree on N
            for i in (isc, il):
                out[i][-1] = n
        return out

    def candidates(self, outputs: Sequence[NDArray[Any]], score_threshold: float) -> Candidates:
        ib, isc, il = self._order(3)
        boxes = np.asarray(outputs[ib], dtype=np.float32).reshape(-1, 4)
        scores = np.asarray(outputs[isc], dtype=np.float32).reshape(-1)
        labels = np.asarray(outputs[il]).reshape(-1)
        ok = scores >= score_threshold
        boxes, scores, labels = boxes[ok], scores[ok], labels[ok]
        if labels.size and (np.any(labels < 0) or np.any(labels != np.round(labels))):
            raise ModelError(f"{self.model}: labels must be non-negative integer class ids, got {labels[:5]!r}")
        ids = labels.astype(np.intp)
        if self.num_classes is not None and ids.size and int(ids.max()) >= self.num_classes:
            raise ModelError(
                f"{self.model}: the model gave class id {int(ids.max())}, outside the {self.num_classes} classes given"
            )
        if scores.size and (float(scores.max()) > 1.0 + 1e-4 or float(scores.min()) < -1e-4):
            raise ModelError(f"{self.model}: scores must be in [0, 1], got {float(scores.max()):g}")
        return Candidates(boxes, np.clip(scores, 0.0, 1.0), ids, None)


DECODERS: dict[str, type[Decoder]] = {d.name: d for d in (Yolox, Yolov5, Yolov8, Yolov8Seg, BoxesScoresLabels)}


def masks(coeffs: F32, protos: F32, boxes: NDArray[np.float64], info: LetterboxInfo) -> list[NDArray[np.bool_]]:
    """Instance masks in original pixels for kept detections.

    ``mask = sigmoid(coeffs @ protos) > 0.5``, i.e. the logit > 0, so no sigmoid is computed. Each mask's
    logits are resampled (bilinear) straight from prototype space to the box's pixels in the original image
    (the letterbox undone in the same step) and everything outside the box is 0.
    """
    m, mh, mw = protos.shape
    logits = (coeffs @ protos.reshape(m, -1)).reshape(-1, mh, mw)
    # original pixel -> prototype coordinate: (x * r + pad) * proto_size / input_size
    sx, sy = mw / info.input_width, mh / info.input_height
    out = []
    for k in range(len(boxes)):
        x0, y0, x1, y1 = boxes[k]
        ix0, iy0 = int(np.floor(x0)), int(np.floor(y0))
        ix1, iy1 = int(np.ceil(x1)), int(np.ceil(y1))
        full = np.zeros((info.height, info.width), dtype=bool)
        if ix1 > ix0 and iy1 > iy0:
            src = (
                (ix0 * info.ratio + info.pad_x) * sx,
                (iy0 * info.ratio + info.pad_y) * sy,
                (ix1 * info.ratio + info.pad_x) * sx,
                (iy1 * info.ratio + info.pad_y) * sy,
            )
            im = Image.fromarray(np.ascontiguousarray(logits[k], dtype=np.float32))
            patch = np.asarray(im.resize((ix1 - ix0, iy1 - iy0), Image.Resampling.BILINEAR, box=src)) > 0
            # keep pixels whose centre lies in the (fractional) box
            xs = np.arange(ix0, ix1) + 0.5
            ys = np.arange(iy0, iy1) + 0.5
            inside = ((ys >= y0) & (ys <= y1))[:, None] & ((xs >= x0) & (xs <= x1))[None, :]
            full[iy0:iy1, ix0:ix1] = patch & inside
        out.append(full)
    return out
