"""Exams: a gold standard snapshotted from trusted labels, trainees' attempts drawn blind, automatic
pre-scores, graders' stars and Missing marks, results, credentials granted on passing, and continuous gold
mixed into ordinary jobs. ``p.exams`` hands out :class:`Exams`; see docs/ARCHITECTURE.md for the layers."""

from labnb.exams.attempts import Attempt
from labnb.exams.exam import Exam
from labnb.exams.exam_list import Exams

__all__ = ["Attempt", "Exam", "Exams"]
