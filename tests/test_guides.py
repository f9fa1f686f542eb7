"""Guides as a hostile author would write them: every way to make an annotator's browser fetch an address
(remote, http, protocol-relative, srcset, CSS url(), data: SVG with a script, paths out of the project's
folder) is removed with a visible note; images of the project and data: images are inlined; remote hosts
only when the project's owner allowed them. Real projects (SQLite files, and PostgreSQL for the stored
setting), real image files."""

from __future__ import annotations

import base64
import io
import os
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import labnb as lb
from labnb.workflow.guides import MAX_GUIDE_IMAGE_BYTES, MAX_IMAGE_BYTES, render_guide, render_guide_report

TRACKER = "https://evil.example/pixel.png"
SVG_WITH_SCRIPT = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>').decode()


class _Elements(HTMLParser):
    """Every element of rendered HTML with its attributes, and the text a reader sees."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def images(html: str) -> list[dict[str, str | None]]:
    return [a for t, a in _Elements(html).elements if t == "img"]


def seen_text(html: str) -> str:
    return "".join(_Elements(html).text)


def fetches(html: str) -> list[str]:
    """What a browser would fetch on its own when shown ``html``: image sources other than data: URIs,
    and any srcset, style, background or poster attribute (none may survive)."""
    out = []
    for _, attrs in _Elements(html).elements:
        for name, value in attrs.items():
            if name == "src" and not (value or "").startswith("data:"):
                out.append(f"src={value}")
            if name in ("srcset", "style", "background", "poster", "ping", "lowsrc", "dynsrc"):
                out.append(f"{name}={value}")
    return out


def png(size: tuple[int, int] = (6, 4), color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def data_uri_bytes(src: str | None) -> bytes:
    assert src is not None
    head, _, payload = src.partition(",")
    assert head in ("data:image/png;base64", "data:image/jpeg;base64")
    return base64.b64decode(payload)


@pytest.fixture
def project(tmp_path: Path) -> lb.Project:
    """A project file in tmp_path/proj, one photo added from elsewhere, a guide image beside the file,
    a team with a manager."""
    folder = tmp_path / "proj"
    (folder / "guide").mkdir(parents=True)
    p = lb.Project.create(folder / "cats.labnb", labels=["cat"], user="olga")
    photo = tmp_path / "photos" / "cat 1.jpg"
    photo.parent.mkdir()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(photo)
    p.add_images([photo], progress=False)
    (folder / "guide" / "good.png").write_bytes(png())
    (folder / "guide" / "notes.txt").write_text("not an image")
    (tmp_path / "secret.png").write_bytes(png(color=(0, 0, 0)))
    p.members.add("mona", "manager")
    p.members.add("alice", "annotator")
    return p


# -- nothing is fetched from elsewhere ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("guide", "reason"),
    [
        (f"![tracker]({TRACKER})", "host evil.example is not one the project's owner allowed"),
        (f'<img src="{TRACKER}" alt="tracker" width="1" height="1">', "host evil.example"),
        (f'<IMG SRC="{TRACKER.upper()}" alt="tracker">', "host evil.example"),
        (f'<img src="  {TRACKER}" alt="tracker">', "host evil.example"),
        ('<img src="http://evil.example/pixel.png" alt="tracker">', "http: is not an image address"),
        ('<img src="//evil.example/pixel.png" alt="tracker">', "host evil.example"),
        ('<img src="\\\\evil.example\\pixel.png" alt="tracker">', "host evil.example"),  # a browser reads //
        ("<img src=\"ht\ttps://evil.example/pixel.png\" alt='tracker'>", "host evil.example"),
        (f'<img src="data:image/svg+xml;base64,{SVG_WITH_SCRIPT}" alt="tracker">', "not a PNG, JPEG, GIF or WebP"),
        ('<img src="data:image/png;base64,PGh0bWw+PC9odG1sPg==" alt="tracker">', "not a PNG, JPEG, GIF or WebP"),
        ('<img src="data:image/png,%89PNG" alt="tracker">', "must be base64"),
        ("![tracker](../../etc/passwd)", "outside the project's folder"),
        ("![tracker](../secret.png)", "outside the project's folder"),
        ("![tracker](guide/../../secret.png)", "outside the project's folder"),
        ("![tracker](/etc/passwd)", "absolute paths are not allowed"),
        ("![tracker](%2Fetc%2Fpasswd)", "absolute paths are not allowed"),
        ('<img src="file:///etc/passwd" alt="tracker">', "no address a guide may use"),
        ("![tracker](guide/notes.txt)", "not a PNG, JPEG, GIF or WebP"),
        ("![tracker](cats.labnb)", "not a PNG, JPEG, GIF or WebP"),
        ("![tracker](guide/missing.png)", "neither one of the project's images nor a file"),
    ],
)
def test_hostile_images_are_removed_with_a_visible_reason(project: lb.Project, guide: str, reason: str) -> None:
    report = render_guide_report(f"Draw boxes.\n\n{guide}\n\nThanks.", project)
    assert images(report.html) == []
    assert fetches(report.html) == []
    text = seen_text(report.html)
    assert "[image 'tracker' removed: " in text or "[image removed: " in text
    assert reason in text
    assert "Draw boxes." in text
    assert "Thanks." in text  # nothing else of the guide is lost
    assert len(report.removed) == 1
    assert reason in report.removed[0][1]


def test_srcset_style_and_script_links_stay_blocked(project: lb.Project) -> None:
    good = base64.b64encode(png()).decode()
    guide = (
        f'<img src="data:image/png;base64,{good}" srcset="{TRACKER} 2x" alt="ok">\n\n'
        f'<p style="background: url({TRACKER})">styled</p><style>body {{ background: url({TRACKER}) }}</style>\n\n'
        f'[run](javascript:alert(1)) <a href="javascript:alert(2)">js</a> <a href="data:text/html,<script>1</script>">'
        f'data</a> <a href=" data:text/html,x">spaced</a> <a href="https://example.org/help">help</a>\n\n'
        f'<video poster="{TRACKER}"></video><picture><source srcset="{TRACKER}"></picture>'
        f'<table background="{TRACKER}"><tr><td>cell</td></tr></table>'
    )
    html = render_guide(guide, project)
    assert fetches(html) == []
    (img,) = images(html)
    assert data_uri_bytes(img["src"]) == png()  # the data: image itself is kept
    hrefs = [a.get("href") for t, a in _Elements(html).elements if t == "a"]
    assert hrefs == [None, None, None, "https://example.org/help"]  # links to click, never scripts or data:
    assert "alert(2)" not in html  # (the markdown link that markdown-it refused stays as its text)
    assert "evil.example" not in html


def test_data_images_are_kept_and_retyped_by_their_bytes(project: lb.Project) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (5, 5), (0, 90, 0)).save(buf, "JPEG")
    # the guide calls the JPEG a PNG: what the browser is told is what the bytes are
    html = render_guide(f"![leaf](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})", project)
    (img,) = images(html)
    assert img["src"] is not None
    assert img["src"].startswith("data:image/jpeg;base64,")
    assert data_uri_bytes(img["src"]) == buf.getvalue()
    assert img["alt"] == "leaf"
    # without a project only data: images can be shown
    assert images(render_guide(f"![x](data:image/png;base64,{base64.b64encode(png()).decode()})")) != []
    assert "can only inline data: images" in seen_text(render_guide("![x](guide/good.png)"))


def test_size_and_pixel_caps(project: lb.Project, tmp_path: Path) -> None:
    folder = tmp_path / "proj" / "guide"
    noise = np.random.default_rng(1).integers(0, 255, (1000, 1000, 3), dtype=np.uint8)
    Image.fromarray(noise).save(folder / "big.png")
    assert (folder / "big.png").stat().st_size > MAX_IMAGE_BYTES
    Image.new("1", (5000, 5000)).save(folder / "wide.png")  # a few kB that decode to 25 Mpx
    assert (folder / "wide.png").stat().st_size < 100_000
    text = seen_text(render_guide("![big](guide/big.png) ![wide](guide/wide.png)", project))
    assert "[image 'big' removed: it is 2.9 MB, over the 2 MB a guide image may be]" in text
    assert "[image 'wide' removed: it is 5000 x 5000 pixels" in text
    big = base64.b64encode((folder / "big.png").read_bytes()).decode()
    assert "over the 2 MB" in seen_text(render_guide(f"![big](data:image/png;base64,{big})", project))
    # one of the project's own images, too big to inline, is refused the same way
    project.add_images([folder / "big.png"], progress=False)
    assert "[image 'b' removed: it is 2.9 MB" in seen_text(render_guide("![b](big.png)", project))
    # under the cap one by one, but a whole guide of them is more than every widget should be sent
    Image.fromarray(noise[:700, :700]).save(folder / "part.png")
    part = (folder / "part.png").stat().st_size
    assert 1.2 * 2**20 < part < MAX_IMAGE_BYTES
    report = render_guide_report(" ".join(f"![p{i}](guide/part.png)" for i in range(7)), project)
    fits = int(MAX_GUIDE_IMAGE_BYTES // part)
    assert 1 < fits < 7
    assert len(images(report.html)) == fits
    assert [why for _, why in report.removed] == ["the guide's images together are over 8 MB"] * (7 - fits)


def test_a_symlink_out_of_the_project_folder_is_refused(project: lb.Project, tmp_path: Path) -> None:
    (tmp_path / "proj" / "guide" / "link.png").symlink_to(tmp_path / "secret.png")
    html = render_guide("![s](guide/link.png)", project)
    assert images(html) == []
    assert "outside the project's folder" in seen_text(html)


# -- images of the project are inlined ------------------------------------------------------------------
def test_project_images_and_files_beside_the_project_are_inlined(project: lb.Project) -> None:
    (photo,) = list(project.assets)
    html = render_guide("Good: ![good](guide/good.png)\n\nA real one: ![cat](<cat 1.jpg>)", project)
    good, cat = images(html)
    assert data_uri_bytes(good["src"]) == png()
    assert data_uri_bytes(cat["src"]) == photo.read_bytes()  # the project's image, read by Python
    assert fetches(html) == []
    # a guide opened from another folder resolves against the project's file, not the working directory
    here = Path.cwd()
    try:
        os.chdir("/")
        again = lb.Project.open(project.location, user="alice")
        assert data_uri_bytes(images(render_guide("![g](guide/good.png)", again))[0]["src"]) == png()
    finally:
        os.chdir(here)


def test_the_annotator_and_the_job_show_the_guide_by_these_rules(project: lb.Project) -> None:
    mona = lb.Project.open(project.location, user="mona")
    guide = f"Like this: ![good](guide/good.png) not from ![there]({TRACKER})"
    with pytest.warns(UserWarning, match=r"job 'boxes' guide: 1 image\(s\) will be shown as removed: .*evil\.example"):
        job = mona.jobs.create("boxes", guide=guide)
    job.launch()
    task = lb.Project.open(project.location, user="alice").next_task()
    assert task is not None
    for html in (job.guide_html, task.annotator().guide_html):
        (img,) = images(html)
        assert data_uri_bytes(img["src"]) == png()
        assert "[image 'there' removed: remote images are not shown" in seen_text(html)
        assert fetches(html) == []


# -- the owner's list of allowed hosts ------------------------------------------------------------------
def test_the_owner_allows_listed_hosts(backend_url: str, tmp_path: Path) -> None:
    p = lb.Project.create(backend_url, labels=["cat"], user="olga", overwrite=True)
    photo = tmp_path / "im0.png"
    photo.write_bytes(png((8, 8)))
    p.add_images([photo], progress=False)
    p.members.add("mona", "manager")
    guide = (
        "![a](https://example.org/a.png) ![b](http://example.org/b.png) ![c](https://cdn.example.org/c.png) "
        "![d](https://user:pw@example.org:8443/d.png?x=1) ![e](//example.org/e.png) ![f](im0.png)"
    )
    before = render_guide(guide, p)
    assert [i["alt"] for i in images(before)] == ["f"]  # only the project's own image
    assert data_uri_bytes(images(before)[0]["src"]) == png((8, 8))
    assert p.settings.guide_image_hosts == []
    assert p.settings.allow_guide_image_hosts([" Example.ORG "]) == ["example.org"]
    # stored with the project: another member's session sees it
    mona = lb.Project.open(backend_url, user="mona")
    assert mona.settings.guide_image_hosts == ["example.org"]
    after = render_guide(guide, mona)
    shown = {i["alt"]: i for i in images(after)}
    assert sorted(shown) == ["a", "d", "e", "f"]
    assert shown["a"]["src"] == "https://example.org/a.png"
    assert shown["d"]["src"] == "https://example.org:8443/d.png?x=1"  # no user:password sent along
    assert shown["e"]["src"] == "https://example.org/e.png"
    assert all(shown[k]["referrerpolicy"] == "no-referrer" for k in "ade")
    text = seen_text(after)
    assert "[image 'b' removed: http: is not an image address" in text  # https only, even from an allowed host
    assert "[image 'c' removed: remote images are not shown: the host cdn.example.org" in text  # listed itself
    kinds = list(mona.events.df.kind)
    assert "settings.guide_image_hosts" in kinds
    # a manager may not change it; nor may bad host names be stored
    with pytest.raises(lb.AccessDenied, match="owner"):
        mona.settings.allow_guide_image_hosts(["evil.example"])
    for bad in ("https://example.org", "*.example.org", "example.org/img", "example.org:443", ""):
        with pytest.raises(lb.LabnbError, match="is not a host name"):
            p.settings.allow_guide_image_hosts([bad])
    with pytest.raises(lb.LabnbError, match="a list of host names"):
        p.settings.allow_guide_image_hosts("example.org")
    assert mona.settings.guide_image_hosts == ["example.org"]  # nothing changed by the refusals
    assert p.settings.allow_guide_image_hosts([]) == []
    assert [i["alt"] for i in images(render_guide(guide, mona))] == ["f"]
