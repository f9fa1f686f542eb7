"""The notebooks users start from run from top to bottom in a fresh kernel (outputs stay out of git), and
what they show is what a first user should see: no error, no empty table, warnings that point at the
notebook's own cell and are said once."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

import labnb
from labnb.sample import COCO_FILE

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PACKAGE = Path(labnb.__file__).resolve().parent
#: "path/to/file.py:12: UserWarning: ..." as the kernel prints a warning
WARNING_LINE = re.compile(r"^(?P<file>\S+?\.py):\d+: (?P<kind>\w*Warning): (?P<text>.*)$", re.MULTILINE)
DROPPED = re.compile(r"model '(?P<model>[^']+)' \(version (?P<version>[^)]+)\): \d+ of its classes")


def outputs(nb: Any) -> list[Any]:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def shown_problems(nb: Any) -> list[str]:
    """What a first user would stumble on in the run notebook's outputs."""
    problems = []
    warned: Counter[tuple[str, str]] = Counter()
    for out in outputs(nb):
        if out.output_type == "error":
            problems.append(f"error: {out.get('ename')}: {out.get('evalue')}")
        plain = out.get("data", {}).get("text/plain", "") if out.output_type != "stream" else ""
        if plain.startswith("Empty DataFrame"):
            problems.append(f"an empty table: {plain[:200]!r}")
        if out.output_type == "stream" and out.name == "stderr":
            for m in WARNING_LINE.finditer(out.text):
                if Path(m["file"]).resolve().is_relative_to(PACKAGE) or "/labnb/" in m["file"]:
                    problems.append(f"a warning that points into labnb's code: {m.group(0)[:200]}")
                d = DROPPED.search(m["text"])
                if d:
                    warned[d["model"], d["version"]] += 1
    problems += [f"model {m} {v}: the dropped classes were reported {n} times" for (m, v), n in warned.items() if n > 1]
    return problems


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs(name: str, tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / name, tmp_path / name)
    nb = nbformat.read(tmp_path / name, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert not shown_problems(nb)


def test_notebooks_are_committed_without_outputs() -> None:
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


def test_the_quickstart_guide_asks_only_for_classes_of_its_project() -> None:
    """The guide names the classes to draw in backticks; each is one of the sample's (the schema's) classes."""
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    [source] = [c.source for c in nb.cells if c.cell_type == "code" and "guide=" in c.source]
    guide = source.split('guide="""', 1)[1].split('"""', 1)[0]
    asked = re.findall(r"`([^`]+)`", guide)
    classes = {c["name"] for c in json.loads(COCO_FILE.read_text())["categories"]}
    assert asked
    assert set(asked) <= classes, f"the guide asks for {sorted(set(asked) - classes)}, not classes of the project"


def test_the_checks_see_what_a_user_would() -> None:
    """shown_problems flags an empty table, a warning from labnb's own file and a repeated warning."""
    stderr = (
        f"{PACKAGE}/assist/store.py:102: UserWarning: model 'm' (version 1): 62 of its classes have no project class\n"
        "/tmp/ipykernel_1/2.py:3: UserWarning: model 'm' (version 1): 62 of its classes have no project class\n"
    )
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                outputs=[
                    nbformat.v4.new_output("execute_result", data={"text/plain": "Empty DataFrame\nColumns: []"}),
                    nbformat.v4.new_output("stream", name="stderr", text=stderr),
                ]
            )
        ]
    )
    problems = shown_problems(nb)
    assert len(problems) == 3, problems
