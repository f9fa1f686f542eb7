"""The label schema: what may be drawn in a project.

Classes carry a colour and a hotkey (the annotator's class picker), and optionally named keypoints with
a skeleton (a keypoint class, like COCO's "person"). Tag groups are image-level single or multi choice;
attributes are per-object fields (text, number, choice), optionally limited to some classes.

Names end up in a browser and in export files, so the schema refuses names that are empty, too long or
hold control characters; HTML escaping happens where they are shown.
"""

from __future__ import annotations

import colorsys
import html
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar

import nh3

from labnb.errors import SchemaError

TOOLS = ("box", "polygon", "keypoints", "mask", "tags")
ATTRIBUTE_TYPES = ("text", "number", "choice")
MAX_NAME = 128

#: Distinct, colour-blind-friendly defaults (Okabe-Ito, then Tableau 10), cycled for longer schemas.
PALETTE = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#4E79A7",
    "#F28E2B",
    "#E15759",
    "#76B7B2",
    "#59A14F",
    "#EDC948",
    "#B07AA1",
    "#FF9DA7",
    "#9C755F",
    "#BAB0AC",
)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_T = TypeVar("_T", "LabelClass", "TagGroup", "Attribute")


def _golden_color(n: int, taken: set[str]) -> str:
    """The n-th colour after the palette: hue steps of the golden angle at a saturation and lightness that
    read on light and dark backgrounds, skipping any already taken."""
    while True:
        hue = (0.11 + n * 0.618033988749895) % 1.0
        light = (0.55, 0.45, 0.65)[n % 3]
        r, g, b = colorsys.hls_to_rgb(hue, light, 0.65)
        color = f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"
        if color not in taken:
            return color
        n += 1


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_name(name: object, what: str) -> str:
    """Return ``name`` stripped, or raise naming ``what`` and the problem."""
    if not isinstance(name, str):
        raise SchemaError(f"{what}: a name must be a string, got {type(name).__name__}")
    clean = name.strip()
    if not clean:
        raise SchemaError(f"{what}: the name is empty")
    if len(clean) > MAX_NAME:
        raise SchemaError(f"{what} '{clean[:30]}...': the name is longer than {MAX_NAME} characters")
    if _CONTROL.search(clean):
        raise SchemaError(f"{what} {clean!r}: the name contains control characters")
    if plain_text(clean) != clean:
        raise SchemaError(f"{what} {clean!r}: names are plain text; HTML tags or entities are not allowed")
    return clean


def plain_text(text: str) -> str:
    """``text`` with HTML tags removed (``"<b>duck</b>"`` -> ``"duck"``; ``"age<5"`` and ``"a & b"`` stay).

    Names reach browsers (the annotator, review panels), so a name must equal its plain text: the
    schema refuses any other, and what the widgets send is therefore both sanitised and exactly the
    stored name the front end uses to label shapes.
    """
    return html.unescape(nh3.clean(text, tags=set()))


@dataclass
class LabelClass:
    """One class: a name, a colour (``#rrggbb``), a hotkey, and keypoint names with skeleton edges."""

    name: str
    color: str | None = None
    hotkey: str | None = None
    keypoints: list[str] = field(default_factory=list)
    #: Skeleton edges as pairs of indices into ``keypoints``.
    skeleton: list[tuple[int, int]] = field(default_factory=list)
    id: int | None = None

    def validate(self) -> None:
        self.name = check_name(self.name, "label")
        if self.color is not None and not _COLOR.match(self.color):
            raise SchemaError(f"label '{self.name}': colour must look like '#1f77b4', got {self.color!r}")
        if self.hotkey is not None and (len(self.hotkey) != 1 or _CONTROL.search(self.hotkey)):
            raise SchemaError(f"label '{self.name}': hotkey must be one printable key, got {self.hotkey!r}")
        self.keypoints = [check_name(k, f"label '{self.name}' keypoint") for k in self.keypoints]
        if len(set(self.keypoints)) != len(self.keypoints):
            raise SchemaError(f"label '{self.name}': keypoint names repeat: {self.keypoints}")
        edges = []
        for edge in self.skeleton:
            if len(edge) != 2:
                raise SchemaError(f"label '{self.name}': skeleton edge {edge!r} is not a pair")
            a, b = (self._index(e) for e in edge)
            if a == b:
                raise SchemaError(f"label '{self.name}': skeleton edge joins point {a} to itself")
            edges.append((a, b))
        self.skeleton = edges

    def _index(self, point: int | str) -> int:
        if isinstance(point, str):
            if point not in self.keypoints:
                raise SchemaError(f"label '{self.name}': skeleton names unknown keypoint '{point}'")
            return self.keypoints.index(point)
        if not 0 <= int(point) < len(self.keypoints):
            raise SchemaError(f"label '{self.name}': skeleton index {point} is outside 0..{len(self.keypoints) - 1}")
        return int(point)


