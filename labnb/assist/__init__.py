"""Model-assisted labelling: run a model on images and get labnb shapes to review.

``OnnxDetector("yolox_nano.onnx", "yolox", classes="coco.txt").predict("cat.jpg")`` returns boxes
labelled with the model's class names; :func:`map_classes` matches those to a project's classes.
"""

from labnb.assist.classes import map_classes
from labnb.assist.model import OnnxDetector, OnnxModel, Predictions
from labnb.assist.nms import nms
from labnb.assist.preprocess import Letterbox

__all__ = ["Letterbox", "OnnxDetector", "OnnxModel", "Predictions", "map_classes", "nms"]
