"""Exceptions users see.

Every error names the item it is about (a file, an annotation id, a user) and the problem, so a person
can fix the input without reading a traceback. They all derive from :class:`LabnbError`.
"""

from __future__ import annotations

from collections.abc import Sequence


class LabnbError(Exception):
    """Base class of every error labnb raises on purpose."""


class SchemaError(LabnbError, ValueError):
    """The label schema (classes, keypoints, tags, attributes) is invalid."""


class GeometryError(LabnbError, ValueError):
    """A shape is malformed: NaN coordinates, negative sizes, too few points, ..."""


class AssetError(LabnbError, ValueError):
    """An image cannot be used: missing, truncated, not an image, or too large."""


class ProjectError(LabnbError):
    """The project cannot be created or opened as asked (exists already, not found, ...)."""


class SchemaVersionError(ProjectError):
    """The project's database was written by a newer labnb than the one running."""


class ModelError(LabnbError):
    """A model cannot be used: file missing or not ONNX, outputs that do not fit the decoder, wrong classes."""


class TaskStateError(LabnbError):
    """A task transition that is not allowed from the task's state, or not by this user."""


class AccessDenied(LabnbError, PermissionError):
    """The current user's role does not allow the operation."""


class ImportProblems(LabnbError, ValueError):
    """An import found bad items and, being all-or-nothing, wrote nothing.

    ``problems`` holds ``(item, problem)`` pairs, all of them, not only the first.
    """

    #: What the message says was not done, and what ``on_error="skip"`` does instead.
    outcome = "nothing was imported (pass on_error='skip' to import the rest)"

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = "\n".join(f"  - {item}: {problem}" for item, problem in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{source}: {len(self.problems)} problem(s); {self.outcome}:\n{shown}{more}")


class ImageProblems(ImportProblems, AssetError):
    """``p.add_images`` found files it cannot use and, being all-or-nothing, added none; ``problems`` lists
    every one of them (not only the first), so one pass over a folder finds them all."""

    outcome = "no image was added (pass on_error='skip' to add the others)"
