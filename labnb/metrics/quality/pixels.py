"""Per-image pixel metrics, computed on the analysis image (:mod:`labnb.metrics.quality.analysis`).

Brightness, contrast, the dark/light percentiles and entropy come exactly from one 256-bin histogram of the
8-bit BT.709 luma; the colour bands from one HSV conversion. Definitions, ranges and directions are in
:func:`labnb.metrics.quality.catalog.catalog`; their sources in docs/design/quality-metrics.md.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from labnb.metrics.quality.analysis import luma

#: the blur score's logistic on log10 of the Laplacian variance: 0.5 at 10**BLUR_CENTRE, a decade from
#: sharp to blurred in about 4 * BLUR_WIDTH. Provisional: fitted on the 8 sample photos and their Gaussian-
#: blurred copies (sharp 10**-2.3..10**-1.6, sigma 1 px 10**-3.5..10**-2.8); refit on a larger set bumps the
#: metric's version.
BLUR_CENTRE = -2.9
BLUR_WIDTH = 0.25
#: a pixel whose channels differ by more than this (0-255) is coloured; grayscale means the 99th percentile
#: of the largest channel difference is at most this (JPEG keeps gray photos exactly R = G = B)
GRAY_TOLERANCE = 2


def image_metrics(rgb: NDArray[np.uint8]) -> dict[str, float]:
    """Every pixel metric of one analysis image (``(h, w, 3)`` uint8 RGB), as floats."""
    y = luma(rgb)
    hist = np.bincount(y.ravel(), minlength=256).astype(np.float64)
    n = hist.sum()
    levels = np.arange(256, dtype=np.float64) / 255.0
    mean = float(hist @ levels / n)
    std = float(math.sqrt(max(0.0, hist @ (levels - mean) ** 2 / n)))
    cdf = np.cumsum(hist) / n
    p = hist[hist > 0] / n
    entropy = float(-(p * np.log2(p)).sum())
    sharpness = _laplacian_variance(y.astype(np.float32) / 255.0)
    out = {
        "brightness": mean,
        "contrast": std,
        "sharpness": sharpness,
        "blur": blur_score(sharpness),
        "colourfulness": _colourfulness(rgb),
        "entropy": entropy,
        "low_information": entropy / 8.0,
        "dark": 1.0 - _percentile(cdf, 0.99),
        "light": _percentile(cdf, 0.05),
        "gray_deviation": _gray_deviation(rgb),
    }
    out.update(_bands(rgb))
    return out


def blur_score(sharpness: float) -> float:
    """A Laplacian variance (at short side 256, luma in [0, 1]) as a blur score in [0, 1]: higher is blurrier."""
    x = (math.log10(sharpness + 1e-12) - BLUR_CENTRE) / BLUR_WIDTH
    return 1.0 / (1.0 + math.exp(min(60.0, x)))


def _percentile(cdf: NDArray[np.float64], q: float) -> float:
    """The lowest level (in [0, 1]) whose cumulative share reaches ``q``."""
    return float(np.searchsorted(cdf, q - 1e-12)) / 255.0


def _laplacian_variance(y: NDArray[np.float32]) -> float:
    """Variance of the 4-neighbour Laplacian, borders reflected."""
    if min(y.shape) < 2:
        return 0.0
    pad = np.pad(y, 1, mode="reflect")
    lap = pad[:-2, 1:-1] + pad[2:, 1:-1] + pad[1:-1, :-2] + pad[1:-1, 2:] - 4.0 * y
    return float(np.var(lap, dtype=np.float64))


def _colourfulness(rgb: NDArray[np.uint8]) -> float:
    """Hasler and Süsstrunk (2003) on RGB in [0, 1]: 0 for gray, about 1.15 at most in practice."""
    c = rgb.astype(np.float32) / 255.0
    rg = c[..., 0] - c[..., 1]
    yb = 0.5 * (c[..., 0] + c[..., 1]) - c[..., 2]
    spread = math.hypot(float(rg.std()), float(yb.std()))
    centre = math.hypot(float(rg.mean()), float(yb.mean()))
    return spread + 0.3 * centre


def _gray_deviation(rgb: NDArray[np.uint8]) -> float:
    """The 99th percentile over pixels of the largest difference between two channels (0-255)."""
    c = rgb.astype(np.int16)
    diff = np.maximum(
        np.abs(c[..., 0] - c[..., 1]), np.maximum(np.abs(c[..., 1] - c[..., 2]), np.abs(c[..., 0] - c[..., 2]))
    )
    counts = np.bincount(diff.ravel(), minlength=256)
    return float(np.searchsorted(np.cumsum(counts) / counts.sum(), 0.99 - 1e-12))


def _bands(rgb: NDArray[np.uint8]) -> dict[str, float]:
    """Shares of red, green and blue pixels by HSV bands (OpenCV's scale: H 0-179, S and V 0-255), as
    Encord defines them, but converted to HSV first (Encord's code applies the HSV bounds to RGB values)."""
    c = rgb.astype(np.float32)
    mx, mn = c.max(axis=-1), c.min(axis=-1)
    delta = mx - mn
    safe = np.where(delta > 0, delta, 1.0)
    r, g, b = c[..., 0], c[..., 1], c[..., 2]
    hue = np.where(mx == r, ((g - b) / safe) % 6, np.where(mx == g, (b - r) / safe + 2, (r - g) / safe + 4))
    h = np.where(delta > 0, hue * 30.0, 0.0)  # degrees / 2, OpenCV's 0-179
    s = np.where(mx > 0, 255.0 * delta / np.where(mx > 0, mx, 1.0), 0.0)
    vivid = (s >= 50) & (mx >= 20)
    n = float(h.size)
    return {
        "red_fraction": float(np.count_nonzero(vivid & ((h <= 10) | (h >= 170)))) / n,
        "green_fraction": float(np.count_nonzero(vivid & (h >= 35) & (h <= 75))) / n,
        "blue_fraction": float(np.count_nonzero(vivid & (h >= 90) & (h <= 130))) / n,
    }
