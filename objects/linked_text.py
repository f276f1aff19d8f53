"""Plain text as HTML whose links, @mentions and #tags are links (comments and bios).

The text is escaped piece by piece around what is linked, so nothing a person types can
become markup; the result goes through `sanitize_html` as before. A mention with a host
(`@alice@b.example`) links to that server's profile address (`https://b.example/@alice`,
which Mastodon and we both serve); one without links to the person here. A tag links to
this instance's designs with that tag.
"""

from __future__ import annotations

import html
import re
from urllib.parse import quote

_URL = r"https?://[^\s<>\"']+"
_MENTION = (
    r"(?<![\w/@.])@(?P<user>[A-Za-z0-9_]{1,30})"
    r"(?:@(?P<host>(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::[0-9]{1,5})?))?"
)
_TAG = r"(?<![\w&#/])#(?P<name>[A-Za-z0-9_][A-Za-z0-9_-]{0,63})"
_LINKABLE = re.compile(f"(?P<url>{_URL})|(?P<mention>{_MENTION})|(?P<tag>{_TAG})")
# Punctuation that ends a sentence rather than a URL.
_TRAILING = ".,;:!?)]}'\""


def linked_text_to_html(text: str, base_url: str) -> str:
    """Paragraphs of escaped text, with URLs, mentions and tags made links."""
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{_linked(p, base_url).replace(chr(10), '<br>')}</p>" for p in paragraphs)


def _linked(text: str, base_url: str) -> str:
    out: list[str] = []
    at = 0
    for match in _LINKABLE.finditer(text):
        out.append(html.escape(text[at : match.start()]))
        link, end = _link(match, base_url)
        out.append(link)
        at = end
    out.append(html.escape(text[at:]))
    return "".join(out)


def _link(match: re.Match[str], base_url: str) -> tuple[str, int]:
    """The HTML of one match, and where the text it used ends."""
    if match.group("url"):
        url = match.group("url").rstrip(_TRAILING)
        if url.count("(") > url.count(")") and match.group("url")[len(url) :].startswith(")"):
            url += ")"  # a URL with parentheses, such as a wiki page's
        href = html.escape(url)
        return f'<a href="{href}">{href}</a>', match.start() + len(url)
    if match.group("mention"):
        user, host = match.group("user"), match.group("host")
        href = f"https://{host}/@{user}" if host else f"{base_url}/users/{user.lower()}"
        shown = html.escape(match.group("mention"))
        return (
            f'<span class="h-card"><a class="u-url mention" href="{html.escape(href)}">'
            f"{shown}</a></span>",
            match.end(),
        )
    name = match.group("name")
    href = f"{base_url}/?tag={quote(name.lower())}"
    return (
        f'<a class="mention hashtag" href="{html.escape(href)}">#{html.escape(name)}</a>',
        match.end(),
    )
