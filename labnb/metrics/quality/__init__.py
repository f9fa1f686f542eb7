"""Quality metrics of images (and, to come, of labels and predictions): pure functions over arrays, each
described in :func:`catalog` with its range, direction and the resolution it is computed at.

Design notes with the sources behind each definition: docs/design/quality-metrics.md.
"""

from labnb.metrics.quality.analysis import ANALYSIS_SHORT_SIDE, analysis_image, luma
from labnb.metrics.quality.catalog import Metric, catalog
from labnb.metrics.quality.pixels import image_metrics

__all__ = ["ANALYSIS_SHORT_SIDE", "Metric", "analysis_image", "catalog", "image_metrics", "luma"]
