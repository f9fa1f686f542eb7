"""A first-hour round trip on an installed labnb wheel: what `pip install labnb` (no extras) must be enough for.

scripts/wheel.sh runs it with the Python of a fresh venv that holds only the wheel and its declared
dependencies, from a folder outside the checkout, so an undeclared dependency or a file missing from the
wheel fails here even when the developer's own environment has it. It uses nothing but labnb, its
dependencies and the standard library, and writes only into a temporary folder.

    python scripts/wheel_smoke.py      # exit status 0 and one "wheel smoke: ok ..." line when all is well
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools.coco import COCO

import labnb as lb
from labnb import sample


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"wheel smoke: FAILED: {what}")


def installed_here() -> Path:
    """labnb's folder, checked to be this environment's copy, not a checkout on the path."""
    package = Path(lb.__file__).resolve().parent
    check(Path(sys.prefix).resolve() in package.parents, f"labnb was imported from {package}, not from {sys.prefix}")
    for name in ("static/annotator.js", "_notebooks/quickstart.ipynb", "sample/instances.json",
                 "sample/models/yolox_nano.onnx", "store/migrations/env.py"):  # fmt: skip
        check((package / name).is_file(), f"the wheel lacks labnb/{name}")
    return package


def round_trip(folder: Path) -> dict[str, int]:
    """Create a project, add the bundled images, import and export COCO, re-import the export, build an
    Annotator, run the bundled model once: the README's tour on the sample data."""
    p = lb.Project.create(folder / "smoke.labnb", labels=[], user="smoke")
    added = p.add_images(sample.IMAGES, progress=False)
    check(list(added.status) == ["added"] * 8, f"add_images: {added.to_dict('records')}")
    skipped = p.import_coco(sample.COCO_FILE, images=sample.IMAGES, source="ground_truth", progress=False)
    check(skipped.empty, f"import_coco reported problems: {skipped.to_dict('records')}")
    original = json.loads(sample.COCO_FILE.read_text())
    check(len(p.assets.df) == len(original["images"]), "import_coco added images beside the ones already there")

    out = p.export_coco(folder / "export" / "instances.json", source="ground_truth")
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        exported = COCO(str(out))  # the file is one pycocotools reads
    check(len(exported.anns) == len(original["annotations"]), f"{len(exported.anns)} annotations exported")

    q = lb.Project.create(folder / "again.labnb", labels=[], user="smoke")
    q.import_coco(out, images=sample.IMAGES, source="ground_truth", progress=False)

    def per_label(project: lb.Project) -> Counter[str]:
        return Counter(str(label) for label in project.annotations.df.label)

    check(per_label(q) == per_label(p), f"the COCO round trip changed the labels: {per_label(p)} -> {per_label(q)}")

    widget = p.annotator()
    check(len(widget.image) > 0 and widget.image_info.get("width", 0) > 0, "the Annotator shows no image")
    check(bool(widget.shapes) is False, "the Annotator shows ground truth as human work")

    rgb = np.asarray(Image.open(sample.IMAGES / "000000343937.jpg").convert("RGB"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = sample.detector().run(rgb).shapes  # onnxruntime, the decoder and NMS, from the wheel
    check(any(s.label == "person" for s in found), f"YOLOX-Nano found no person: {[s.label for s in found]}")

    # the dashboard and the agreement report: plotly, ipywidgets and tzlocal come with the wheel's dependencies
    p.annotate(next(iter(p.assets)), [lb.Box(1, 1, 5, 5, label="person")])
    dash = p.performance(poll=None)
    check(int(dash.df["daily"]["annotations"].sum()) == 1, f"the dashboard counts {dash.df['daily'].sum().to_dict()}")
    check(len(dash.figures["daily"].data) == 3, "the dashboard has no daily bars")
    dash.close()
    check(p.agreement(by="pair").figure() is not None, "the agreement report draws no figure")
    return {"images": len(p.assets.df), "annotations": len(exported.anns), "detections": len(found)}


def cli_without_jupyterlab() -> None:
    """The ``labnb`` entry point exists; without the [lab] extra ``labnb demo`` says what to install."""
    exe = Path(sys.executable).with_name("labnb")
    check(exe.is_file(), f"no labnb command beside {sys.executable}")
    try:
        import jupyterlab  # noqa: F401, PLC0415 - only whether it is there
    except ImportError:
        res = subprocess.run([str(exe), "demo", "--dry-run"], capture_output=True, text=True, check=False)  # noqa: S603
        check(res.returncode == 1 and "labnb[lab]" in res.stderr, f"labnb demo without JupyterLab: {res}")


def main() -> int:
    package = installed_here()
    with tempfile.TemporaryDirectory(prefix="labnb-wheel-smoke-") as tmp:
        counts = round_trip(Path(tmp))
    cli_without_jupyterlab()
    print(f"wheel smoke: ok (labnb {lb.__version__} from {package}; {counts})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
