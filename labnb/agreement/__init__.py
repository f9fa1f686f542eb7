"""The agreement report: how much the drawn passes of a project's jobs agree, by image, label, annotator
pair and annotator (``p.agreement(...)``; :func:`annotator_agreement` for the per-person table).

Modules: :mod:`~labnb.agreement.passes` reads the passes, :mod:`~labnb.agreement.shapes` matches their
shapes into objects and scores them (mean matched IoU, Krippendorff's alpha with distance 1 - IoU),
:mod:`~labnb.agreement.tags` rates tags and attributes, :mod:`~labnb.agreement.people` compares people,
:mod:`~labnb.agreement.build` assembles the tables, :mod:`~labnb.agreement.report` holds the result.
"""

from labnb.agreement.build import agreement, annotator_agreement
from labnb.agreement.report import AgreementReport, ReviewSelection

__all__ = ["AgreementReport", "ReviewSelection", "agreement", "annotator_agreement"]
