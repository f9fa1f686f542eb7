"""The performance methods of :class:`labnb.Project` (a mixin): the live dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from labnb.performance.ranges import RangeSpec

if TYPE_CHECKING:
    from labnb.performance.dashboard import Dashboard
    from labnb.project import Project
    from labnb.workflow.jobs import Job


class PerformanceMethods:
    """Mixed into :class:`labnb.Project`."""

    def performance(
        self,
        range: RangeSpec = "30d",  # the name users pass, as in the docs
        user: str | None = None,
        job: Job | int | str | None = None,
        tz: str | None = None,
        poll: float | None = 2.0,
    ) -> Dashboard:
        """The performance dashboard: where the work and the time go, live while the team works.

        A widget (an ipywidgets box of plotly FigureWidgets) with a **Sankey** of task flow (state changes of
        the draw passes in the range, from the event log, so rework loops show: to draw -> annotated -> in
        review -> completed, in review -> to fix -> annotated), **daily bars** of annotations made, reviews
        and images completed and of labelling, review and rework hours, and a **table per person**:
        annotations, images, active hours, annotations per active hour, median seconds per image, reviews
        done, acceptance at first review, rework rate, agreement with others, F1 against ground truth and
        against gold where known. Range (``"7d"``, ``"30d"``, ``"3m"``, ``"6m"``, ``"12m"`` ending today, or
        ``(first, last)`` days), person and job are chosen in the widget too; days are local days in ``tz``
        (an IANA name; default the machine's zone).

        Time definitions: active time is what the Annotator and the Review panel measured while someone
        worked (the time between edits, idle gaps over a minute left out); it is labelling (drawing a pass,
        or labelling outside jobs), review (review decisions and a reviewer's fixes of someone's pass) or
        rework (drawing a pass sent back "to fix"). Each edit carries only the time since the one before, so
        resuming a task never counts time twice. The widget's "?" says the rest.

        ``dash.df["daily" | "people" | "sankey"]`` are the tables behind the charts, ``dash.figures`` the
        charts. While it is shown in a notebook it polls every ``poll`` seconds for new events (by id, from
        any process or machine) and updates only what changed; ``dash.refresh()`` does one poll by hand,
        ``dash.close()`` stops it. Reviewers and above see everyone; an annotator sees their own work.
        """
        from labnb.performance.dashboard import Dashboard  # noqa: PLC0415 - widgets load on first use

        return Dashboard(cast("Project", self), range, user=user, job=job, tz=tz, poll=poll)