@dataclass
class TagGroup:
    """Image-level tags: ``multi=False`` allows one of ``options`` per image, ``multi=True`` any."""

    name: str
    options: list[str]
    multi: bool = False

    def validate(self) -> None:
        self.name = check_name(self.name, "tag group")
        self.options = [check_name(o, f"tag group '{self.name}' option") for o in self.options]
        if not self.options:
            raise SchemaError(f"tag group '{self.name}': needs at least one option")
        if len(set(self.options)) != len(self.options):
            raise SchemaError(f"tag group '{self.name}': options repeat: {self.options}")


@dataclass
class Attribute:
    """A per-object field. ``classes=None`` applies it to every class."""

    name: str
    type: Literal["text", "number", "choice"] = "text"
    options: list[str] = field(default_factory=list)
    classes: list[str] | None = None
    default: Any = None

    def validate(self, class_names: set[str]) -> None:
        self.name = check_name(self.name, "attribute")
        if self.type not in ATTRIBUTE_TYPES:
            raise SchemaError(f"attribute '{self.name}': type must be one of {ATTRIBUTE_TYPES}")
        if self.type == "choice" and not self.options:
            raise SchemaError(f"attribute '{self.name}': a choice attribute needs options")
        self.options = [check_name(o, f"attribute '{self.name}' option") for o in self.options]
        for c in self.classes or []:
            if c not in class_names:
                raise SchemaError(f"attribute '{self.name}': applies to unknown label '{c}'")

    def check_value(self, value: Any, where: str) -> Any:
        """Validate one value of this attribute for an object described by ``where``."""
        if value is None:
            return None
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
                raise SchemaError(f"{where}: attribute '{self.name}' must be a number, got {value!r}")
            return value
        if self.type == "choice":
            if value not in self.options:
                raise SchemaError(f"{where}: attribute '{self.name}' must be one of {self.options}, got {value!r}")
            return value
        return str(value)


