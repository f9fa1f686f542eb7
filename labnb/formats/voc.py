"""Pascal VOC XML: one file per image, axis-aligned boxes only.

Import takes one ``.xml`` file or a folder searched recursively. Each file names its image in
``<filename>``, looked up in ``images=`` when given, else beside the XML, then in ``../JPEGImages/`` (the
VOC layout), then at ``<path>`` (LabelImg writes it); failing those, an image of that name already in
the project gets the boxes (adding boxes to images added before).

Coordinates are read and written as ``xmin = x``, ``xmax = x + w`` in floats, full precision when not
whole numbers, so a labnb -> VOC -> labnb round trip keeps every box (to float rounding of ``x + w``).
The VOC devkit itself counts pixels from 1 with an inclusive ``xmax``; most tools (LabelImg, CVAT,
Roboflow) write ``x, x + w`` like labnb, and a 1-based file comes in shifted by one pixel, well inside
annotation noise.

``pose``, ``truncated``, ``difficult`` and ``occluded`` become shape attributes only where the
project's schema defines an attribute of that name for the label: the schema is what validates
attributes, and a flag nobody asked for would be noise. Otherwise they are dropped. Export writes them
back from the attributes (default ``Unspecified``/0). ``<part>`` boxes (VOC person layout) are ignored.

Export writes every shape as its stored box, since VOC holds boxes only: a polygon, mask or keypoints
object becomes its bounding box. Image tags and empty boxes are left out (a warning counts them).
Files are parsed with ``defusedxml``: XML from elsewhere must not expand entities or fetch anything.
"""

from __future__ import annotations

import contextlib
import math
import warnings
import xml.etree.ElementTree as StdET  # writing only; parsing goes through defusedxml
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from labnb.errors import ImportProblems, LabnbError
from labnb.formats.export import (
    ExportImage,
    ExportOptions,
    distinct_objects,
    export_images,
    output_folder,
    split_images,
    unique_name,
)
from labnb.formats.ingest import ImageEntry, ImportPlan, OnError, ingest
from labnb.geometry import Box, Tag
from labnb.pyramid import Previews
from labnb.schema import Attribute, LabelClass, Schema

if TYPE_CHECKING:
    import pandas as pd

    from labnb.project import Project

FLAGS = ("pose", "truncated", "difficult", "occluded")
FLAG_DEFAULTS = {"pose": "Unspecified", "truncated": 0, "difficult": 0}
CORNERS = ("xmin", "ymin", "xmax", "ymax")


class _BadObject(LabnbError):
    """An ``<object>`` that cannot be read; its message becomes the object's problem."""


def import_voc(
    project: Project,
    path: str | Path,
    *,
    images: str | Path | None,
    on_error: OnError,
    source: str,
    progress: bool,
    previews: Previews,
) -> pd.DataFrame:
    plan = read_voc(path, images=images, source=source, project=project)
    return ingest(project, plan, on_error=on_error, progress=progress, previews=previews)


def read_voc(path: str | Path, *, images: str | Path | None, source: str, project: Project) -> ImportPlan:
    """Parse VOC XML files into an :class:`ImportPlan` (nothing is written here)."""
    path = Path(path)
    if path.is_dir():
        files, base = sorted(p for p in path.rglob("*.xml") if p.is_file()), path
    elif path.is_file():
        files, base = [path], path.parent
    else:
        raise ImportProblems(str(path), [(str(path), "not found (give a VOC .xml file or a folder of them)")])
    if not files:
        raise ImportProblems(str(path), [(str(path), "holds no .xml files")])
    plan = ImportPlan(source=path.name)
    schema = project.schema
    for f in files:
        item = f.relative_to(base).as_posix() if f != path else f.name
        root = _parse(plan, f, item)
        if root is None:
            continue
        image = _image_entry(plan, root, f, item, Path(images) if images is not None else None, project)
        if image is None:
            continue
        plan.images.append(image)
        for i, obj in enumerate(root.findall("object"), 1):
            _read_object(plan, obj, image, f"{item} object {i}", schema, source)
    return plan


def _parse(plan: ImportPlan, file: Path, item: str) -> StdET.Element | None:
    try:
        root: StdET.Element | None = SafeET.parse(file).getroot()
    except SafeET.ParseError as exc:
        plan.problem(item, f"malformed XML: {exc}")
        return None
    except DefusedXmlException as exc:
        plan.problem(item, f"refused: the XML uses entities or external references ({type(exc).__name__})")
        return None
    except OSError as exc:
        plan.problem(item, f"cannot read the file ({exc.strerror})")
        return None
    if root is None or root.tag != "annotation":
        plan.problem(item, f"the root element is <{getattr(root, 'tag', None)}>, expected <annotation>")
        return None
    return root


def _image_entry(
    plan: ImportPlan, root: StdET.Element, file: Path, item: str, images: Path | None, project: Project
) -> ImageEntry | None:
    file_name = (root.findtext("filename") or "").strip()
    if not file_name:
        plan.problem(item, "has no <filename>")
        return None
    given = (root.findtext("path") or "").strip()
    places = (
        [images / file_name]
        if images is not None
        else [file.parent / file_name, file.parent.parent / "JPEGImages" / file_name]
    )
    places += [Path(given)] if given else []
    found = next((p for p in places if p.is_file()), None)
    if found is not None:
        width, height = (_size(root, tag) for tag in ("width", "height"))
        return ImageEntry(item, file_name, found, width, height)
    try:
        known = project.assets[file_name]
    except LabnbError:
        looked = ", ".join(str(p) for p in places)
        plan.problem(item, f"unknown <filename> '{file_name}': not in {looked}, nor in the project")
        return None
    return ImageEntry(item, file_name, None, known.width, known.height, uri=known.uri)


