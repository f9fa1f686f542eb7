"""Markdown guides (how to draw, how to review) rendered to HTML that is safe to hand to a browser.

A guide is written by a manager and shown to every annotator, so it is untrusted input as far as the
annotators' browsers go: markdown-it renders it (raw HTML passes through markdown, as users expect
from tables or ``<kbd>``) and nh3 then removes anything executable: scripts, event handlers,
``javascript:`` links, iframes, styles (so no CSS ``url()``), ``srcset``.

Images are the one thing a browser fetches without a click, so a guide could make every annotator's
browser call any address (a tracking pixel, a request into the lab's network). An image is therefore
shown only when its bytes are inlined as a ``data:`` URI that Python built and checked:

- a ``data:`` URI of a PNG, JPEG, GIF or WebP image (SVG is refused: it can carry scripts);
- the file name of one of the project's images (``![good box](000123.jpg)``);
- a path relative to the folder of the project's SQLite file (``![](guide/good.png)``); absolute paths,
  ``..`` out of that folder and links out of it are refused.

Bytes that are not such an image, or larger than :data:`MAX_IMAGE_BYTES` (or :data:`MAX_IMAGE_PIXELS`), are
refused, and so are images past :data:`MAX_GUIDE_IMAGE_BYTES` for the whole guide. Remote images
(``https://``, ``//host``) are refused unless the project's owner allowed their host
(``p.settings.allow_guide_image_hosts([...])``; https only, any port, the browser then fetches them with no
referrer). A refused image is replaced by visible text saying that it was removed and why.
"""

from __future__ import annotations

import base64
import binascii
import html
import io
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

import nh3
import orjson
import sqlalchemy as sa
from markdown_it import MarkdownIt
from PIL import Image

from labnb.errors import AssetError, LabnbError
from labnb.event_log import record_event
from labnb.store import database as db
from labnb.store.rows import dumps
from labnb.store.tables import projects

if TYPE_CHECKING:
    from labnb.project import Project

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable("strikethrough")

#: Tags a guide may use: text formatting, lists, tables, images (examples of good and bad boxes).
ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}, "*": {"class"}}

#: An image file or data: URI larger than this is refused (it travels to every annotator's widget).
MAX_IMAGE_BYTES = 2 * 1024 * 1024
#: ... and so is one with more pixels than this (a small file can decode to a huge bitmap in the browser).
MAX_IMAGE_PIXELS = 4096 * 4096
#: All the inlined images of one guide together: images past this are removed (the guide is resent to
#: every widget that shows it).
MAX_GUIDE_IMAGE_BYTES = 4 * MAX_IMAGE_BYTES
#: What an inlined image may be, by Pillow's format name; SVG is not among them (it can hold scripts).
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
#: The settings key (project settings JSON) of the hosts whose images guides may show.
HOSTS_KEY = "guide_image_hosts"
_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_URL_NOISE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL (WHATWG URL parsing)
_URL_EDGES = re.compile(r"^[\x00-\x20]+|[\x00-\x20]+$")  # ... and C0 controls and spaces at either end


class _Refused(Exception):
    """An image that will not be shown, and why (in words for the reader of the guide)."""


@dataclass
class RenderedGuide:
    """A guide's sanitised HTML and the images removed from it (``(address, reason)``)."""

    html: str
    removed: list[tuple[str, str]] = field(default_factory=list)


def render_guide(markdown: str | None, project: Project | None = None) -> str:
    """Sanitised HTML for a markdown guide; ``""`` for none. Images follow the rules of the module
    docstring; without a ``project`` only ``data:`` images are shown."""
    return render_guide_report(markdown, project).html


def render_guide_report(markdown: str | None, project: Project | None = None) -> RenderedGuide:
    """:func:`render_guide` with the list of the images it removed (to warn the guide's author)."""
    if not markdown:
        return RenderedGuide("")
    cleaned = nh3.clean(
        _MARKDOWN.render(markdown),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        # data: is let through to the image check below; on a link it is dropped by the filter
        url_schemes={"http", "https", "mailto", "data"},
        attribute_filter=_no_data_links,
        link_rel="noopener noreferrer nofollow",
    )
    rewriter = _ImageRewriter(_Sources(project))
    rewriter.feed(cleaned)
    rewriter.close()
    return RenderedGuide("".join(rewriter.out), rewriter.removed)


def warn_removed_images(markdown: str | None, project: Project, what: str) -> None:
    """Warn the author of a guide about the images it will show as removed (called when a job is made)."""
    removed = render_guide_report(markdown, project).removed
    if removed:
        listed = "; ".join(f"{src or '(no address)'}: {why}" for src, why in removed[:5])
        more = f" and {len(removed) - 5} more" if len(removed) > 5 else ""
        warnings.warn(f"{what}: {len(removed)} image(s) will be shown as removed: {listed}{more}", stacklevel=3)


