"""HTML sanitising for everything people write or we receive."""

from __future__ import annotations

import html

import nh3

_TAGS = {
    "p", "br", "a", "span", "strong", "em", "b", "i", "u", "s", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    # Tables, task lists and footnotes (objects.markdown)
    "table", "thead", "tbody", "tr", "th", "td", "input", "sup", "section",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title", "class", "id"},
    "span": {"class"},
    "ul": {"class"},
    "li": {"class", "id"},
    "ol": {"class"},
    "sup": {"class"},
    "section": {"class"},
    "hr": {"class"},
    "input": {"class", "checked"},
    "th": {"scope"},
}
# A task list's box shows a state and takes none: whatever a sender wrote, it is a
# disabled checkbox.
_FORCED = {"input": {"type": "checkbox", "disabled": "disabled"}}


def sanitize_html(value: str) -> str:
    """Keep formatting and links; drop scripts, styles, event handlers and odd schemes."""
    return nh3.clean(
        value,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        set_tag_attribute_values=_FORCED,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def text_to_html(text: str) -> str:
    """Plain text as paragraphs of escaped HTML."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def plain_text(value: str, limit: int = 5000) -> str:
    """Text without any markup, for fields meant as plain text (a content warning): tags are
    dropped, entities decoded; templates and JSON escape it where it is shown."""
    return html.unescape(nh3.clean(value, tags=set())).strip()[:limit]