def _size(root: StdET.Element, tag: str) -> int | None:
    """``<size>`` value, or ``None`` (trust the file) when missing or 0, as some tools write."""
    try:
        value = int(float((root.findtext(f"size/{tag}") or "0").strip()))
    except ValueError:
        return None
    return value if value > 0 else None


def _read_object(
    plan: ImportPlan, obj: StdET.Element, image: ImageEntry, item: str, schema: Schema, source: str
) -> None:
    try:
        label = (obj.findtext("name") or "").strip()
        if not label:
            raise _BadObject("has no <name>")
        x0, y0, x1, y1 = _corners(obj)
    except _BadObject as exc:
        plan.problem(item, str(exc))
        return
    if label not in schema.names and label not in {c.name for c in plan.new_labels}:
        plan.new_labels.append(LabelClass(label))
    attributes = _flags(obj, schema.attributes_for(label))
    plan.add_shape(
        image.key, item, lambda: Box(x0, y0, x1 - x0, y1 - y0, label=label, attributes=attributes), source=source
    )


def _corners(obj: StdET.Element) -> tuple[float, float, float, float]:
    box = obj.find("bndbox")
    if box is None:
        raise _BadObject("has no <bndbox>")
    values = []
    for tag in CORNERS:
        text = (box.findtext(tag) or "").strip()
        if not text:
            raise _BadObject(f"<bndbox> has no <{tag}>")
        try:
            values.append(float(text))
        except ValueError:
            raise _BadObject(f"<{tag}> is not a number: {text!r}") from None
        if not math.isfinite(values[-1]):
            raise _BadObject(f"<{tag}> is {text}, not a finite number")
    x0, y0, x1, y1 = values
    if x1 <= x0 or y1 <= y0:
        raise _BadObject(f"xmax must be greater than xmin and ymax than ymin, got {x0:g}..{x1:g}, {y0:g}..{y1:g}")
    return x0, y0, x1, y1


def _flags(obj: StdET.Element, allowed: dict[str, Attribute]) -> dict[str, Any]:
    """The VOC flags the schema has attributes for; a bad value is left for ingest to report."""
    out: dict[str, Any] = {}
    for flag in FLAGS:
        text = obj.findtext(flag)
        if text is None or flag not in allowed:
            continue
        value: Any = text.strip()
        if allowed[flag].type == "number":
            with contextlib.suppress(ValueError):
                value = int(value) if value.lstrip("-").isdigit() else float(value)
        out[flag] = value
    return out


# -- writing ---------------------------------------------------------------------------------------


def export_voc(
    project: Project, path: str | Path, *, source: str | Sequence[str] | None, options: ExportOptions
) -> Path:
    """Write one XML per image into the folder ``path``; returns the folder.

    An image without annotations gets a file with no ``<object>`` (a background image) unless
    ``skip_empty``. With a split, the devkit layout: ``Annotations/<name>.xml`` and one
    ``ImageSets/Main/<split>.txt`` per split, listing its images' names without ``.xml``.
    """
    out = Path(path)
    _, images = export_images(project, source)
    chosen = split_images(project, images, options)
    output_folder(out)
    skipped: Counter[str] = Counter()
    used: set[str] = set()
    folder = out if options.split is None else out / "Annotations"
    for split, imgs in chosen.items():
        names = []
        for img in imgs:
            name = unique_name(img, "", used).with_suffix("")
            names.append(name.as_posix())
            target = folder / f"{name}.xml"
            target.parent.mkdir(parents=True, exist_ok=True)
            tree = StdET.ElementTree(_document(img, skipped))
            StdET.indent(tree)
            tree.write(target, encoding="utf-8", xml_declaration=True)
        if split is not None:
            (out / "ImageSets" / "Main").mkdir(parents=True, exist_ok=True)
            (out / "ImageSets" / "Main" / f"{split}.txt").write_text("".join(f"{n}\n" for n in names), "utf-8")
    if skipped:
        notes = "; ".join(f"{n} {why}" for why, n in skipped.items())
        warnings.warn(f"VOC export to {out}: {notes}", stacklevel=3)
    return out


def _document(img: ExportImage, skipped: Counter[str]) -> StdET.Element:
    root = StdET.Element("annotation")
    local = img.path
    _add(root, "folder", local.parent.name if local is not None else "")
    _add(root, "filename", img.file_name)
    if local is not None:
        _add(root, "path", str(local))
    _add(_add(root, "source"), "database", "labnb")
    size = _add(root, "size")
    for tag, dim in (("width", img.width), ("height", img.height), ("depth", 3)):
        _add(size, tag, str(dim))  # depth: VOC readers expect it; labnb does not decode pixels to know
    _add(root, "segmented", "0")
    for o in distinct_objects(img, keep_keypoints=False):
        if isinstance(o.shape, Tag):
            skipped["image tag(s) not written (VOC has no image tags)"] += 1
            continue
        x, y, w, h = o.bbox
        if w <= 0 or h <= 0:
            skipped["object(s) with an empty box not written"] += 1
            continue
        obj = _add(root, "object")
        _add(obj, "name", str(o.shape.label))
        attributes = o.shape.attributes
        for flag in FLAGS:
            value = attributes.get(flag, FLAG_DEFAULTS.get(flag))
            if value is not None:
                _add(obj, flag, str(value))
        box = _add(obj, "bndbox")
        for tag, value in zip(CORNERS, (x, y, x + w, y + h), strict=True):
            _add(box, tag, _number(value))
    return root


def _add(parent: StdET.Element, tag: str, text: str | None = None) -> StdET.Element:
    child = StdET.SubElement(parent, tag)
    child.text = text
    return child


def _number(value: float) -> str:
    """Whole numbers as integers (what VOC readers expect), others with every digit (``repr``)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
