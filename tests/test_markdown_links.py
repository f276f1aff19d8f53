"""Markdown with tables, task lists and footnotes, headings from <h2>; links, @mentions and
#tags made links in comments and bios; everything still sanitised."""

from __future__ import annotations

from typing import Any

from objects.html import sanitize_html
from objects.linked_text import linked_text_to_html
from objects.markdown import render_markdown
from tests.support import call
from tests.test_design_api import new_project
from tests.web_support import browser_and_token, csrf_for

DESCRIPTION = """# Lamp

## Parts

| part | count |
| --- | --: |
| arm | 2 |

- [x] print the arm
- [ ] print the shade

Print in PETG[^1].

[^1]: Or in PLA, indoors.

> Measure twice.

<script>alert(1)</script> [x](javascript:alert(1))
"""


def test_markdown_renders_tables_task_lists_footnotes_and_shifts_headings() -> None:
    html = render_markdown(DESCRIPTION)
    assert "<h1" not in html and "<h2>Lamp</h2>" in html and "<h3>Parts</h3>" in html
    assert "<table>" in html and "<th>part</th>" in html and "<td>2</td>" in html
    assert html.count('type="checkbox"') == 2 and html.count('disabled="disabled"') == 2
    assert 'checked="checked"' in html
    assert '<sup class="footnote-ref"><a href="#fn1" id="fnref1"' in html
    assert '<section class="footnotes">' in html and "Or in PLA, indoors." in html
    assert "<blockquote>" in html and "|" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html


def test_remote_html_cannot_smuggle_a_live_input() -> None:
    cleaned = sanitize_html('<input type="text" name="password" onfocus="x()" value="a">')
    assert sorted(cleaned.removeprefix("<input ").removesuffix(">").split()) == [
        'disabled="disabled"',
        'type="checkbox"',
    ]


def test_links_mentions_and_tags_in_plain_text() -> None:
    html = linked_text_to_html(
        "See https://example.org/lamp. Ask @bob@b.example or @alice about #LED-strips.\n"
        "Not a link: javascript:alert(1) <b>bold</b> a@b.example",
        "https://a.test",
    )
    assert '<a href="https://example.org/lamp">https://example.org/lamp</a>.' in html
    assert 'href="https://b.example/@bob">@bob@b.example</a>' in html
    assert 'href="https://a.test/users/alice">@alice</a>' in html
    assert 'class="mention hashtag" href="https://a.test/?tag=led-strips">#LED-strips</a>' in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "javascript:alert(1)" in html
    assert 'href="javascript' not in html and "a@b.example" in html
    assert "@b.example</a>" not in html.split("a@b.example")[-1]


async def test_descriptions_comments_and_bios_on_the_pages(nodes: Any) -> None:
    node = await nodes("a.test")
    alice, token = await browser_and_token(node, "alice")
    await new_project(node, token, "desk", name="Desk")
    published = await call(
        node,
        "POST",
        "/api/v1/designs/desk/versions",
        token,
        data={"description": DESCRIPTION, "licence": "MIT"},
        files=[("files", ("desk.txt", b"plans", "text/plain"))],
    )
    assert published.status_code == 201, published.text
    page = await alice.get("/users/desk/versions/1", headers={"Accept": "text/html"})
    assert page.text.count("<h1") == 1 and "<h2>Lamp</h2>" in page.text
    assert "<td>arm</td>" in page.text and 'class="footnotes"' in page.text

    hidden = await csrf_for(alice, "/users/desk/versions/1", "/comments")
    comment = await alice.post(
        "/comments",
        data={
            **hidden,
            "in_reply_to": "https://a.test/users/desk/versions/1",
            "return_to": "/users/desk/versions/1",
            "content": "Printed it, see https://example.org/photo #lamp @alice <i>hi</i>",
        },
    )
    assert comment.status_code == 303, comment.text
    page = await alice.get("/users/desk/versions/1", headers={"Accept": "text/html"})
    assert '<a href="https://example.org/photo" rel="nofollow noopener noreferrer">' in page.text
    assert 'href="https://a.test/?tag=lamp"' in page.text
    assert 'href="https://a.test/users/alice"' in page.text and "&lt;i&gt;hi" in page.text

    hidden = await csrf_for(alice, "/settings", "/settings")
    saved = await alice.post(
        "/settings",
        data={**hidden, "summary": "I make lamps: https://lamps.example #lighting"},
    )
    assert saved.status_code in (200, 303), saved.text
    profile = await alice.get("/users/alice", headers={"Accept": "text/html"})
    assert '<a href="https://lamps.example" rel="nofollow noopener noreferrer">' in profile.text
    assert 'href="https://a.test/?tag=lighting"' in profile.text
