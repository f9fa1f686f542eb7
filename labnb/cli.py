"""``labnb`` on the command line: ``labnb demo`` opens the quickstart notebook in JupyterLab.

The demo must work on a fresh, offline machine: JupyterLab's news and update checks are switched off,
and the notebook builds its project from the sample images bundled in the package.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import labnb

REPO_NOTEBOOKS = Path(labnb.__file__).resolve().parents[1] / "notebooks"
PACKAGED_NOTEBOOKS = Path(labnb.__file__).resolve().parent / "_notebooks"
QUICKSTART = "quickstart.ipynb"


def notebook_dir(work: Path) -> Path:
    """Where to open the quickstart: the checkout's ``notebooks/``, or a copy in ``work`` when installed."""
    if (REPO_NOTEBOOKS / QUICKSTART).exists():
        return REPO_NOTEBOOKS
    source = PACKAGED_NOTEBOOKS / QUICKSTART
    if not source.exists():
        raise SystemExit("labnb demo: the quickstart notebook is missing from this installation")
    work.mkdir(parents=True, exist_ok=True)
    if not (work / QUICKSTART).exists():
        shutil.copy(source, work / QUICKSTART)
    return work


def lab_command(root: Path, port: int | None, browser: bool, extra: Sequence[str] = ()) -> list[str]:
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.default_url=/lab/tree/{QUICKSTART}",
    ]
    if port is not None:
        cmd.append(f"--ServerApp.port={port}")
    if not browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # JupyterLab refuses root otherwise; fresh machines and containers run as root
    return [*cmd, *extra]


def demo(args: argparse.Namespace) -> int:  # returns only for errors and --dry-run
    if importlib.util.find_spec("jupyterlab") is None:
        print('labnb demo needs JupyterLab: pip install "labnb[lab]"', file=sys.stderr)
        return 1
    root = notebook_dir(Path(args.dir))
    cmd = lab_command(root, args.port, not args.no_browser, args.jupyter_args)
    print(f"labnb demo: opening {root / QUICKSTART} in JupyterLab (Ctrl+C to stop)")
    if not args.dry_run:
        sys.stdout.flush()
        # Become JupyterLab rather than wrap it: Ctrl+C and a terminate signal then reach the server itself,
        # and no orphaned server outlives `labnb demo`.
        os.execv(sys.executable, cmd)  # noqa: S606 (our own interpreter, fixed arguments)
    print(" ".join(cmd))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labnb", description="labnb: labelling in Jupyter notebooks")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="open the quickstart notebook on the bundled sample images")
    p_demo.add_argument("--dir", default="labnb-demo", help="work folder when labnb is installed from a wheel")
    p_demo.add_argument("--port", type=int, default=None)
    p_demo.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    p_demo.add_argument("--dry-run", action="store_true", help="print the JupyterLab command and exit")
    p_demo.set_defaults(func=demo)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "demo":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra  # anything else goes to JupyterLab, e.g. --ServerApp.ip=0.0.0.0
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
