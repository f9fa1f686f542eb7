"""The dashboard's plotly figures, and updating them in place: a refresh sets only the traces whose
numbers changed, so an open chart moves instead of being redrawn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from labnb.performance.tally import STATES

STATE_LABELS = {"none": "to draw", "annotated": "annotated", "review": "in review", "to_fix": "to fix",
                "completed": "completed"}  # fmt: skip
STATE_COLORS = {"none": "#9e9e9e", "annotated": "#4c78a8", "review": "#f58518", "to_fix": "#e45756",
                "completed": "#54a24b"}  # fmt: skip
#: (column, legend name, colour) of the count bars and the time bars
COUNTS = [("annotations", "annotations", "#4c78a8"), ("reviews", "reviews", "#f58518"),
          ("images_completed", "images completed", "#54a24b")]  # fmt: skip
HOURS = [("labelling_s", "labelling", "#4c78a8"), ("review_s", "review", "#f58518"),
         ("rework_s", "rework", "#e45756")]  # fmt: skip


def sankey_figure(flows: pd.DataFrame) -> go.FigureWidget:
    """Task flow between draw-pass states; rework loops (review -> to fix -> annotated) show as links back."""
    fig = go.FigureWidget(
        go.Sankey(
            arrangement="snap",
            node={"label": [STATE_LABELS[s] for s in STATES], "color": [STATE_COLORS[s] for s in STATES], "pad": 18},
            link=_links(flows),
        )
    )
    fig.update_layout(title="Task flow", height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def _links(flows: pd.DataFrame) -> dict[str, list[Any]]:
    index = {s: i for i, s in enumerate(STATES)}
    return {
        "source": [index[s] for s in flows["source"]],
        "target": [index[t] for t in flows["target"]],
        "value": [int(n) for n in flows["count"]],
    }


def bars_figure(
    daily: pd.DataFrame, columns: Sequence[tuple[str, str, str]], *, title: str, hours: bool
) -> go.FigureWidget:
    """Daily bars: grouped counts, or stacked hours (``hours``: the columns are seconds)."""
    x = [d.isoformat() for d in daily.index]
    traces = [
        go.Bar(
            x=x,
            y=_values(daily[c], hours),
            name=name,
            marker_color=color,
            hovertemplate=f"%{{x}}: %{{y}} {name}<extra></extra>",
        )
        for c, name, color in columns
    ]
    fig = go.FigureWidget(data=traces)
    fig.update_layout(
        title=title, barmode="stack" if hours else "group", height=280, margin={"l": 40, "r": 10, "t": 40, "b": 30},
        legend={"orientation": "h", "y": 1.12, "x": 1, "xanchor": "right"},
        yaxis_title="hours" if hours else None,
    )  # fmt: skip
    return fig


def _values(series: pd.Series, hours: bool) -> list[float]:
    return [round(float(v) / 3600, 4) for v in series] if hours else [int(v) for v in series]


def update_bars(
    fig: go.FigureWidget, daily: pd.DataFrame, columns: Sequence[tuple[str, str, str]], *, hours: bool
) -> int:
    """Set the traces whose values changed (all of them when the days changed); returns how many."""
    x = tuple(d.isoformat() for d in daily.index)
    changed = 0
    with fig.batch_update():
        for trace, (c, _, _) in zip(fig.data, columns, strict=True):
            y = _values(daily[c], hours)
            if tuple(trace.x) != x or list(trace.y) != y:
                trace.x, trace.y = x, y
                changed += 1
    return changed


def update_sankey(fig: go.FigureWidget, flows: pd.DataFrame) -> bool:
    links = _links(flows)
    link = fig.data[0].link
    if (
        list(link.source or ()) == links["source"]
        and list(link.target or ()) == links["target"]
        and list(link.value or ()) == links["value"]
    ):
        return False
    with fig.batch_update():
        fig.data[0].link.source, fig.data[0].link.target, fig.data[0].link.value = (
            links["source"], links["target"], links["value"]
        )  # fmt: skip
    return True
