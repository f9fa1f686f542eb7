"""What ``p.agreement(...)`` returns: the table asked for, the per-image table and the per-job statistics
behind it, a plotly chart, and the images under a threshold, ready to go back to work.

:class:`AgreementReport` shows its ``.df`` in a notebook (``_repr_html_``) with the summary under it;
``.figure()`` is a ``plotly.graph_objects.FigureWidget``. :meth:`AgreementReport.below` selects the images
whose agreement is under a threshold as a :class:`ReviewSelection`, which can ask each image's job for one
more independent pass (``add_passes``, the workflow's own remedy for a doubtful image) or put the images
into a new job whose every pass is reviewed (``to_job``).
"""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from labnb.errors import LabnbError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from labnb.project import Project
    from labnb.workflow.jobs import Job

#: Columns of a :class:`ReviewSelection`'s frame.
SELECTION_COLUMNS = ["asset", "file_name", "job", "job_id", "value"]


class ReviewSelection:
    """Images whose agreement is under a threshold (``report.below(0.7)``): ``.df`` has asset, file_name,
    job, job_id and the value that put it there, lowest first."""

    def __init__(self, project: Project, df: pd.DataFrame, on: str, threshold: float) -> None:
        self.project = project
        self.df = df
        self.on = on
        self.threshold = threshold

    def __len__(self) -> int:
        return len(self.df)

    @property
    def assets(self) -> list[int]:
        """The selected images' ids, each once."""
        return list(dict.fromkeys(int(a) for a in self.df.asset))

    def __repr__(self) -> str:
        return f"<{len(self.df)} images with {self.on} < {self.threshold}>\n{self.df!r}"

    def _repr_html_(self) -> str:
        head = html.escape(f"{len(self.df)} images with {self.on} < {self.threshold}")
        return f"<p><b>{head}</b></p>{self.df.to_html(index=False)}"

    def add_passes(self) -> pd.DataFrame:
        """One more independent draw pass for every selected image in its own job (``job.add_pass``:
        managers and owners; a completed job is launched again). The new pass's agreement with the others
        shows which earlier one was right, and the job's merge takes it as one more vote. Returns the new
        tasks: task, asset, file_name, job, pass."""
        self.project.members.require("manager", "add passes to the images under an agreement threshold")
        rows = []
        jobs: dict[int, Job] = {}
        for job_id, asset, file_name, job_name in zip(
            self.df.job_id.tolist(), self.df.asset.tolist(), self.df.file_name, self.df.job, strict=True
        ):
            job = jobs.setdefault(int(job_id), self.project.jobs[int(job_id)])
            task = job.add_pass(int(asset))
            rows.append((task.id, int(asset), file_name, job_name, task.pass_number))
        added: pd.DataFrame = pd.DataFrame(rows, columns=["task", "asset", "file_name", "job", "pass"])
        return added

    def to_job(self, name: str, **options: Any) -> Job:
        """A new draft job over the selected images (each once), for a second round: ``options`` go to
        ``p.jobs.create`` (passes_per_file, guide, credentials, ...), with ``review_frequency=1`` unless
        given, so every pass of it is reviewed. Launch it with ``job.launch()``. Managers and owners."""
        if self.df.empty:
            raise LabnbError(f"no image has {self.on} < {self.threshold}; there is nothing to put in job '{name}'")
        options.setdefault("review_frequency", 1)
        return self.project.jobs.create(name, self.assets, **options)