def _no_data_links(tag: str, attribute: str, value: str) -> str | None:
    if tag != "img" and _clean_url(value).lower().startswith("data:"):
        return None
    return value


def _clean_url(value: str) -> str:
    """The URL as a browser reads it: outer spaces and controls stripped, tabs and newlines dropped,
    backslashes taken for slashes (so ``\\\\host\\x`` is the remote ``//host/x`` it is to a browser)."""
    return _URL_EDGES.sub("", _URL_NOISE.sub("", value)).replace("\\", "/")


class _ImageRewriter(HTMLParser):
    """Re-emits nh3's (already sanitised, well-formed) output, every ``<img>`` either pointing at a data:
    URI built here or replaced by a visible note of why it was removed."""

    def __init__(self, sources: _Sources) -> None:
        super().__init__(convert_charrefs=True)
        self.sources = sources
        self.out: list[str] = []
        self.removed: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(self._image(dict(attrs)) if tag == "img" else _start_tag(tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))

    def _image(self, attrs: dict[str, str | None]) -> str:
        src = attrs.get("src") or ""
        try:
            attrs["src"], extra = self.sources.resolve(src)
        except _Refused as why:
            self.removed.append((src, str(why)))
            alt = (attrs.get("alt") or "").strip()
            label = f"image '{alt}' removed" if alt else "image removed"
            shown = src if len(src) <= 120 else src[:117] + "..."
            return (
                f'<span class="labnb-guide-removed" title="{html.escape(shown)}">'
                f"[{html.escape(label)}: {html.escape(str(why))}]</span>"
            )
        return _start_tag("img", [*attrs.items(), *extra])


def _start_tag(tag: str, attrs: Sequence[tuple[str, str | None]]) -> str:
    parts = "".join(f' {k}="{html.escape(v or "")}"' for k, v in attrs)
    return f"<{tag}{parts}>"


class _Sources:
    """Where a guide's images may come from, for one project (see the module docstring)."""

    def __init__(self, project: Project | None) -> None:
        self.project = project
        self._hosts: list[str] | None = None
        self._inlined = 0

    def resolve(self, raw: str) -> tuple[str, list[tuple[str, str]]]:
        """(the src to emit, extra attributes) for an image address; raises :class:`_Refused`."""
        url = _clean_url(raw)
        if not url:
            raise _Refused("it has no address a guide may use (data:, a project file, or https)")
        if url.lower().startswith("data:"):
            return self._inline(_decode_data_uri(url)), []
        try:
            parts = urlsplit(url)
        except ValueError as exc:
            raise _Refused(f"it is not a valid address ({exc})") from exc
        if parts.scheme or url.startswith("//"):
            return self._remote(parts), [("referrerpolicy", "no-referrer")]
        return self._inline(self._project_file(unquote(url))), []

    def _inline(self, data: bytes) -> str:
        uri = _data_uri(data)
        if self._inlined + len(data) > MAX_GUIDE_IMAGE_BYTES:
            raise _Refused(f"the guide's images together are over {MAX_GUIDE_IMAGE_BYTES / 2**20:.0f} MB")
        self._inlined += len(data)
        return uri

    def _remote(self, parts: SplitResult) -> str:
        scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
        if scheme not in ("https", ""):
            raise _Refused(f"{scheme}: is not an image address a guide may use (data:, a project file, or https)")
        if not host:
            raise _Refused("it names no host")
        if host not in self.hosts():
            raise _Refused(
                f"remote images are not shown: the host {host} is not one the project's owner allowed "
                "(p.settings.allow_guide_image_hosts)"
            )
        try:
            port = parts.port
        except ValueError as exc:
            raise _Refused(f"it is not a valid address ({exc})") from exc
        # rebuilt from what was checked (no user:password@ part), always https
        netloc = host if port is None else f"{host}:{port}"
        return urlunsplit(("https", netloc, parts.path, parts.query, parts.fragment))

    def hosts(self) -> list[str]:
        if self._hosts is None:
            self._hosts = guide_image_hosts(self.project) if self.project is not None else []
        return self._hosts

    def _project_file(self, path: str) -> bytes:
        p = self.project
        if p is None:
            raise _Refused("a guide shown outside a project can only inline data: images")
        try:
            asset = p.assets[path]
        except LabnbError:
            asset = None
        if asset is not None:
            if asset.path is not None and asset.path.is_file() and asset.path.stat().st_size > MAX_IMAGE_BYTES:
                raise _Refused(_too_big(asset.path.stat().st_size))  # not read at all
            try:
                return _capped(asset.read_bytes())
            except AssetError as exc:
                raise _Refused(f"the project's image cannot be read ({exc})") from exc
        folder = project_folder(p)
        if folder is None:
            raise _Refused("it is not the file name of one of the project's images")
        if Path(path).is_absolute() or path.startswith("/"):
            raise _Refused("absolute paths are not allowed: name a file relative to the project's folder")
        try:
            full = (folder / path).resolve()
        except (OSError, ValueError) as exc:
            raise _Refused(f"it is not a usable file name ({exc})") from exc
        if not full.is_relative_to(folder):
            raise _Refused("it is outside the project's folder")
        if not full.is_file():
            raise _Refused("it is neither one of the project's images nor a file in the project's folder")
        size = full.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise _Refused(_too_big(size))
        try:
            return full.read_bytes()
        except OSError as exc:
            raise _Refused(f"the file cannot be read ({exc.strerror})") from exc


