"""The repository itself: real storage back ends, every import of labnb declared, test data with its licences.

The import check reads labnb's sources with ``ast`` rather than importing them, and asks
``importlib.metadata`` which installed distribution provides each module: a package that happens to be
installed on this machine (``orjson`` once was) still fails the test when ``pyproject.toml`` does not declare it.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest itself depends on tomli before Python 3.11
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "labnb"


def test_backend_round_trip(backend_url: str) -> None:
    is_pg = backend_url.startswith("postgresql")
    engine = sa.create_engine(backend_url if is_pg else f"sqlite:///{backend_url}")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (id INTEGER PRIMARY KEY, label TEXT NOT NULL)"))
            conn.execute(sa.text("INSERT INTO probe (id, label) VALUES (1, :label)"), {"label": "cat 🐈"})
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT label FROM probe WHERE id = 1")).scalar_one() == "cat 🐈"
        assert engine.dialect.name == ("postgresql" if is_pg else "sqlite")
    finally:
        engine.dispose()


# -- dependencies ----------------------------------------------------------------------------------------
def canonical(name: str) -> str:
    """A distribution name as PEP 503 compares them (``PyYAML`` == ``pyyaml``, ``markdown_it-py`` ==
    ``markdown-it-py``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def third_party_imports(package: Path) -> dict[str, list[str]]:
    """Top-level modules that ``package`` imports from outside itself and the standard library, each with
    the files that import it (every ``import x`` and absolute ``from x import y``, wherever it stands:
    inside functions and ``TYPE_CHECKING`` blocks too)."""
    found: dict[str, list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != package.name and top not in sys.stdlib_module_names:
                    found.setdefault(top, []).append(str(path.relative_to(package.parent)))
    return found


def declared_dependencies() -> set[str]:
    """Canonical names of ``[project] dependencies``: what ``pip install labnb`` installs, no extras."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = set()
    for spec in project["dependencies"]:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
        assert match, f"pyproject.toml: cannot read the distribution name of {spec!r}"
        names.add(canonical(match.group()))
    return names


def test_the_scan_finds_imports_anywhere_in_a_module(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text(
        "from __future__ import annotations\nimport json, numpy.linalg\nfrom . import b\nfrom pkg import c\n"
        "def f():\n    import orjson\n    from PIL import Image\n"
    )
    assert third_party_imports(pkg) == {"numpy": ["pkg/a.py"], "orjson": ["pkg/a.py"], "PIL": ["pkg/a.py"]}


def test_every_third_party_import_of_labnb_is_a_declared_dependency() -> None:
    declared = declared_dependencies()
    providers = metadata.packages_distributions()
    imports = third_party_imports(PACKAGE)
    assert {"numpy", "sqlalchemy", "orjson"} <= set(imports)  # the scan sees labnb's imports at all
    problems = []
    for module, files in sorted(imports.items()):
        where = ", ".join(sorted(set(files))[:3])
        dists = providers.get(module)
        if not dists:
            problems.append(f"{module} (imported in {where}) is not installed here: no distribution provides it")
        elif not {canonical(d) for d in dists} & declared:
            problems.append(f"{module} (imported in {where}) comes from {sorted(dists)}, not in [project] dependencies")
    assert not problems, "pyproject.toml does not declare what labnb imports:\n" + "\n".join(problems)


def test_the_widget_runtime_is_declared() -> None:
    # Not imported by labnb's Python, but the front end in labnb/static runs in ipywidgets' widget manager.
    assert {"anywidget", "traitlets", "ipywidgets"} <= declared_dependencies()


# -- test data -------------------------------------------------------------------------------------------
def test_every_test_image_is_attributed(repo_data: Path) -> None:
    """tests/data/README.md names each photo's licence and Flickr source, as its licence requires."""
    coco = json.loads((repo_data / "coco_tiny_ccby" / "instances.json").read_text())
    licences = {lic["id"]: lic["name"] for lic in coco["licenses"]}
    listed = {row.split("|")[1].strip(): row for row in (repo_data / "README.md").read_text().splitlines()
              if row.startswith("| 0")}  # fmt: skip
    files = sorted(p.name for p in (repo_data / "coco_tiny_ccby" / "images").iterdir())
    assert files == sorted(image["file_name"] for image in coco["images"])
    for image in coco["images"]:
        row = listed.get(image["file_name"], "")
        assert licences[image["license"]] in row, image["file_name"]
        assert image["flickr_url"] in row, image["file_name"]
    assert (repo_data / "coco_eval_oracle" / "LICENSE").read_text().strip().startswith("The MIT License")


# -- the repository stands on its own -----------------------------------------------------------------------
OUTSIDE = re.compile(r"\.\./shared|shared/data|\"shared\"\s*/\s*\"data\"|shared/(DESIGN|TESTING|STYLE)\.md")
SCANNED = ("labnb", "tests", "scripts", "benchmarks", "js/src", "notebooks", "docs")
SCANNED_FILES = ("README.md", "pyproject.toml", "js/README.md", ".ci/run")
TEXT = {".py", ".md", ".ts", ".sh", ".ipynb", ".toml", ".json", ".txt"}


def repository_text() -> list[Path]:
    """The repository's own text files (not tests/data, whose files came from elsewhere; not this file)."""
    files = [REPO / f for f in SCANNED_FILES]
    for folder in SCANNED:
        files += [p for p in (REPO / folder).rglob("*") if p.is_file() and p.suffix in TEXT]
    return [p for p in files if REPO / "tests" / "data" not in p.parents and p != Path(__file__).resolve()]


def test_nothing_points_outside_the_repository() -> None:
    """A clone has no ../shared: no test, script, document or setting may need it."""
    files = repository_text()
    hits = [f"{p.relative_to(REPO)}: {m.group()}" for p in files for m in OUTSIDE.finditer(p.read_text())]
    assert len(files) > 100
    assert not hits


def test_the_readme_links_resolve_and_say_what_user_means() -> None:
    readme = (REPO / "README.md").read_text()
    links = re.findall(r"\]\(([^)#:]+)\)", readme)
    assert {"docs/ARCHITECTURE.md", "docs/TESTING.md"} <= set(links)
    assert not [link for link in links if not (REPO / link).exists()]
    assert "`user=` is a name, not a login" in readme
