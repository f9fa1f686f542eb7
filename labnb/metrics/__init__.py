"""metrics: agreement of label sets (:mod:`labnb.metrics.agreement`), annotator scoring, and chance-corrected
agreement statistics between raters (:mod:`labnb.metrics.reliability`), and quality metrics of images
(:mod:`labnb.metrics.quality`, described by :func:`catalog`)."""

from labnb.metrics import quality
from labnb.metrics.quality import catalog
from labnb.metrics.quality.drift import drift
from labnb.metrics.quality.outliers import outliers
from labnb.metrics.reliability import (
    Agreement,
    ReliabilityError,
    brennan_prediger,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    krippendorff_alpha,
    percent_agreement,
)

__all__ = [
    "Agreement",
    "ReliabilityError",
    "brennan_prediger",
    "catalog",
    "cohen_kappa",
    "drift",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha",
    "outliers",
    "percent_agreement",
    "quality",
]