def project_folder(project: Project) -> Path | None:
    """The folder of the project's SQLite file (where guide image files live), or ``None`` (PostgreSQL,
    in-memory SQLite)."""
    url = project._engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve().parent


def _too_big(size: int) -> str:
    return f"it is {size / 2**20:.1f} MB, over the {MAX_IMAGE_BYTES / 2**20:.0f} MB a guide image may be"


def _capped(data: bytes) -> bytes:
    if len(data) > MAX_IMAGE_BYTES:
        raise _Refused(_too_big(len(data)))
    return data


def _decode_data_uri(url: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep:
        raise _Refused("the data: URI has no data")
    params = [p.strip().lower() for p in head[len("data:") :].split(";")]
    if "base64" not in params[1:]:
        raise _Refused("a data: image must be base64-encoded")
    if len(payload) * 3 // 4 > MAX_IMAGE_BYTES:
        raise _Refused(_too_big(len(payload) * 3 // 4))
    try:
        return base64.b64decode(unquote(payload), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Refused("the data: URI is not valid base64") from exc


def _data_uri(data: bytes) -> str:
    """A data: URI of ``data`` once Pillow has read it as an allowed image type (the type is Pillow's, not
    what the guide claimed)."""
    _capped(data)
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, (w, h) = im.format, im.size
            im.verify()
    except Image.DecompressionBombError as exc:
        raise _Refused(f"it decodes to too many pixels ({exc})") from exc
    except Exception as exc:  # Pillow raises many types on bytes that are not an image
        raise _Refused("it is not a PNG, JPEG, GIF or WebP image") from exc
    if fmt not in IMAGE_TYPES:
        raise _Refused(f"it is a {fmt} image; a guide may show PNG, JPEG, GIF or WebP")
    if w * h > MAX_IMAGE_PIXELS:
        raise _Refused(f"it is {w} x {h} pixels, more than a guide image may have ({MAX_IMAGE_PIXELS} pixels)")
    return f"data:{IMAGE_TYPES[fmt]};base64,{base64.b64encode(data).decode('ascii')}"


# -- the owner's setting ---------------------------------------------------------------------------------
def guide_image_hosts(project: Project) -> list[str]:
    """The hosts whose (https) images guides of ``project`` may show; none unless the owner allowed some."""
    with project._engine.connect() as conn:
        hosts = project._settings(conn).get(HOSTS_KEY, [])
    return [str(h) for h in hosts]


def allow_guide_image_hosts(project: Project, hosts: Sequence[str]) -> list[str]:
    """Let guides show https images from ``hosts`` (host names, e.g. ``"example.org"``; a subdomain must be
    listed itself); replaces the earlier list, ``[]`` allows none again. Owners only: an allowed host learns
    who opens a guide and when."""
    project.members.require("owner", "allow remote images in guides")
    if isinstance(hosts, str):
        raise LabnbError(f"hosts must be a list of host names, got the string {hosts!r}")
    clean = []
    for h in hosts:
        name = str(h).strip().lower().rstrip(".")
        if not _HOST.match(name):
            raise LabnbError(
                f"{h!r} is not a host name: give the host alone, e.g. 'example.org' (no scheme, path, port or *)"
            )
        clean.append(name)
    clean = sorted(set(clean))
    with db.transaction(project._engine) as conn:
        raw = conn.execute(
            sa.select(projects.c.settings).where(projects.c.id == project.id).with_for_update()
        ).scalar_one()
        settings = dict(orjson.loads(raw))
        settings[HOSTS_KEY] = clean
        conn.execute(projects.update().where(projects.c.id == project.id).values(settings=dumps(settings)))
        record_event(conn, project.id, project.user, "settings.guide_image_hosts", payload={"hosts": clean})
    return clean
