"""Every quality metric labnb computes, described: what it measures, on what, at which resolution and in
which colour space, its range and which way is better. ``lb.metrics.catalog()`` is this as a DataFrame."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from labnb.metrics.quality.analysis import ANALYSIS_SHORT_SIDE

Direction = Literal["higher_is_better", "higher_is_worse", "neither"]

_AT = f"short side {ANALYSIS_SHORT_SIDE}"


@dataclass(frozen=True)
class Metric:
    """One metric's description; ``version`` changes whenever its values would."""

    name: str
    on: Literal["images", "labels", "predictions"]
    low: float
    high: float
    direction: Direction
    resolution: str
    colour_space: str
    version: int
    definition: str


BUILT_IN: tuple[Metric, ...] = (
    Metric("brightness", "images", 0, 1, "neither", _AT, "BT.709 luma", 1,
           "mean luma of the gamma-encoded sRGB pixels"),
    Metric("contrast", "images", 0, 0.5, "higher_is_better", _AT, "BT.709 luma", 1,
           "RMS contrast: standard deviation of luma"),
    Metric("sharpness", "images", 0, 16, "higher_is_better", _AT, "BT.709 luma", 1,
           "variance of the 4-neighbour Laplacian of luma in [0, 1] (about 1e-5 to 5e-2 in photos)"),
    Metric("blur", "images", 0, 1, "higher_is_worse", _AT, "BT.709 luma", 1,
           "logistic of log10(sharpness): 0.5 at 10**-2.9 (provisional calibration on 8 photos)"),
    Metric("colourfulness", "images", 0, 1.2, "neither", _AT, "sRGB in [0, 1]", 1,
           "Hasler and Süsstrunk (2003): spread plus 0.3 times centre of the rg and yb opponent channels"),
    Metric("red_fraction", "images", 0, 1, "neither", _AT, "HSV (OpenCV scale)", 1,
           "share of pixels with hue 0-10 or 170-179, saturation >= 50, value >= 20"),
    Metric("green_fraction", "images", 0, 1, "neither", _AT, "HSV (OpenCV scale)", 1,
           "share of pixels with hue 35-75, saturation >= 50, value >= 20"),
    Metric("blue_fraction", "images", 0, 1, "neither", _AT, "HSV (OpenCV scale)", 1,
           "share of pixels with hue 90-130, saturation >= 50, value >= 20"),
    Metric("entropy", "images", 0, 8, "higher_is_better", _AT, "8-bit BT.709 luma", 1,
           "Shannon entropy (bits) of the 256-bin luma histogram"),
    Metric("low_information", "images", 0, 1, "higher_is_better", _AT, "8-bit BT.709 luma", 1,
           "entropy / 8: low values are near-blank images"),
    Metric("dark", "images", 0, 1, "higher_is_worse", _AT, "8-bit BT.709 luma", 1,
           "1 - the 99th percentile of luma: high when even the brightest pixels are dark"),
    Metric("light", "images", 0, 1, "higher_is_worse", _AT, "8-bit BT.709 luma", 1,
           "the 5th percentile of luma: high when even the darkest pixels are light"),
    Metric("gray_deviation", "images", 0, 255, "neither", _AT, "sRGB 0-255", 1,
           "99th percentile of the largest channel difference; <= 2 means grayscale by content"),
)  # fmt: skip


def catalog() -> pd.DataFrame:
    """Every built-in metric: name, on, low, high, direction, resolution, colour_space, version, definition."""
    frame: pd.DataFrame = pd.DataFrame([asdict(m) for m in BUILT_IN])
    return frame
