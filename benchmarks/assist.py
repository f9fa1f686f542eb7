"""Model-assist benchmark: what labnb adds around a detector's ``session.run``.

YOLOX-Nano (``labnb/sample/models/yolox_nano.onnx``, 416x416) on the 41 COCO photos of
``tests/data/coco_tiny_ccby``, decoded to RGB arrays up front (JPEG decoding is not counted).

Measures, on this machine:
- ``preprocess_ms``, ``session_run_ms``, ``decode_ms``: median per image over all images and a few
  repeats, after warm-up, of ``OnnxDetector.preprocess`` (letterbox), the raw ``session.run`` and
  ``OnnxDetector.decode`` (threshold, box arithmetic, NMS, labnb shapes);
- ``overhead_vs_session_run``: ``(preprocess + decode) / session.run`` with the default letterbox
  (Pillow's antialiased bilinear resize), and ``overhead_vs_session_run_nearest`` with
  ``resample="nearest"``;
- ``throughput_images_per_s``: images per second through ``OnnxDetector.run_batch`` over all images
  (median of rounds; yolox_nano has a fixed batch of 1, so run_batch runs image by image);
- ``throughput_vs_plain_loop``: that over the throughput of a plain loop written here the way a user
  without labnb would (numpy/Pillow letterbox, ``session.run`` on its own session, a straightforward
  numpy YOLOX decode and NMS), as the median ratio of rounds run in alternation.

Usage: ``python benchmarks/assist.py [--images N] [--repeats N]``. Progress goes to stderr; the last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from PIL import Image

from labnb.assist import OnnxDetector
from labnb.sample import MODELS

MODEL = MODELS / "yolox_nano.onnx"
NAMES = MODELS / "yolox_coco_classes.txt"
IMAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "coco_tiny_ccby" / "images"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the plain loop a user would write


class PlainYolox:
    """YOLOX-Nano by hand: letterbox, run, decode, NMS; no labnb."""

    def __init__(self, path: Path, size: int = 416, conf: float = 0.05, iou: float = 0.5) -> None:
        self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        self.size, self.conf, self.iou = size, conf, iou
        grids, strides = [], []
        for s in (8, 16, 32):
            ys, xs = np.mgrid[0 : size // s, 0 : size // s]
            grids.append(np.stack([xs.ravel(), ys.ravel()], 1))
            strides.append(np.full(xs.size, s))
        self.grid = np.concatenate(grids).astype(np.float32)
        self.stride = np.concatenate(strides).astype(np.float32)[:, None]

    def __call__(self, rgb: np.ndarray) -> list[tuple[float, float, float, float, int, float]]:
        h, w = rgb.shape[:2]
        r = min(self.size / h, self.size / w)
        small = np.asarray(Image.fromarray(rgb).resize((round(w * r), round(h * r)), Image.Resampling.BILINEAR))
        x = np.full((1, 3, self.size, self.size), 114, np.float32)
        x[0, :, : small.shape[0], : small.shape[1]] = small[..., ::-1].transpose(2, 0, 1)
        out = self.session.run(None, {"images": x})[0][0]
        xy = (out[:, :2] + self.grid) * self.stride
        wh = np.exp(out[:, 2:4]) * self.stride
        probs = out[:, 5:] * out[:, 4:5]
        cls, score = probs.argmax(1), probs.max(1)
        ok = score >= self.conf
        boxes = (np.concatenate([xy - wh / 2, xy + wh / 2], 1) / r)[ok]
        cls, score = cls[ok], score[ok]
        keep = self.nms(boxes + cls[:, None] * 4096.0, score)
        boxes = np.clip(boxes[keep], 0, [w, h, w, h])
        return [(*map(float, b), int(c), float(s)) for b, c, s in zip(boxes, cls[keep], score[keep], strict=True)]

    def nms(self, boxes: np.ndarray, scores: np.ndarray) -> list[int]:
        order = scores.argsort()[::-1]
        area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        keep = []
        while order.size:
            i = order[0]
            keep.append(int(i))
            rest = order[1:]
            iw = np.clip(np.minimum(boxes[i, 2], boxes[rest, 2]) - np.maximum(boxes[i, 0], boxes[rest, 0]), 0, None)
            ih = np.clip(np.minimum(boxes[i, 3], boxes[rest, 3]) - np.maximum(boxes[i, 1], boxes[rest, 1]), 0, None)
            inter = iw * ih
            order = rest[inter / (area[i] + area[rest] - inter) <= self.iou]
        return keep


# ---------------------------------------------------------------- measurements


def components(det: OnnxDetector, images: list[np.ndarray], repeats: int) -> dict[str, float]:
    """Median ms of preprocess, session.run and decode per image."""
    pre, run, dec, found = [], [], [], []
    for rgb in images[:5]:  # warm-up
        inputs, info = det.preprocess(rgb)
        det.decode(det.session.run(None, inputs), info)
    for _ in range(repeats):
        for rgb in images:
            t0 = time.perf_counter()
            inputs, info = det.preprocess(rgb)
            t1 = time.perf_counter()
            outputs = det.session.run(None, inputs)
            t2 = time.perf_counter()
            pred = det.decode(outputs, info)
            t3 = time.perf_counter()
            pre.append(t1 - t0)
            run.append(t2 - t1)
            dec.append(t3 - t2)
            found.append(len(pred.shapes))
    return {
        "preprocess_ms": statistics.median(pre) * 1e3,
        "session_run_ms": statistics.median(run) * 1e3,
        "decode_ms": statistics.median(dec) * 1e3,
        "detections_per_image": statistics.median(found),
    }


def paired_throughput(ours: Any, theirs: Any, images: list[np.ndarray], repeats: int) -> tuple[float, float, float]:
    """Median images/s of each and the median of the per-round ratios, the two run in alternation.

    Alternating and pairing rounds keeps a burst of load from another process on this shared machine
    from landing on one side only.
    """
    ours(images[:3])
    theirs(images[:3])
    a, b, ratios = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours(images)
        t1 = time.perf_counter()
        theirs(images)
        t2 = time.perf_counter()
        a.append(len(images) / (t1 - t0))
        b.append(len(images) / (t2 - t1))
        ratios.append((t2 - t1) / (t1 - t0))
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=0, help="use the first N images (default: all)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    files = sorted(IMAGES.glob("*.jpg"))
    if args.images:
        files = files[: args.images]
    images = [np.ascontiguousarray(np.asarray(Image.open(f).convert("RGB"))) for f in files]
    sizes = sorted({im.shape[:2] for im in images})
    log(f"{len(images)} images decoded, {len(sizes)} sizes ({sizes[0]} .. {sizes[-1]})")

    det = OnnxDetector(MODEL, "yolox", classes=NAMES)
    fast = OnnxDetector(MODEL, "yolox", classes=NAMES, letterbox=dataclasses.replace(det.letterbox, resample="nearest"))
    plain = PlainYolox(MODEL)

    comp = components(det, images, args.repeats)
    log(
        "default letterbox: preprocess {preprocess_ms:.3f} ms, session.run {session_run_ms:.3f} ms, "
        "decode {decode_ms:.3f} ms".format(**comp)
    )
    comp_fast = components(fast, images, args.repeats)
    log(
        "resample='nearest': preprocess {preprocess_ms:.3f} ms, session.run {session_run_ms:.3f} ms, "
        "decode {decode_ms:.3f} ms".format(**comp_fast)
    )

    ours_ips, plain_ips, ratio = paired_throughput(
        det.run_batch, lambda ims: [plain(im) for im in ims], images, max(args.repeats, 5)
    )
    log(f"run_batch {ours_ips:.1f} images/s, plain loop {plain_ips:.1f} images/s, ratio {ratio:.3f}")

    result = {
        "images": len(images),
        "input_size": list(det.input_size),
        "preprocess_ms": round(comp["preprocess_ms"], 4),
        "session_run_ms": round(comp["session_run_ms"], 4),
        "decode_ms": round(comp["decode_ms"], 4),
        "detections_per_image": comp["detections_per_image"],
        "overhead_vs_session_run": round((comp["preprocess_ms"] + comp["decode_ms"]) / comp["session_run_ms"], 4),
        "preprocess_ms_nearest": round(comp_fast["preprocess_ms"], 4),
        "session_run_ms_nearest": round(comp_fast["session_run_ms"], 4),
        "overhead_vs_session_run_nearest": round(
            (comp_fast["preprocess_ms"] + comp_fast["decode_ms"]) / comp_fast["session_run_ms"], 4
        ),
        "throughput_images_per_s": round(ours_ips, 2),
        "plain_loop_images_per_s": round(plain_ips, 2),
        "throughput_vs_plain_loop": round(ratio, 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