class AgreementReport:
    """The agreement of a project's (or a job's) drawn passes, ``by`` image, label, pair or annotator.

    - ``df``: the table asked for (by="pair": the annotator x annotator matrix; ``n`` holds its counts);
    - ``images``: the per-image table, whatever ``by`` is (what :meth:`below` filters);
    - ``summary``: per job, the shapes' mean IoU and alpha, and each tag group's and attribute's alpha,
      Fleiss' kappa and percent agreement over the job's images;
    - ``ratings``: the long (unit, rater, value) ratings of the tags and attributes the summary was
      computed from, to recompute any statistic with ``lb.metrics``.
    """

    def __init__(
        self,
        project: Project,
        by: str,
        df: pd.DataFrame,
        images: pd.DataFrame,
        summary: pd.DataFrame,
        ratings: pd.DataFrame,
        n: pd.DataFrame | None = None,
    ) -> None:
        self.project = project
        self.by = by
        self.df = df
        self.images = images
        self.summary = summary
        self.ratings = ratings
        self.n = n

    def _title(self) -> str:
        jobs = self.images["job"].nunique()
        return f"Agreement by {self.by}: {len(self.images)} images of {jobs} job{'s' if jobs != 1 else ''}"

    def __repr__(self) -> str:
        return f"<{self._title()}>\n{self.df!r}\n\nsummary:\n{self.summary!r}"

    def _repr_html_(self) -> str:
        return (
            f"<p><b>{html.escape(self._title())}</b></p>{self.df.to_html()}"
            f"<p><b>Summary per job</b></p>{self.summary.to_html(index=False)}"
        )

    def below(self, threshold: float, on: str = "iou") -> ReviewSelection:
        """The images whose ``on`` (a numeric column of :attr:`images`: ``iou``, the default, ``alpha``,
        ``found_by_all`` or a ``tag:<group>``) is under ``threshold``, lowest first; images where it is
        undefined (NaN: a single pass, no object for alpha) are not selected."""
        numeric = [c for c in self.images.columns if c in ("iou", "alpha", "found_by_all") or c.startswith("tag:")]
        if on not in numeric:
            raise LabnbError(f"below(on={on!r}): choose one of {numeric}")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or math.isnan(threshold):
            raise LabnbError(f"below(threshold={threshold!r}): give a number, e.g. 0.7")
        values = self.images[on].astype(float)
        picked = self.images[values < threshold].assign(value=values[values < threshold])
        frame = picked.sort_values(["value", "job_id", "asset"], kind="stable")[SELECTION_COLUMNS]
        return ReviewSelection(self.project, frame.reset_index(drop=True), on, float(threshold))

    def figure(self) -> go.FigureWidget:
        """A plotly FigureWidget: by="pair" the annotator x annotator heatmap (hover shows the images
        behind each cell); otherwise grouped bars of the table's agreement columns."""
        import plotly.graph_objects as go  # noqa: PLC0415 - plotly is loaded only when a chart is asked for

        if self.by == "pair":
            counts = self.n if self.n is not None else self.df.notna().astype(int)
            fig = go.FigureWidget(
                go.Heatmap(
                    z=self.df.to_numpy(dtype=float),
                    x=[str(c) for c in self.df.columns],
                    y=[str(i) for i in self.df.index],
                    zmin=0,
                    zmax=1,
                    colorscale="Viridis",
                    customdata=counts.to_numpy(),
                    hovertemplate="%{y} with %{x}: %{z:.3f} over %{customdata} images<extra></extra>",
                    colorbar={"title": "agreement"},
                )
            )
            fig.update_layout(title="Agreement between annotators", yaxis={"autorange": "reversed"})
            return fig
        if self.by == "annotator":
            x = [str(i) for i in self.df.index]
            columns = ["vs_others", "vs_consensus", "vs_ground_truth"]
            title = "Each annotator against the others, the consensus and the ground truth"
        elif self.by == "label":
            several = self.df["job"].nunique() > 1
            x = [f"{j} / {lab}" if several else str(lab) for j, lab in zip(self.df.job, self.df.label, strict=True)]
            columns, title = ["iou", "alpha"], "Agreement per label"
        else:
            several = self.df["job"].nunique() > 1
            x = [f"{j} / {f}" if several else str(f) for j, f in zip(self.df.job, self.df.file_name, strict=True)]
            columns, title = ["iou", "alpha"], "Agreement per image"
        fig = go.FigureWidget([go.Bar(name=c, x=x, y=self.df[c].astype(float).tolist()) for c in columns])
        fig.update_layout(title=title, barmode="group", yaxis={"range": [min(0.0, self._low(columns)), 1.0]})
        return fig

    def _low(self, columns: list[str]) -> float:
        low = self.df[columns].astype(float).min().min() if len(self.df) else 0.0
        return 0.0 if pd.isna(low) else float(low)
