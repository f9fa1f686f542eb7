"""Matching a model's class names to a project's.

A COCO detector says "motorbike" or "diningtable" where the project says "motorcycle" or "dining table";
these should match without the user writing a table, and what does not match should be reported, not
silently dropped. Match order for each model class:

1. the explicit ``mapping`` (a value of ``None`` drops the class on purpose; it is not reported);
2. the exact name;
3. the normalised name: case, spaces, ``_`` and ``-`` ignored (``"diningtable" == "Dining_Table"``);
4. :data:`ALIASES`: well-known alternative spellings, compared after normalising, in either direction.

What matches nothing is dropped with one warning per project and model version (:func:`warn_unmapped`),
however many calls use the model: a COCO detector on a project of 18 classes drops 62, and saying so on
every image or every call buries the one line worth reading.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import warnings
from collections.abc import Hashable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

from labnb.errors import SchemaError

#: How many dropped class names a warning spells out before "and N more".
SHOWN_NAMES = 8
_PACKAGE_DIR = str(Path(__file__).resolve().parents[1]) + os.sep
_warned: set[tuple[Hashable, ...]] = set()
_warned_lock = threading.Lock()

#: Alternative spellings -> the COCO spelling (both normalised). Pascal VOC, Open Images and common usage;
#: only names that mean the same thing (no "bike", which may be either bicycle or motorcycle).
ALIASES: dict[str, str] = {
    "motorbike": "motorcycle",
    "aeroplane": "airplane",
    "sofa": "couch",
    "tvmonitor": "tv",
    "television": "tv",
    "pedestrian": "person",
    "doughnut": "donut",
    "mobilephone": "cellphone",
    "hairdryer": "hairdrier",
    "houseplant": "pottedplant",
}

_SEPARATORS = re.compile(r"[\s_\-]+")


def normalise(name: str) -> str:
    """Lower case without spaces, ``_`` or ``-``."""
    return _SEPARATORS.sub("", name).casefold()


def _canonical(name: str) -> str:
    n = normalise(name)
    return ALIASES.get(n, n)


def map_classes(
    model_classes: Sequence[str],
    project_classes: Sequence[str],
    mapping: Mapping[str, str | None] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Map model class names to project class names.

    Returns
    -------
    (matched, unmapped)
        ``{model class: project class}`` for every class that matched, and the model classes that
        matched nothing (in model order; classes mapped to ``None`` are in neither).

    Raises
    ------
    labnb.errors.SchemaError
        A ``mapping`` value is not a project class. Keys that are not classes of this model are ignored:
        one mapping may serve several models, or a model's classes may be mapped a few at a time.
    """
    project = list(project_classes)
    mapping = dict(mapping or {})
    known = set(project)
    bad_targets = sorted({str(v) for v in mapping.values() if v is not None and v not in known})
    if bad_targets:
        raise SchemaError(
            f"class mapping: {bad_targets} {'is' if len(bad_targets) == 1 else 'are'} not project "
            f"class(es); the project has {project}"
        )
    by_norm: dict[str, str] = {}
    by_canon: dict[str, str] = {}
    for name in project:  # the first project class wins when two normalise alike
        by_norm.setdefault(normalise(name), name)
        by_canon.setdefault(_canonical(name), name)
    matched: dict[str, str] = {}
    unmapped: list[str] = []
    for name in model_classes:
        if name in mapping:
            target = mapping[name]
            if target is not None:
                matched[name] = target
            continue
        hit = name if name in known else by_norm.get(normalise(name)) or by_canon.get(_canonical(name))
        if hit is None:
            unmapped.append(name)
        else:
            matched[name] = hit
    return matched, unmapped


@lru_cache(maxsize=512)
def _inside_labnb(filename: str) -> bool:
    return os.path.realpath(filename).startswith(_PACKAGE_DIR)


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` in the *calling* function point at the first frame
    outside labnb: the user's own line (a notebook cell, a script), however deep inside labnb the warning
    is raised. (Python 3.12's ``skip_file_prefixes`` does this; labnb supports 3.10.)"""
    level = 1
    frame = sys._getframe(1)  # the function that will call warnings.warn, which is stacklevel 1
    while frame.f_back is not None and _inside_labnb(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def warn_unmapped(model: str, version: str, unmapped: Sequence[str], scope: Hashable = None) -> bool:
    """Warn that ``unmapped`` classes of ``model`` (at ``version``) are dropped: the first
    :data:`SHOWN_NAMES` names and how many more, pointing at the user's call.

    Said once per ``scope`` (the project), model name, version and set of dropped names, in this process:
    later calls with the same model stay quiet, a new version or a changed schema speaks again. Returns
    whether it warned.
    """
    key = (scope, model, version, tuple(unmapped))
    with _warned_lock:
        if not unmapped or key in _warned:
            return False
        _warned.add(key)
    names = ", ".join(unmapped[:SHOWN_NAMES])
    more = f" and {len(unmapped) - SHOWN_NAMES} more" if len(unmapped) > SHOWN_NAMES else ""
    warnings.warn(
        f"model '{model}' (version {version}): {len(unmapped)} of its classes have no project class and are "
        f"dropped: {names}{more}. Pass mapping={{'model name': 'project name'}} to keep one; this is said once "
        "per model version.",
        UserWarning,
        stacklevel=user_stacklevel(),
    )
    return True
