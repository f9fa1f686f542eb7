"""``p.settings``: project-wide settings that are a decision of the project's owner, checked in Python.

The values live in the project's settings JSON (the ``projects.settings`` column, beside the schema's
tools and tags); each setter checks the role and records an event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from labnb.workflow import guides

if TYPE_CHECKING:
    from labnb.project import Project


class ProjectSettings:
    """``p.settings``: read by any member, changed by the roles each setter names."""

    def __init__(self, project: Project) -> None:
        self._p = project

    @property
    def guide_image_hosts(self) -> list[str]:
        """Hosts whose https images job guides may show (none by default: a guide shows only images it
        inlines, see :mod:`labnb.workflow.guides`)."""
        return guides.guide_image_hosts(self._p)

    def allow_guide_image_hosts(self, hosts: Sequence[str]) -> list[str]:
        """Let guides show https images from ``hosts`` (e.g. ``["example.org"]``; each subdomain listed
        itself); replaces the earlier list, ``[]`` allows none. Owners only, since every annotator's browser
        will then call those hosts when a guide opens. Returns the stored list."""
        return guides.allow_guide_image_hosts(self._p, hosts)

    def __repr__(self) -> str:
        return f"<ProjectSettings of '{self._p.name}': guide_image_hosts={self.guide_image_hosts}>"
