"""Matching a model's class names to a project's.

A COCO detector says "motorbike" or "diningtable" where the project says "motorcycle" or "dining table";
these should match without the user writing a table, and what does not match should be reported, not
silently dropped. Match order for each model class:

1. the explicit ``mapping`` (a value of ``None`` drops the class on purpose; it is not reported);
2. the exact name;
3. the normalised name: case, spaces, ``_`` and ``-`` ignored (``"diningtable" == "Dining_Table"``);
4. :data:`ALIASES`: well-known alternative spellings, compared after normalising, in either direction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from labnb.errors import SchemaError

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
