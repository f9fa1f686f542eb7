"""The model half of model-assisted labelling, on a real detector and real photos.

YOLOX-Nano (the one ``labnb.sample`` ships) runs through onnxruntime on the COCO photos of tests/data; the other
decoders run on small real ONNX graphs built here with ``onnx.helper`` whose outputs hold known boxes, so
each layout's arithmetic (letterbox undone, NMS, masks) is checked against numbers worked out by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from PIL import Image
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

import labnb as lb
from labnb.assist import Letterbox, OnnxDetector, OnnxModel, Predictions, map_classes, nms
from labnb.assist.image import to_rgb
from labnb.errors import AssetError, ModelError, SchemaError
from labnb.geometry import box_iou
from labnb.sample import MODELS

# ----------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def model_path() -> Path:
    return MODELS / "yolox_nano.onnx"


@pytest.fixture(scope="module")
def names_file() -> Path:
    return MODELS / "yolox_coco_classes.txt"


@pytest.fixture(scope="module")
def coco_dir(repo_data: Path) -> Path:
    return repo_data / "coco_tiny_ccby"


@pytest.fixture(scope="module")
def yolox(model_path: Path, names_file: Path) -> OnnxDetector:
    return OnnxDetector(model_path, "yolox", classes=names_file)


@pytest.fixture(scope="module")
def instances(coco_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((coco_dir / "instances.json").read_text())
    return data


def _gt_box(instances: dict[str, Any], file_name: str, category: str) -> list[float]:
    image = next(i for i in instances["images"] if i["file_name"] == file_name)
    cat = next(c["id"] for c in instances["categories"] if c["name"] == category)
    boxes = [a["bbox"] for a in instances["annotations"] if a["image_id"] == image["id"] and a["category_id"] == cat]
    assert len(boxes) == 1
    return [float(v) for v in boxes[0]]


def _iou(a: tuple[float, ...] | list[float], b: tuple[float, ...] | list[float]) -> float:
    return float(box_iou(np.array([a]), np.array([b]))[0, 0])


def _summary(shapes: list[lb.Shape]) -> list[tuple[str | None, float | None, tuple[float, ...]]]:
    return [(s.label, s.score, tuple(round(v, 2) for v in s.bbox)) for s in shapes]


# ------------------------------------------------------------------------------------ 1. accuracy on COCO


def test_yolox_coco_ap_matches_published_accuracy(model_path: Path, names_file: Path, coco_dir: Path) -> None:
    """COCOeval bbox of YOLOX-Nano on the 41 COCO photos: AP 0.314, AP50 0.518 measured (the published
    reference decoding gave AP 0.308 / AP50 0.475 on 80 val2017 images).

    The bounds reject each preprocessing or decoding mistake tried on purpose (AP / AP50 seen):
    RGB fed instead of BGR 0.266 / 0.419; image padded centred but boxes mapped back as if top-left
    0.025 / 0.072; input scaled to 0..1 (ultralytics style) no detection at all; stride 16 used for
    every level 0.167 / 0.289; strides in reverse order 0.072 / 0.130; grid x and y swapped
    0.056 / 0.107. A centred letterbox applied *consistently* only costs 0.306 / 0.492 (the network is
    almost translation-invariant), so YOLOX's top-left placement is pinned by
    ``test_yolox_input_is_bgr_top_left_0_255`` instead.
    """
    det = OnnxDetector(model_path, classes=names_file, score_threshold=0.001, max_detections=100)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(coco_dir / "instances.json"))
    cat_ids = {c["name"]: c["id"] for c in gt.dataset["categories"]}
    to_project, unmapped = map_classes(det.classes, list(cat_ids))
    assert unmapped == []
    results = []
    for image in gt.dataset["images"]:
        for shape in det.predict(coco_dir / "images" / image["file_name"]):
            assert isinstance(shape, lb.Box)
            assert shape.label is not None
            assert shape.score is not None
            results.append(
                {
                    "image_id": image["id"],
                    "category_id": cat_ids[to_project[shape.label]],
                    "bbox": list(shape.bbox),
                    "score": shape.score,
                }
            )
    assert results, "no detections at all"
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(gt, gt.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    ap, ap50 = evaluation.stats[0], evaluation.stats[1]
    assert 0.29 <= ap <= 0.40, f"AP {ap:.3f}"
    assert ap50 >= 0.47, f"AP50 {ap50:.3f}"


def test_yolox_input_is_bgr_top_left_0_255(yolox: OnnxDetector) -> None:
    rgb = np.zeros((208, 416, 3), np.uint8)  # ratio 1: no resampling, pixels pass through unchanged
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 10, 20, 30
    inputs, info = yolox.preprocess(rgb)
    x = inputs["images"]
    assert x.shape == (1, 3, 416, 416)
    assert x.dtype == np.float32
    assert (info.pad_x, info.pad_y, info.ratio) == (0, 0, 1.0)
    assert x[0, :, :208].reshape(3, -1).mean(axis=1).tolist() == [30, 20, 10]  # B, G, R
    assert np.all(x[0, :, 208:] == 114)  # padding below the image only


# ------------------------------------------------------------------------------------ 2. one photo


@pytest.mark.parametrize(
    ("file_name", "model_label", "category"),
    [("000000343937.jpg", "person", "person"), ("000000208901.jpg", "aeroplane", "airplane")],
)
def test_top_detection_is_the_subject(
    yolox: OnnxDetector, coco_dir: Path, instances: dict[str, Any], file_name: str, model_label: str, category: str
) -> None:
    pred = yolox.run(coco_dir / "images" / file_name)
    assert isinstance(pred, Predictions)
    assert len(pred.shapes) == len(pred.probs)
    top = pred.shapes[0]
    assert top.label == model_label
    assert top.score is not None
    assert top.score > 0.8
    assert _iou(top.bbox, _gt_box(instances, file_name, category)) >= 0.7
    assert [s.score for s in pred.shapes] == sorted((s.score for s in pred.shapes), reverse=True)
    probs = pred.probs[0]
    assert probs is not None
    assert probs.dtype == np.float32
    assert probs.shape == (80,)
    assert yolox.classes[int(probs.argmax())] == model_label
    assert float(probs.max()) == pytest.approx(top.score, rel=1e-5)
    assert yolox.predict(coco_dir / "images" / file_name) == pred.shapes


# ------------------------------------------------------------------------------------ 3. image kinds


def test_grayscale_and_rgba_give_the_same_detections(yolox: OnnxDetector, coco_dir: Path) -> None:
    photo = Image.open(coco_dir / "images" / "000000343937.jpg")
    rgb = yolox.predict(photo)
    rgba = yolox.predict(np.asarray(photo.convert("RGBA")))
    assert _summary(rgba) == _summary(rgb)  # alpha dropped, nothing else changes
    png = io.BytesIO()
    photo.convert("RGBA").save(png, format="PNG")
    assert _summary(yolox.predict(png.getvalue())) == _summary(rgb)
    for gray in (np.asarray(photo.convert("L")), photo.convert("L")):
        shapes = yolox.predict(gray)
        assert shapes[0].label == rgb[0].label == "person"
        assert _iou(shapes[0].bbox, rgb[0].bbox) > 0.95
        assert shapes[0].score == pytest.approx(rgb[0].score, abs=0.05)


def test_image_smaller_than_the_input_comes_back_in_its_own_pixels(
    yolox: OnnxDetector, coco_dir: Path, instances: dict[str, Any]
) -> None:
    gx, gy, gw, gh = _gt_box(instances, "000000208901.jpg", "airplane")
    left, top = 230, 142
    crop = np.asarray(Image.open(coco_dir / "images" / "000000208901.jpg"))[top : top + 150, left : left + 200]
    assert crop.shape == (150, 200, 3)
    pred = yolox.run(crop)
    assert pred.shapes[0].label == "aeroplane"
    assert _iou(pred.shapes[0].bbox, (gx - left, gy - top, gw, gh)) >= 0.7
    for s in pred.shapes:
        x, y, w, h = s.bbox
        assert x >= 0
        assert y >= 0
        assert x + w <= 200 + 1e-9
        assert y + h <= 150 + 1e-9


def test_to_rgb_kinds_and_bad_bytes(tmp_path: Path) -> None:
    gray16 = (np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000).astype(np.uint16)
    out = to_rgb(gray16)
    assert out.shape == (3, 4, 3)
    assert out.dtype == np.uint8
    assert out.flags.c_contiguous
    assert out[0, 0].tolist() == [0, 0, 0]
    assert out[-1, -1].tolist() == [255, 255, 255]
    floats = np.full((2, 2, 3), 0.5)
    assert to_rgb(floats)[0, 0].tolist() == [128, 128, 128]
    with pytest.raises(AssetError, match=r"scan\.jpg"):
        to_rgb(b"\xff\xd8\xff\xe0 not really a jpeg", name="scan.jpg")
    with pytest.raises(AssetError, match=r"missing\.png: image file not found"):
        to_rgb(tmp_path / "missing.png")
    with pytest.raises(AssetError, match=r"\(h, w\)"):
        to_rgb(np.zeros((4, 4, 2), np.uint8))


# ------------------------------------------------------------------------------------ 4. OnnxModel


def test_onnx_model_with_user_code_matches_the_detector(yolox: OnnxDetector, model_path: Path, coco_dir: Path) -> None:
    """What a user writes to plug in a model labnb has no decoder for (here YOLOX, by hand)."""

    def preprocess(rgb: np.ndarray) -> tuple[dict[str, np.ndarray], Any]:
        h, w = rgb.shape[:2]
        r = min(416 / h, 416 / w)
        small = np.asarray(Image.fromarray(rgb).resize((round(w * r), round(h * r)), Image.Resampling.BILINEAR))
        x = np.full((1, 3, 416, 416), 114, np.float32)
        x[0, :, : small.shape[0], : small.shape[1]] = small[..., ::-1].transpose(2, 0, 1)  # BGR
        return {"images": x}, (r, w, h)

    def decode(outputs: list[np.ndarray], context: Any) -> list[lb.Shape]:
        r, w, h = context
        out = outputs[0][0]
        grid = np.concatenate(
            [np.stack(np.mgrid[0 : 416 // s, 0 : 416 // s][::-1], -1).reshape(-1, 2) for s in (8, 16, 32)]
        )
        stride = np.concatenate([np.full((416 // s) ** 2, s) for s in (8, 16, 32)])[:, None]
        xy, wh = (out[:, :2] + grid) * stride, np.exp(out[:, 2:4]) * stride
        probs = out[:, 5:] * out[:, 4:5]
        cls, score = probs.argmax(1), probs.max(1)
        boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1) / r
        ok = score >= 0.05
        boxes, score, cls = boxes[ok], score[ok], cls[ok]
        keep = nms(boxes, score, 0.5, cls)
        boxes = np.clip(boxes[keep], 0, [w, h, w, h])
        return [
            lb.Box(x0, y0, x1 - x0, y1 - y0, label=yolox.classes[c], score=float(s))
            for (x0, y0, x1, y1), c, s in zip(boxes, cls[keep], score[keep], strict=True)
            if x1 > x0 and y1 > y0
        ]

    mine = OnnxModel(model_path, preprocess, decode, name="hand-made")
    assert mine.name == "hand-made"
    assert mine.version == yolox.version
    assert mine.classes == []
    for file_name in ("000000343937.jpg", "000000208901.jpg", "000000005001.jpg"):
        photo = coco_dir / "images" / file_name
        got, want = mine.run(photo), yolox.run(photo)
        assert got.probs == [None] * len(got.shapes)
        assert [s.label for s in got.shapes] == [s.label for s in want.shapes]
        np.testing.assert_allclose([s.bbox for s in got.shapes], [s.bbox for s in want.shapes], atol=1e-3)
        np.testing.assert_allclose([s.score for s in got.shapes], [s.score for s in want.shapes], rtol=1e-6)


def test_identity_and_batch(yolox: OnnxDetector, model_path: Path, coco_dir: Path) -> None:
    assert yolox.name == "yolox_nano"
    assert yolox.version == "695e750a5d57"
    assert yolox.path == model_path
    assert len(yolox.classes) == 80
    assert yolox.classes[3] == "motorbike"
    assert yolox.session.get_inputs()[0].name == "images"
    photos = [coco_dir / "images" / f for f in ("000000343937.jpg", "000000208901.jpg")]
    batch = yolox.run_batch(photos)
    assert [_summary(p.shapes) for p in batch] == [_summary(yolox.predict(p)) for p in photos]


# ------------------------------------------------------------------------------------ 5. errors


def test_model_errors_name_the_file_and_the_problem(model_path: Path, names_file: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nowhere\.onnx: model file not found"):
        OnnxDetector(tmp_path / "nowhere.onnx", classes=names_file)
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelError, match=r"corrupt\.onnx: not a valid ONNX model"):
        OnnxDetector(corrupt, classes=names_file)
    with pytest.raises(ModelError, match=r"corrupt\.onnx"):
        OnnxModel(corrupt, lambda rgb: ({}, None), lambda outputs, ctx: [])
    expected = "yolox_nano.onnx: decoder 'yolov8' expects one output [1, 4+C, N] with C = 80 classes, got [1, 3549, 85]"
    with pytest.raises(ModelError) as err:
        OnnxDetector(model_path, "yolov8", classes=names_file)
    assert str(err.value) == expected
    # the same [1, N, 5+C] layout as YOLOv5: told apart by N (one prediction per cell, not three anchors)
    with pytest.raises(ModelError, match=r"anchor-free YOLOX head.*N = 10647\)\. Use decoder='yolox'"):
        OnnxDetector(model_path, "yolov5", classes=names_file)
    with pytest.raises(ModelError, match=r"holds 80 classes but 20 class names were given"):
        OnnxDetector(model_path, "yolox", classes=[f"c{i}" for i in range(20)])
    with pytest.raises(ModelError, match=r"unknown decoder 'yolo'.*'yolov8-seg', 'yolox'"):
        OnnxDetector(model_path, "yolo", classes=names_file)
    with pytest.raises(ModelError, match=r"needs the class names"):
        OnnxDetector(model_path, "yolox")
    with pytest.raises(ModelError, match=r"input_size \(320, 320\) differs"):
        OnnxDetector(model_path, classes=names_file, input_size=320)


def test_dynamic_input_needs_a_size(tmp_path: Path) -> None:
    path = _constant_model(tmp_path / "dyn.onnx", _bsl_outputs(), input_shape=[1, 3, "h", "w"])
    with pytest.raises(ModelError, match=r"dyn\.onnx: the input images \[1, 3, h, w\] has a dynamic size"):
        OnnxDetector(path, "boxes_scores_labels")
    det = OnnxDetector(path, "boxes_scores_labels", input_size=(320, 320))
    assert det.input_size == (320, 320)


# ------------------------------------------------------------------------------------ 6. other decoders
#
# A 640x480 image into a 320x320 input: r = 0.5, scaled to 320x240, centred: pad_x 0, pad_y 40.
# Original box (x0, y0, x1, y1) -> input (x0 / 2, y0 / 2 + 40, x1 / 2, y1 / 2 + 40).

CLASSES = ["cat", "dog", "bird"]
LANDSCAPE = np.full((480, 640, 3), 90, np.uint8)


def _constant_model(
    path: Path, outputs: dict[str, np.ndarray], input_shape: list[Any] | None = None, *, batch: bool = False
) -> Path:
    """An ONNX model whose outputs are the given arrays; with ``batch``, repeated along a dynamic batch."""
    shape: list[Any] = input_shape or (["batch", 3, 320, 320] if batch else [1, 3, 320, 320])
    nodes, infos = [], []
    for name, value in outputs.items():
        const = name if not batch else f"{name}_one"
        nodes.append(helper.make_node("Constant", [], [const], value=numpy_helper.from_array(value, f"{name}_v")))
        if batch:  # Expand [1, ...] to [batch, ...]
            rest = numpy_helper.from_array(np.array(value.shape[1:], np.int64), f"{name}_rest")
            nodes += [
                helper.make_node("Shape", ["images"], [f"{name}_s"], start=0, end=1),
                helper.make_node("Constant", [], [f"{name}_r"], value=rest),
                helper.make_node("Concat", [f"{name}_s", f"{name}_r"], [f"{name}_shape"], axis=0),
                helper.make_node("Expand", [const, f"{name}_shape"], [name]),
            ]
        dims: list[Any] = list(value.shape) if not batch else ["batch", *value.shape[1:]]
        dtype = helper.np_dtype_to_tensor_dtype(value.dtype)
        infos.append(helper.make_tensor_value_info(name, dtype, dims))
    graph = helper.make_graph(nodes, "test", [helper.make_tensor_value_info("images", TensorProto.FLOAT, shape)], infos)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def _cxcywh(x0: float, y0: float, x1: float, y1: float, pad_x: float = 0, pad_y: float = 40) -> list[float]:
    """Original xyxy -> input cx, cy, w, h for r = 0.5."""
    a, b, c, d = x0 / 2 + pad_x, y0 / 2 + pad_y, x1 / 2 + pad_x, y1 / 2 + pad_y
    return [(a + c) / 2, (b + d) / 2, c - a, d - b]


# candidates: (original xyxy, class probabilities)
_CANDIDATES = [
    ((100, 80, 300, 240), [0.0, 0.9, 0.0]),  # dog
    ((108, 80, 308, 240), [0.0, 0.8, 0.0]),  # the same dog shifted 8 px: IoU 0.92, suppressed
    ((100, 80, 300, 240), [0.7, 0.0, 0.0]),  # a cat on the dog: another class, kept
    ((500, 300, 700, 460), [0.0, 0.0, 0.6]),  # a bird running off the right edge: clipped at 640
    ((20, 20, 60, 60), [0.01, 0.01, 0.01]),  # below the score threshold
]
_EXPECTED = [
    ("dog", 0.9, (100.0, 80.0, 200.0, 160.0)),
    ("cat", 0.7, (100.0, 80.0, 200.0, 160.0)),
    ("bird", 0.6, (500.0, 300.0, 140.0, 160.0)),
]


def _check(shapes: list[lb.Shape], expected: list[tuple[str, float, tuple[float, ...]]]) -> None:
    assert [s.label for s in shapes] == [e[0] for e in expected]
    np.testing.assert_allclose([s.score for s in shapes], [e[1] for e in expected], rtol=1e-5)
    np.testing.assert_allclose([s.bbox for s in shapes], [e[2] for e in expected], atol=1e-3)


def test_yolov8_boxes_land_in_original_pixels_after_centred_letterbox(tmp_path: Path) -> None:
    pred = np.array([_cxcywh(*box) + probs for box, probs in _CANDIDATES], np.float32).T[None]  # [1, 4+C, N]
    det = OnnxDetector(_constant_model(tmp_path / "v8.onnx", {"output0": pred}), "yolov8", classes=CLASSES)
    result = det.run(LANDSCAPE)
    _check(result.shapes, _EXPECTED)
    np.testing.assert_allclose(result.probs[0], [0.0, 0.9, 0.0], rtol=1e-6)  # v8: class probabilities


def test_yolov8_preprocess_is_rgb_centred_0_1(tmp_path: Path) -> None:
    pred = np.array([_cxcywh(*box) + probs for box, probs in _CANDIDATES], np.float32).T[None]
    det = OnnxDetector(_constant_model(tmp_path / "v8.onnx", {"output0": pred}), "yolov8", classes=CLASSES)
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[..., 0] = 255
    x = det.preprocess(rgb)[0]["images"]
    assert x.shape == (1, 3, 320, 320)
    np.testing.assert_allclose(x[0, :, 40:280].reshape(3, -1).mean(axis=1), [1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(x[0, :, :40], 114 / 255, rtol=1e-6)  # padding above and below
    np.testing.assert_allclose(x[0, :, 280:], 114 / 255, rtol=1e-6)


def test_yolov5_portrait_image(tmp_path: Path) -> None:
    # a 480x640 portrait: r = 0.5, scaled to 240x320, pad_x 40, pad_y 0
    rows = []
    for (x0, y0, x1, y1), probs in _CANDIDATES:  # the landscape boxes transposed, objectness 1
        rows.append([*_cxcywh(y0, x0, y1, x1, pad_x=40, pad_y=0), 1.0, *probs])
    pred = np.array(rows, np.float32)[None]  # [1, N, 5+C]
    det = OnnxDetector(_constant_model(tmp_path / "v5.onnx", {"output0": pred}), "yolov5", classes=CLASSES)
    shapes = det.predict(np.zeros((640, 480, 3), np.uint8))
    expected = [
        ("dog", 0.9, (80.0, 100.0, 160.0, 200.0)),
        ("cat", 0.7, (80.0, 100.0, 160.0, 200.0)),
        ("bird", 0.6, (300.0, 500.0, 160.0, 140.0)),
    ]
    _check(shapes, expected)


def test_yolov8_seg_masks_come_out_where_expected(tmp_path: Path) -> None:
    # 2 prototypes of 80x80 (input / 4). Prototype 0 is positive on input x 40..120, y 80..140, i.e.
    # original x 80..240, y 80..200; the dog's box is original x 100..300, y 80..240, so its mask is
    # the overlap x 100..240, y 80..200. Prototype 1 is positive everywhere (used by the cat).
    protos = np.full((1, 2, 80, 80), -8.0, np.float32)
    protos[0, 0, 20:35, 10:30] = 8.0
    protos[0, 1] = 8.0
    coeffs = {0: [1.0, 0.0], 1: [1.0, 0.0], 2: [0.0, 1.0], 3: [0.0, 1.0], 4: [0.0, 1.0]}
    pred = np.array([_cxcywh(*box) + probs + coeffs[i] for i, (box, probs) in enumerate(_CANDIDATES)], np.float32)
    path = _constant_model(tmp_path / "seg.onnx", {"output0": pred.T[None], "output1": protos})
    with pytest.raises(ModelError, match=r"use decoder='yolov8-seg'"):
        OnnxDetector(path, "yolov8", classes=CLASSES)
    det = OnnxDetector(path, "yolov8-seg", classes=CLASSES)
    pred_ = det.run(LANDSCAPE)
    assert all(isinstance(s, lb.Mask) and s.size == (480, 640) for s in pred_.shapes)
    assert [s.label for s in pred_.shapes] == ["dog", "cat", "bird"]
    dog, cat, bird = (s.to_array() for s in pred_.shapes)  # type: ignore[union-attr]
    want = np.zeros((480, 640), bool)
    want[80:200, 100:240] = True
    assert (dog & want).sum() / (dog | want).sum() > 0.95
    assert not dog[:, 245:].any()
    assert not dog[205:].any()
    want[:] = False
    want[80:240, 100:300] = True  # prototype 1 everywhere: the mask is the cat's whole box
    assert (cat & want).sum() / (cat | want).sum() > 0.98
    assert bird[300:460, 500:640].all()
    assert bird.sum() == 160 * 140


def test_boxes_scores_labels_found_by_name(tmp_path: Path) -> None:
    path = _constant_model(tmp_path / "bsl.onnx", _bsl_outputs())
    shapes = OnnxDetector(path, "boxes_scores_labels", classes=CLASSES).predict(LANDSCAPE)
    _check(shapes, _EXPECTED)
    unnamed = OnnxDetector(path, "boxes_scores_labels").run(LANDSCAPE)  # no class names: ids
    assert [s.label for s in unnamed.shapes] == ["1", "0", "2"]
    assert unnamed.probs == [None] * 3


def _bsl_outputs() -> dict[str, np.ndarray]:
    boxes, scores, labels = [], [], []
    for box, probs in _CANDIDATES:
        x0, y0, x1, y1 = box
        boxes.append([x0 / 2, y0 / 2 + 40, x1 / 2, y1 / 2 + 40])
        scores.append(max(probs))
        labels.append(int(np.argmax(probs)))
    # deliberately not in the order boxes, scores, labels
    return {
        "det_labels": np.array([labels], np.int64),
        "det_boxes": np.array([boxes], np.float32),
        "det_scores": np.array([scores], np.float32),
    }


def test_run_batch_on_a_dynamic_batch_model(tmp_path: Path) -> None:
    pred = np.array([_cxcywh(*box) + probs for box, probs in _CANDIDATES], np.float32).T[None]
    det = OnnxDetector(_constant_model(tmp_path / "v8b.onnx", {"output0": pred}, batch=True), "yolov8", classes=CLASSES)
    assert det.batch_dynamic
    # the same model output mapped back through each image's own letterbox
    small = np.zeros((240, 320, 3), np.uint8)  # r = 1: pad_y 40 as well, boxes at half the size
    results = det.run_batch([LANDSCAPE, small, LANDSCAPE])
    _check(results[0].shapes, _EXPECTED)
    _check(results[2].shapes, _EXPECTED)
    halved = [
        ("dog", 0.9, (50.0, 40.0, 100.0, 80.0)),
        ("cat", 0.7, (50.0, 40.0, 100.0, 80.0)),
        ("bird", 0.6, (250.0, 150.0, 70.0, 80.0)),
    ]
    _check(results[1].shapes, halved)


def test_custom_letterbox(tmp_path: Path) -> None:
    pred = np.array([_cxcywh(*box, pad_y=0) + probs for box, probs in _CANDIDATES], np.float32).T[None]
    path = _constant_model(tmp_path / "v8.onnx", {"output0": pred})
    cfg = Letterbox(pad="top-left", channels="BGR", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25), scale=1 / 255)
    det = OnnxDetector(path, "yolov8", classes=CLASSES, letterbox=cfg)
    _check(det.predict(LANDSCAPE), _EXPECTED)
    x = det.preprocess(np.full((480, 640, 3), 255, np.uint8))[0]["images"]
    np.testing.assert_allclose(x[0, :, :240], 2.0, rtol=1e-6)  # (1 - 0.5) / 0.25
    np.testing.assert_allclose(x[0, :, 240:], (114 / 255 - 0.5) / 0.25, rtol=1e-5)


# ------------------------------------------------------------------------------------ 7. nms, classes


def _reference_nms(boxes: np.ndarray, scores: np.ndarray, thr: float, classes: np.ndarray | None) -> list[int]:
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            if classes is not None and classes[i] != classes[j]:
                continue
            x0, y0 = max(boxes[i][0], boxes[j][0]), max(boxes[i][1], boxes[j][1])
            x1, y1 = min(boxes[i][2], boxes[j][2]), min(boxes[i][3], boxes[j][3])
            inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
            area_i = (boxes[i][2] - boxes[i][0]) * (boxes[i][3] - boxes[i][1])
            area_j = (boxes[j][2] - boxes[j][0]) * (boxes[j][3] - boxes[j][1])
            if inter / (area_i + area_j - inter) > thr:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


@pytest.mark.parametrize("n", [0, 1, 60, 400, 1100])  # 1100: above the IoU-matrix limit
@pytest.mark.parametrize("per_class", [False, True])
def test_nms_matches_a_plain_loop(n: int, per_class: bool) -> None:
    rng = np.random.default_rng(n)
    xy = rng.uniform(0, 300, (n, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 80, (n, 2))], axis=1)
    scores = rng.uniform(0, 1, n)
    classes = rng.integers(0, 4, n) if per_class else None
    want = _reference_nms(boxes, scores, 0.45, classes)
    got = nms(boxes, scores, 0.45, classes)
    assert got.tolist() == want
    assert nms(boxes, scores, 0.45, classes, max_detections=5).tolist() == want[:5]


def test_map_classes() -> None:
    model = ["person", "motorbike", "aeroplane", "diningtable", "tvmonitor", "sofa", "Traffic_Light", "zebra", "kite"]
    project = ["person", "motorcycle", "airplane", "dining table", "tv", "couch", "traffic light", "horse"]
    matched, unmapped = map_classes(model, project)
    assert matched == {
        "person": "person",
        "motorbike": "motorcycle",
        "aeroplane": "airplane",
        "diningtable": "dining table",
        "tvmonitor": "tv",
        "sofa": "couch",
        "Traffic_Light": "traffic light",
    }
    assert unmapped == ["zebra", "kite"]
    matched, unmapped = map_classes(model, project, {"zebra": "horse", "kite": None, "person": None})
    assert matched["zebra"] == "horse"
    assert "person" not in matched
    assert unmapped == []
    with pytest.raises(SchemaError, match="'giraffe'"):
        map_classes(model, project, {"zebra": "giraffe"})
    # keys of other models' classes are ignored: one mapping may serve several models
    assert map_classes(["zebra"], project, {"zebra": "horse", "giraffe": None}) == ({"zebra": "horse"}, [])