@dataclass
class Schema:
    """Classes, enabled tools, tag groups and attributes of a project."""

    classes: list[LabelClass] = field(default_factory=list)
    tools: list[str] = field(default_factory=lambda: list(TOOLS))
    tags: list[TagGroup] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)

    def validate(self) -> Schema:
        names = []
        for c in self.classes:
            c.validate()
            names.append(c.name)
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise SchemaError(f"label names repeat: {sorted(dup)}")
        self._assign_defaults()
        keys = [c.hotkey for c in self.classes if c.hotkey]
        dupk = {k for k in keys if keys.count(k) > 1}
        if dupk:
            raise SchemaError(f"hotkeys repeat: {sorted(dupk)}")
        unknown = set(self.tools) - set(TOOLS)
        if unknown:
            raise SchemaError(f"unknown tool(s) {sorted(unknown)}; known: {list(TOOLS)}")
        for g in self.tags:
            g.validate()
        tnames = [g.name for g in self.tags]
        if len(set(tnames)) != len(tnames):
            raise SchemaError(f"tag group names repeat: {tnames}")
        for a in self.attributes:
            a.validate(set(names))
        anames = [a.name for a in self.attributes]
        if len(set(anames)) != len(anames):
            raise SchemaError(f"attribute names repeat: {anames}")
        return self

    def _assign_defaults(self) -> None:
        used_colors = {c.color for c in self.classes if c.color}
        free_colors = [p for p in PALETTE if p not in used_colors]
        used_keys = {c.hotkey for c in self.classes if c.hotkey}
        free_keys = [k for k in "123456789" if k not in used_keys]
        extra = 0
        for c in self.classes:
            if c.color is None:
                if free_colors:
                    c.color = free_colors.pop(0)
                else:  # past the palette: hues spread by the golden angle, so no two classes share a colour
                    c.color = _golden_color(extra, used_colors)
                    extra += 1
                used_colors.add(c.color)
            if c.hotkey is None and free_keys and c.id is None:
                c.hotkey = free_keys.pop(0)

    # -- lookups -------------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [c.name for c in self.classes]

    def get(self, name: str) -> LabelClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise SchemaError(f"unknown label '{name}'; the project's labels are {self.names}")

    def attributes_for(self, label: str | None) -> dict[str, Attribute]:
        return {a.name: a for a in self.attributes if a.classes is None or label in a.classes}

    def check_attributes(self, label: str | None, values: Mapping[str, Any], where: str) -> dict[str, Any]:
        allowed = self.attributes_for(label)
        out = {}
        for k, v in values.items():
            if k not in allowed:
                raise SchemaError(f"{where}: attribute '{k}' is not defined for label '{label}'")
            out[k] = allowed[k].check_value(v, where)
        return out

    def tag_group(self, value: str, group: str | None) -> TagGroup | None:
        """The group a tag value belongs to; free tags (no groups defined) return ``None``."""
        if not self.tags:
            return None
        for g in self.tags:
            if (group is None or g.name == group) and value in g.options:
                return g
        raise SchemaError(f"tag '{value}' is not an option of {'group ' + repr(group) if group else 'any tag group'}")

    # -- (de)serialisation ---------------------------------------------------------------------
    def settings_json(self) -> dict[str, Any]:
        """Everything but the classes (which live in their own table)."""
        return {
            "tools": list(self.tools),
            "tags": [asdict(g) for g in self.tags],
            "attributes": [asdict(a) for a in self.attributes],
        }

    @classmethod
    def from_parts(cls, classes: list[LabelClass], settings: Mapping[str, Any]) -> Schema:
        return cls(
            classes=classes,
            tools=list(settings.get("tools", TOOLS)),
            tags=[TagGroup(**g) for g in settings.get("tags", [])],
            attributes=[Attribute(**a) for a in settings.get("attributes", [])],
        )


def as_label_class(spec: str | Mapping[str, Any] | LabelClass) -> LabelClass:
    """Accept ``"duck"``, ``{"name": "duck", "color": ...}`` or a :class:`LabelClass`."""
    if isinstance(spec, LabelClass):
        return spec
    if isinstance(spec, str):
        return LabelClass(spec)
    if isinstance(spec, Mapping):
        return _from_mapping(LabelClass, spec, "label")
    raise SchemaError(f"a label must be a name, a dict or a LabelClass, got {type(spec).__name__}")


def build_schema(
    labels: Schema | Iterable[str | Mapping[str, Any] | LabelClass] | None,
    *,
    tools: Sequence[str] | None = None,
    tags: Iterable[TagGroup | Mapping[str, Any]] | None = None,
    attributes: Iterable[Attribute | Mapping[str, Any]] | None = None,
) -> Schema:
    """Build and validate a schema from the forms ``Project.create`` accepts."""
    if isinstance(labels, Schema):
        return labels.validate()
    if isinstance(labels, str):
        raise SchemaError("labels must be a list of names, not one string")
    schema = Schema(classes=[as_label_class(c) for c in (labels or [])])
    if tools is not None:
        schema.tools = list(tools)
    schema.tags = [g if isinstance(g, TagGroup) else _from_mapping(TagGroup, g, "tag group") for g in (tags or [])]
    schema.attributes = [
        a if isinstance(a, Attribute) else _from_mapping(Attribute, a, "attribute") for a in (attributes or [])
    ]
    return schema.validate()


def _from_mapping(cls: type[_T], spec: Any, what: str) -> _T:
    """``cls(**spec)``, with a misspelt or unknown key refused by name (a dataclass says only "unexpected
    keyword argument") and the keys it does take listed."""
    if not isinstance(spec, Mapping):
        raise SchemaError(f"a {what} must be a dict or a {cls.__name__}, got {type(spec).__name__}")
    known = [f.name for f in fields(cls) if f.init]
    unknown = sorted(set(spec) - set(known))
    if unknown:
        name = spec.get("name", "?")
        raise SchemaError(f"{what} {name!r}: unknown key(s) {unknown}; a {what} takes {known}")
    try:
        return cls(**dict(spec))
    except TypeError as exc:
        raise SchemaError(f"{what} {dict(spec)!r}: {exc}") from exc
