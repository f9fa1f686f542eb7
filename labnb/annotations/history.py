"""``p.history(annotation_id)``: every state an annotation has had, oldest first.

A revision row keeps the state an action replaced, with who did the action and when; so the state of
revision ``r + 1`` was made by the action stored with revision ``r``, and revision 1 by the creation. The
table turns that around into what users read: each state with the action that made it, by whom, when.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa

from labnb.errors import LabnbError
from labnb.schema import LabelClass
from labnb.store.rows import row_to_shape
from labnb.store.tables import annotation_revisions, annotation_rows

HISTORY_COLUMNS = ["revision", "action", "user", "time", "replaced_by", "deleted", "geometry"]


def history(
    conn: sa.Connection,
    project_id: int,
    project_name: str,
    annotation_id: int,
    classes: Mapping[int, LabelClass],
    readable: sa.ColumnElement[bool],
) -> pd.DataFrame:
    """One row per state: ``revision``; ``action`` that made it (create, update, delete, restore), its ``user``
    and ``time`` (UTC); ``replaced_by`` the action that replaced it ("current" for the live state);
    ``deleted``; ``geometry`` (the shape). A row the reader may not see (``readable`` false) is not found."""
    a, r = annotation_rows, annotation_revisions
    cur = conn.execute(sa.select(a).where(a.c.id == annotation_id, a.c.project_id == project_id, readable)).first()
    if cur is None:
        raise LabnbError(f"annotation {annotation_id}: not found in project '{project_name}'")
    revs = conn.execute(sa.select(r).where(r.c.annotation_id == annotation_id).order_by(r.c.revision)).all()
    made: list[tuple[str, str, Any]] = [("create", cur.created_by, cur.created_at)]
    made += [(rev.action, rev.user, rev.time) for rev in revs]
    states: list[tuple[int, bool, Any]] = [(rev.revision, bool(rev.deleted), _RevisionRow(rev, cur)) for rev in revs]
    states.append((cur.revision, bool(cur.deleted), cur))
    replaced = [rev.action for rev in revs] + ["current"]
    out = [
        (revision, action, user, time, replaced_by, deleted, row_to_shape(view, classes))
        for (revision, deleted, view), (action, user, time), replaced_by in zip(states, made, replaced, strict=True)
    ]
    frame: pd.DataFrame = pd.DataFrame(out, columns=HISTORY_COLUMNS)
    frame["time"] = pd.to_datetime(frame["time"], utc=True)  # SQLite hands back naive UTC, PostgreSQL aware
    return frame


class _RevisionRow:
    """A stored revision shaped like an annotation row, so :func:`row_to_shape` can rebuild it."""

    def __init__(self, rev: Any, cur: Any) -> None:
        self.id, self.kind, self.iscrowd = cur.id, rev.kind or cur.kind, cur.iscrowd
        self.score, self.track_id = cur.score, cur.track_id
        self.label_id, self.data, self.attributes = rev.label_id, rev.data, rev.attributes
        self.x, self.y, self.w, self.h = rev.x, rev.y, rev.w, rev.h
