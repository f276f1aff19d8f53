"""Markdown as people write it on forges: CommonMark with tables, task lists and footnotes.

Raw HTML in the Markdown is escaped, and the result is sanitised (`objects.html`). In a
design's description the headings start at <h2>: the page's <h1> is the design's name.
"""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from objects.html import sanitize_html

HEADING_TOKENS = frozenset({"heading_open", "heading_close"})


def _headings_from_h2(state: StateCore) -> None:
    for token in state.tokens:
        if token.type in HEADING_TOKENS:
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"


@functools.cache
def _parser() -> MarkdownIt:
    """Built on first use (never at import), then shared: a parser holds no state of its own
    between renders."""
    parser = (
        MarkdownIt("commonmark", {"html": False})
        .enable(["table", "strikethrough"])
        .use(tasklists_plugin)
        .use(footnote_plugin)
    )
    parser.core.ruler.push("headings_from_h2", _headings_from_h2)
    return parser


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML whose headings start at <h2>."""
    return sanitize_html(_parser().render(text))
