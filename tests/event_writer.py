"""Another process writing annotations, for the tests of live views (the dashboard's refresh and its
charts in a browser): ``python tests/event_writer.py LOCATION NAME COUNT [USER]`` opens the project (NAME:
its name in a database, or "" for a SQLite file) as USER (default "ana") and creates COUNT boxes on the
first image through the Annotator's own edit path, each with 3 s of active time (one event each)."""

from __future__ import annotations

import sys

import labnb as lb
from labnb.widgets.serializers import shape_to_dto
from labnb.workflow.editing import apply_edits

SECONDS_EACH = 3.0


def write(location: str, name: str | None, count: int, user: str = "ana") -> None:
    p = lb.Project.open(location, name=name or None, user=user)
    asset = int(p.assets.df["asset_id"].iloc[0])
    label = p.schema.classes[0].name
    for i in range(count):
        box = lb.Box(10 + i, 10, 30, 30, label=label)
        edit = {"op": "create", "cid": f"b{i}", "shape": shape_to_dto(box, f"b{i}"), "duration_ms": SECONDS_EACH * 1000}
        (result,) = apply_edits(p, asset, [edit])
        if not result["ok"]:
            raise SystemExit(f"edit refused: {result['message']}")
    p.close()


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2], int(sys.argv[3]), *sys.argv[4:5])
