"""Model-assisted labelling: run a model on images and get labnb shapes to review.

``OnnxDetector("yolox_nano.onnx", "yolox", classes="coco.txt").predict("cat.jpg")`` returns boxes
labelled with the model's class names; :func:`map_classes` matches those to a project's classes.

The model classes load onnxruntime, so they are imported on first use: importing this package (or
:mod:`labnb.assist.classes`) from the rest of labnb costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from labnb.assist.classes import map_classes
from labnb.assist.nms import nms
from labnb.assist.preprocess import Letterbox

if TYPE_CHECKING:
    from labnb.assist.model import OnnxDetector, OnnxModel, Predictions

_LAZY = {"OnnxDetector", "OnnxModel", "Predictions"}

__all__ = ["Letterbox", "OnnxDetector", "OnnxModel", "Predictions", "map_classes", "nms"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("labnb.assist.model"), name)
    raise AttributeError(f"module 'labnb.assist' has no attribute {name!r}")
