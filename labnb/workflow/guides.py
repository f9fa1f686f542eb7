"""Markdown guides (how to draw, how to review) rendered to HTML that is safe to hand to a browser.

A guide is written by a manager and shown to every annotator, so it is untrusted input as far as the
annotators' browsers go: markdown-it renders it (raw HTML passes through markdown, as users expect
from tables or ``<kbd>``) and nh3 then removes anything executable: scripts, event handlers,
``javascript:`` links, iframes, styles.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

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


def render_guide(markdown: str | None) -> str:
    """Sanitised HTML for a markdown guide; ``""`` for none."""
    if not markdown:
        return ""
    return nh3.clean(
        _MARKDOWN.render(markdown),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
