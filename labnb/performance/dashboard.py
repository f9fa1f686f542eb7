"""The performance dashboard widget: a range, person and job filter over a Sankey of task flow, daily
bars of work done and time spent, and a table per person; live while others work.

Live means: a poll (every ``poll`` seconds, on the kernel's event loop, so it never races a running cell)
reads the events written since the last one by id and folds them into the totals
(:class:`~labnb.performance.tally.Tally`); only the traces whose numbers changed are sent to the browser.
Closing the widget (``dash.close()``) stops the poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import math
import time
from datetime import date
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd
import plotly.graph_objects as go

from labnb.errors import AccessDenied
from labnb.performance import charts
from labnb.performance.quality import quality_columns
from labnb.performance.queries import Scope
from labnb.performance.ranges import PRESETS, RangeSpec, Window, window
from labnb.performance.tally import Tally

if TYPE_CHECKING:
    from labnb.project import Project
    from labnb.workflow.jobs import Job

#: what the dashboard's numbers mean; shown by its "?" button and repeated in ``p.performance``'s docstring
HELP = """
<b>Active time</b> is what the Annotator and the Review panel measured while you worked: the time between
edits, with idle gaps over a minute left out. It is split by what the work was:
<b>labelling</b> (drawing a pass, or labelling outside jobs), <b>review</b> (review decisions and a
reviewer's fixes of someone's pass) and <b>rework</b> (drawing a pass that was sent back "to fix").
Each edit carries only the time since the edit before it, so resuming a task later never counts the same
time twice. <b>Annotations</b> are annotation rows drawn (created) in labelling and rework;
<b>reviews</b> are review decisions (accept, reject, fix); an <b>image is completed</b> on the day the
last of its passes in a job was completed, if all are completed now. Days are local days in the
dashboard's time zone. In the table, <b>acceptance at first review</b> and <b>rework rate</b> are over
the passes whose first review decision fell in the range: the share accepted as drawn, and the share
rejected at least once in the range; <b>agreement</b> is the mean agreement of a person's passes with
the other passes of the same images, <b>F1</b> against the images' ground truth and against continuous
gold, where there is any. The Sankey counts state changes of passes in the range, so rework loops show.
"""

QUALITY_EVERY_S = 30.0


class Dashboard(w.VBox):  # type: ignore[misc]
    """``p.performance(...)``: see :meth:`labnb.performance.methods.PerformanceMethods.performance`."""

    def __init__(
        self,
        project: Project,
        range: RangeSpec = "30d",  # the name users pass, as in the docs
        user: str | None = None,
        job: Job | int | str | None = None,
        tz: str | None = None,
        poll: float | None = 2.0,
        quality: bool = True,
    ) -> None:
        self._p = project
        self._tz = tz
        self._range: RangeSpec = range
        self._user = self._check_user(user)
        self._job = None if job is None else project.jobs[job]
        self._poll = poll
        self._with_quality = quality
        self._task: asyncio.Task[None] | None = None
        self._quality_at = 0.0
        self._quality_dirty = False
        self._pending: asyncio.Future[pd.DataFrame] | None = None
        self._loop = _running_loop() if poll else None
        self.tally = self._build()
        daily = self.tally.daily()
        self.figures: dict[str, go.FigureWidget] = {
            "sankey": charts.sankey_figure(self.tally.sankey()),
            "daily": charts.bars_figure(daily, charts.COUNTS, title="Done per day", hours=False),
            "time": charts.bars_figure(daily, charts.HOURS, title="Active time per day", hours=True),
        }
        self._controls()
        self._table = w.HTML()
        self._status = w.HTML()
        self._help = w.HTML(value=f"<div style='max-width:60em;font-size:90%'>{HELP}</div>", layout={"display": "none"})
        self._show()
        super().__init__([self._bar, self._help, *self.figures.values(), self._table, self._status])
        self._start_polling()

    # -- data ------------------------------------------------------------------------------------------
    def _check_user(self, user: str | None) -> str | None:
        """Reviewers and above see everyone; an annotator sees their own numbers only."""
        role = self._p.members.require("annotator", "see the performance dashboard")
        if role == "annotator" and user not in (None, self._p.user):
            raise AccessDenied(
                f"user '{self._p.user}' is an annotator: the dashboard shows only their own work "
                f"(user='{self._p.user}'); seeing '{user}' takes at least the reviewer role"
            )
        return self._p.user if role == "annotator" else user

    @property
    def window(self) -> Window:
        return self.tally.scope.window

    def _build(self) -> Tally:
        scope = Scope(
            self._p.id, window(self._range, self._tz), self._user, None if self._job is None else self._job.id
        )
        with self._p._engine.connect() as conn:
            tally = Tally(conn, scope)
        if not self._with_quality:
            tally.quality = pd.DataFrame()  # asked not to compare shapes: the columns stay NaN
        elif self._loop is None:
            tally.quality = quality_columns(self._p, self._job, scope.window.start)
            self._quality_at = time.monotonic()
        # live, the shape comparisons behind agreement and F1 run on the first poll, after the counts show
        return tally

    def _fill_quality(self) -> None:
        """Recompute agreement and F1: in a worker thread when live (shape matching over many images takes
        seconds, and the kernel stays free meanwhile), else here."""
        self._quality_at, self._quality_dirty = time.monotonic(), False
        tally, job = self.tally, self._job
        if not self._with_quality:
            return
        if self._loop is None:
            tally.quality = quality_columns(self._p, job, tally.scope.window.start)
            return
        if self._pending is not None and not self._pending.done():
            self._quality_dirty = True  # one at a time; the next poll asks again
            return

        def landed(future: asyncio.Future[pd.DataFrame]) -> None:
            if future.cancelled() or future.exception() is not None or tally is not self.tally:
                return  # a failed run leaves the old columns; a rebuilt dashboard asks again
            tally.quality = future.result()
            self._show({"people"})

        self._pending = self._loop.run_in_executor(None, quality_columns, self._p, job, tally.scope.window.start)
        self._pending.add_done_callback(landed)

    @property
    def df(self) -> dict[str, pd.DataFrame]:
        """The tables behind the charts: ``"daily"``, ``"people"``, ``"sankey"``."""
        return {"daily": self.tally.daily(), "people": self.tally.people(), "sankey": self.tally.sankey()}

    def refresh(self) -> int:
        """Read the events written since the last read and update what changed; returns how many were read.
        The poll calls it; call it yourself where no event loop runs (a script)."""
        if isinstance(self._range, str) and self.window.last != window(self._range, self._tz).last:
            self._rebuild()  # a new day began: the range moved
            return 0
        with self._p._engine.connect() as conn:
            n, changed = self.tally.refresh(conn)
        if n and ("people" in changed or "sankey" in changed):
            self._quality_dirty = True
        pending = self._pending is not None and not self._pending.done()
        if (self.tally.quality is None and not pending) or (
            self._quality_dirty and time.monotonic() - self._quality_at > QUALITY_EVERY_S
        ):
            self._fill_quality()
        if changed:
            self._show(changed)
        self._status.value = self._status_text()
        return n

    def _rebuild(self) -> None:
        self.tally = self._build()
        self._show()

    # -- view ------------------------------------------------------------------------------------------
    def _show(self, parts: set[str] | None = None) -> None:
        parts = parts or {"daily", "people", "sankey"}
        if "daily" in parts:
            daily = self.tally.daily()
            charts.update_bars(self.figures["daily"], daily, charts.COUNTS, hours=False)
            charts.update_bars(self.figures["time"], daily, charts.HOURS, hours=True)
        if "sankey" in parts:
            charts.update_sankey(self.figures["sankey"], self.tally.sankey())
        if "people" in parts:
            self._table.value = _people_html(self.tally.people())
        self._status.value = self._status_text()

    def _status_text(self) -> str:
        live = "live" if self.live else "not live (call dash.refresh())"
        if self.tally.quality is None:
            live += " · computing agreement and F1"
        return (
            f"<span style='color:gray;font-size:85%'>{html.escape(self.window.label())} · {live} · "
            f"last event {self.tally.high} · {time.strftime('%H:%M:%S')}</span>"
        )

    def _controls(self) -> None:
        presets = [*PRESETS, "custom"]
        value = self._range if isinstance(self._range, str) else "custom"
        self._range_box = w.ToggleButtons(options=presets, value=value, style={"button_width": "4.6em"})
        self._first = w.DatePicker(value=self.window.first, description="from", layout={"width": "13em"})
        self._last = w.DatePicker(value=self.window.last, description="to", layout={"width": "13em"})
        custom = {"display": "" if value == "custom" else "none"}
        self._custom = w.HBox([self._first, self._last], layout=custom)
        # "" and 0 stand for "everyone" and "all jobs": a Dropdown shows no label for a None value
        people = [("everyone", "")] + [(str(u), str(u)) for u in self._p.members.df["user"]]
        if self._p.members.role() == "annotator":
            people = [(str(self._p.user), str(self._p.user))]
        self._person = w.Dropdown(
            options=people, value=self._user or "", description="person", layout={"width": "16em"}
        )
        jobs = [("all jobs", 0)] + [(j.name, j.id) for j in self._p.jobs]
        self._job_box = w.Dropdown(
            options=jobs, value=0 if self._job is None else self._job.id, description="job", layout={"width": "16em"}
        )
        self._help_button = w.ToggleButton(value=False, description="?", tooltip="what the numbers mean",
                                           layout={"width": "3em"})  # fmt: skip
        self._range_box.observe(self._on_range, "value")
        self._first.observe(self._on_dates, "value")
        self._last.observe(self._on_dates, "value")
        self._person.observe(self._on_filter, "value")
        self._job_box.observe(self._on_filter, "value")
        self._help_button.observe(self._on_help, "value")
        self._bar = w.VBox([w.HBox([self._range_box, self._person, self._job_box, self._help_button]), self._custom])

    def _on_range(self, change: dict[str, Any]) -> None:
        if change["new"] == "custom":
            self._custom.layout.display = ""
            self._range = (self.window.first, self.window.last)
        else:
            self._custom.layout.display = "none"
            self._range = change["new"]
        self._rebuild()

    def _on_dates(self, _: dict[str, Any]) -> None:
        first, last = self._first.value, self._last.value
        if isinstance(first, date) and isinstance(last, date) and first <= last and self._range_box.value == "custom":
            self._range = (first, last)
            self._rebuild()

    def _on_filter(self, _: dict[str, Any]) -> None:
        self._user = self._check_user(self._person.value or None)
        job = self._job_box.value
        self._job = self._p.jobs[job] if job else None
        self._rebuild()

    def _on_help(self, change: dict[str, Any]) -> None:
        self._help.layout.display = "" if change["new"] else "none"

    # -- live --------------------------------------------------------------------------------------------
    def _start_polling(self) -> None:
        if self._loop is None or not self._poll:
            return  # no event loop (a script): refresh() by hand
        self._task = self._loop.create_task(self._polling(float(self._poll)))
        self._status.value = self._status_text()

    async def _polling(self, every: float) -> None:
        first = True
        while True:
            await asyncio.sleep(0.05 if first else every)
            first = False
            if self.comm is None:  # closed
                return
            try:
                self.refresh()
            except Exception as exc:  # a failed poll says why and keeps the dashboard up
                self._status.value = f"<span style='color:#b00'>refresh failed: {html.escape(str(exc))}</span>"

    @property
    def live(self) -> bool:
        """Whether the dashboard is polling for new events."""
        task = getattr(self, "_task", None)
        return task is not None and not task.done()

    def close(self) -> None:
        """Stop polling and close the widget and its charts."""
        task = getattr(self, "_task", None)  # also called by a half-built widget's finaliser
        if task is not None:
            task.cancel()
        for fig in getattr(self, "figures", {}).values():
            with contextlib.suppress(Exception):
                fig.close()
        super().close()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop the notebook's kernel runs cells in, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _people_html(frame: pd.DataFrame) -> str:
    """The per-person table; every name is escaped (no text of the project is ever rendered as HTML)."""
    if frame.empty:
        return "<p style='color:gray'>Nobody worked in this range.</p>"
    head = "".join(
        f"<th style='padding:2px 8px'>{html.escape(c.replace('_', ' '))}</th>" for c in ["person", *frame.columns]
    )
    rows = []
    for user, r in frame.iterrows():
        cells = [f"<td style='padding:2px 8px'>{html.escape(str(user))}</td>"]
        cells += [f"<td style='padding:2px 8px;text-align:right'>{_fmt(c, v)}</td>" for c, v in r.items()]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table style='border-collapse:collapse;font-size:90%'><tr>{head}</tr>{''.join(rows)}</table>"


def _fmt(column: Any, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if column in ("first_review_acceptance", "rework_rate"):
        return f"{100 * float(value):.0f} %"
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return html.escape(str(value))
