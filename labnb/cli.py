"""``labnb`` on the command line: ``labnb demo`` opens the quickstart notebook in JupyterLab.

The demo works in a folder of its own (``~/labnb-demo`` unless ``--dir`` says otherwise), never in the
labnb checkout: JupyterLab saves the notebook it runs and the notebook writes ``demo.labnb`` and
``export/`` beside itself, and none of that belongs in git. The quickstart is copied there once; a copy
already there is the user's and is kept.

The demo must also work on a fresh, offline machine without asking questions: JupyterLab's news and update
checks are off, and its "Would you like to get notified about official Jupyter news?" prompt is answered
"no" for this server only, by a settings *default* in an app-settings folder of the demo's own (the user's
own JupyterLab settings are neither read differently nor written).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import labnb

REPO = Path(labnb.__file__).resolve().parents[1]
REPO_NOTEBOOKS = REPO / "notebooks"
PACKAGED_NOTEBOOKS = Path(labnb.__file__).resolve().parent / "_notebooks"
QUICKSTART = "quickstart.ipynb"
DEFAULT_DIR = Path("~") / "labnb-demo"
#: The demo's own JupyterLab app-settings folder, inside its work folder (hidden in the file browser).
SETTINGS_DIR = ".jupyterlab-settings"
#: Settings defaults for the demo's server: the news prompt is answered "no", update checks are off.
QUIET_NOTIFICATIONS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}}


def checkout() -> Path | None:
    """The git checkout this labnb runs from (an editable install or ``PYTHONPATH``), else None."""
    return REPO if (REPO / ".git").exists() and (REPO / "pyproject.toml").is_file() else None


def source_notebook() -> Path:
    """The quickstart to copy: the checkout's own when labnb runs from one, else the wheel's copy."""
    for folder in (REPO_NOTEBOOKS, PACKAGED_NOTEBOOKS) if checkout() else (PACKAGED_NOTEBOOKS,):
        if (folder / QUICKSTART).is_file():
            return folder / QUICKSTART
    raise SystemExit("labnb demo: the quickstart notebook is missing from this installation")


def work_folder(requested: str | Path) -> Path:
    """``requested``, made absolute and checked to lie outside the labnb checkout."""
    work = Path(requested).expanduser().resolve()
    repo = checkout()
    if repo is not None and (work == repo or repo in work.parents):
        raise SystemExit(
            f"labnb demo: {work} is inside the labnb checkout {repo}; the demo saves its notebook and writes "
            f"its project there, which do not belong in git. Pick a folder outside it (default {DEFAULT_DIR})."
        )
    return work


def copy_notebook(work: Path) -> tuple[Path, bool]:
    """The quickstart in ``work``, copied there unless a copy is already there. Returns (path, copied)."""
    work.mkdir(parents=True, exist_ok=True)
    target = work / QUICKSTART
    if target.exists():
        return target, False
    shutil.copyfile(source_notebook(), target)
    return target, True


def demo_settings(work: Path) -> Path:
    """An app-settings folder for the demo's server: the environment's own (``overrides.json``,
    ``overrides.d/``, ``page_config.json``) copied, plus :data:`QUIET_NOTIFICATIONS` as defaults.

    Defaults, not user settings: a choice the user made in their own JupyterLab still wins, and their
    settings folder is untouched. Rebuilt on every start so it follows the environment.
    """
    settings = work / SETTINGS_DIR
    shutil.rmtree(settings, ignore_errors=True)
    env_settings = Path(importlib.import_module("jupyterlab.commands").get_app_dir()) / "settings"
    if env_settings.is_dir():
        shutil.copytree(env_settings, settings)
    # overrides.d files apply in name order, then overrides.json: the environment's own overrides win.
    (settings / "overrides.d").mkdir(parents=True, exist_ok=True)
    (settings / "overrides.d" / "labnb-demo.json").write_text(json.dumps(QUIET_NOTIFICATIONS, indent=2) + "\n")
    return settings


def lab_command(
    root: Path, port: int | None, browser: bool, extra: Sequence[str] = (), settings: Path | None = None
) -> list[str]:
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
    if settings is not None:
        cmd.append(f"--LabApp.app_settings_dir={settings}")
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
    work = work_folder(args.dir)
    notebook, copied = copy_notebook(work)
    if copied:
        print(f"labnb demo: working folder {work} (the notebook, its project demo.labnb and exports live here)")
    else:
        print(f"labnb demo: working folder {work}: keeping your copy of {QUICKSTART} there (delete it for a fresh one)")
    cmd = lab_command(work, args.port, not args.no_browser, args.jupyter_args, demo_settings(work))
    print(f"labnb demo: opening {notebook} in JupyterLab (Ctrl+C to stop)")
    if not args.dry_run:
        sys.stdout.flush()
        os.chdir(work)  # anything the server or a kernel writes relative to its folder stays in the demo's
        # Become JupyterLab rather than wrap it: Ctrl+C and a terminate signal then reach the server itself,
        # and no orphaned server outlives `labnb demo`.
        os.execv(sys.executable, cmd)  # noqa: S606 (our own interpreter, fixed arguments)
    print(" ".join(cmd))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labnb", description="labnb: labelling in Jupyter notebooks")
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="open the quickstart notebook on the bundled sample images")
    p_demo.add_argument(
        "--dir",
        default=str(DEFAULT_DIR),
        help=f"the demo's working folder, outside any checkout (default {DEFAULT_DIR}); an existing copy of "
        "the notebook there is kept",
    )
    p_demo.add_argument("--port", type=int, default=None)
    p_demo.add_argument("--no-browser", action="store_true", help="print the URL instead of opening a browser")
    p_demo.add_argument("--dry-run", action="store_true", help="prepare the folder, print the JupyterLab command, exit")
    p_demo.set_defaults(func=demo)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "demo":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.jupyter_args = extra  # anything else goes to JupyterLab, e.g. --ServerApp.ip=0.0.0.0
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
