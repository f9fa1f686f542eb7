"""Annotation rows: the one writer (:mod:`labnb.annotations.writer`) and their history."""

from labnb.annotations.writer import Writes, writing

__all__ = ["Writes", "writing"]
