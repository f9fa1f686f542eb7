"""labnb: a Jupyter-native labelling toolkit.

``import labnb as lb``; ``p = lb.Project.create("birds.labnb", labels=["duck", "goose"])``.
"""

from labnb import clock, metrics, sample
from labnb.assets import Asset
from labnb.errors import (
    AccessDenied,
    AssetError,
    GeometryError,
    ImageProblems,
    ImportProblems,
    LabnbError,
    ModelError,
    ProjectError,
    SchemaError,
    SchemaVersionError,
)
from labnb.geometry import Box, Keypoints, Mask, Polygon, Shape, Tag
from labnb.project import Project
from labnb.schema import Attribute, LabelClass, Schema, TagGroup

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "Asset",
    "AssetError",
    "Attribute",
    "Box",
    "GeometryError",
    "ImageProblems",
    "ImportProblems",
    "Keypoints",
    "LabelClass",
    "LabnbError",
    "Mask",
    "ModelError",
    "Polygon",
    "Project",
    "ProjectError",
    "Schema",
    "SchemaError",
    "SchemaVersionError",
    "Shape",
    "Tag",
    "TagGroup",
    "__version__",
    "clock",
    "metrics",
    "sample",
]
