"""Who may see a note, on every face, on both databases (`objects.visibility`).

The matrix: olga writes a public note; alice answers it four times, once in each
visibility, each answer mentioning mia; fred follows alice; sam is a stranger. Each face is
asked as each viewer which of the four answers it shows, and the answer is compared with a
table. Then the attacker's tries: replies that are not public, sent from another instance,
must not leak onto the public note's (or design's) page, into its `replies` collection or
its counts, nor notify its author. Last, a module under web/ that reads visibilities by
itself fails a test: a new face cannot write the rule again.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, update

from actors.models import Actor
from actors.service import get_local_actor
from federation.keys import load_rsa_private_pem
from federation.vocab import ACTIVITY_JSON
from objects.models import Note, Notification
from objects.notifications import MENTION
from tests.support import Node, call, count, get, settle, signed_post
from tests.test_mastodon_statuses import design, post
from tests.test_mastodon_streaming import AsgiStream
from web.browser import SESSION_COOKIE, start_session
from web.schema import alembic_config, migrate

VISIBILITIES = ("public", "unlisted", "private", "direct")
VIEWERS = ("anonymous", "follower", "mentioned", "stranger", "parent_author")
NAMES = {"follower": "fred", "mentioned": "mia", "stranger": "sam", "parent_author": "olga"}
ALL = set(VISIBILITIES)
ANYONE = {"public", "unlisted"}
# Who may read each answer (alice, its author, may read them all). A local answer is
# addressed to the author of the note it answers, as Mastodon's are: olga reads them all.
READS = {
    "anonymous": ANYONE,
    "follower": ANYONE | {"private"},
    "mentioned": ALL,
    "stranger": ANYONE,
    "parent_author": ALL,
}


@dataclass
class Thread:
    node: Node
    alice_id: int
    root: dict[str, Any]
    answers: dict[str, dict[str, Any]]
    tokens: dict[str, str | None]

    def seen(self, ids: list[str]) -> set[str]:
        """Which answers (by visibility) a list of status ids or URIs holds."""
        return {v for v, s in self.answers.items() if s["id"] in ids or s["uri"] in ids}

    def marked(self, html: str) -> set[str]:
        return {v for v in VISIBILITIES if f"answer-{v}-" in html}


async def thread(nodes: Any) -> Thread:
    a = await nodes("a.test")
    alice, alice_token = await a.user("alice")
    tokens: dict[str, str | None] = {"anonymous": None}
    for viewer, name in NAMES.items():
        tokens[viewer] = (await a.user(name))[1]
    followed = await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", tokens["follower"])
    assert followed.status_code == 200, followed.text
    await settle(a)
    root = await post(a, tokens["parent_author"], "Which lamp?")
    answers = {
        v: await post(a, alice_token, f"@mia answer-{v}-", visibility=v, in_reply_to_id=root["id"])
        for v in VISIBILITIES
    }
    await settle(a)
    return Thread(a, alice.id, root, answers, tokens)


async def browser(t: Thread, viewer: str) -> httpx.AsyncClient:
    """A browser signed in as the viewer (none for the anonymous one)."""
    client = t.node.client(headers={"Accept": "text/html"})
    if viewer != "anonymous":
        async with t.node.instance.sessions() as session:
            actor = await get_local_actor(session, NAMES[viewer])
            assert actor is not None
            client.cookies.set(
                SESSION_COOKIE, await start_session(session, actor, "t"), domain=t.node.domain
            )
            await session.commit()
    return client


def path_of(uri: str) -> str:
    return httpx.URL(uri).path


async def ap(t: Thread, path: str, **params: Any) -> dict[str, Any]:
    return await ap_of(t.node, path, **params)


# The faces: each answers which of the answers the viewer is shown.


async def status_get(t: Thread, viewer: str) -> set[str]:
    shown = set()
    for v, status in t.answers.items():
        response = await get(t.node, f"/api/v1/statuses/{status['id']}", t.tokens[viewer])
        assert response.status_code in (200, 404), response.text
        if response.status_code == 200:
            shown.add(v)
    return shown


async def context(t: Thread, viewer: str) -> set[str]:
    response = await get(t.node, f"/api/v1/statuses/{t.root['id']}/context", t.tokens[viewer])
    return t.seen([s["id"] for s in response.json()["descendants"]])


async def html_thread(t: Thread, viewer: str) -> set[str]:
    """The public note's HTML page, with the answers below it."""
    async with await browser(t, viewer) as client:
        response = await client.get(path_of(t.root["uri"]))
    assert response.status_code == 200
    return t.marked(response.text)


async def html_note(t: Thread, viewer: str) -> set[str]:
    """Each answer's own page."""
    shown = set()
    async with await browser(t, viewer) as client:
        for v, status in t.answers.items():
            response = await client.get(path_of(status["uri"]))
            if response.status_code == 200 and f"answer-{v}-" in response.text:
                shown.add(v)
    return shown


async def ap_note(t: Thread, viewer: str) -> set[str]:
    """Each answer's ActivityPub document."""
    shown = set()
    async with t.node.client(headers={"Accept": ACTIVITY_JSON}) as client:
        for v, status in t.answers.items():
            response = await client.get(path_of(status["uri"]))
            assert response.status_code in (200, 404), response.text
            if response.status_code == 200:
                shown.add(v)
    return shown


async def ap_replies(t: Thread, viewer: str) -> set[str]:
    """The public note's `replies` collection: its first page and its count (no viewer)."""
    collection = await ap(t, f"{path_of(t.root['uri'])}/replies")
    page = await ap(t, f"{path_of(t.root['uri'])}/replies", page="true")
    items = page["orderedItems"]
    assert collection["totalItems"] == len(items)
    return t.seen(items)


async def ap_outbox(t: Thread, viewer: str) -> set[str]:
    page = await ap(t, "/users/alice/outbox", page="true")
    return t.seen([item["object"]["id"] for item in page["orderedItems"]])


async def public_timeline(t: Thread, viewer: str) -> set[str]:
    response = await get(t.node, "/api/v1/timelines/public", t.tokens[viewer])
    return t.seen([s["id"] for s in response.json()])


async def home_timeline(t: Thread, viewer: str) -> set[str]:
    if t.tokens[viewer] is None:
        return set()
    response = await get(t.node, "/api/v1/timelines/home", t.tokens[viewer])
    return t.seen([s["id"] for s in response.json()])


async def account_statuses(t: Thread, viewer: str) -> set[str]:
    response = await get(t.node, f"/api/v1/accounts/{t.alice_id}/statuses", t.tokens[viewer])
    return t.seen([s["id"] for s in response.json()])


async def notifications(t: Thread, viewer: str) -> set[str]:
    if t.tokens[viewer] is None:
        return set()
    response = await get(t.node, "/api/v1/notifications", t.tokens[viewer])
    return t.seen([n["status"]["id"] for n in response.json() if "status" in n])


async def search_by_url(t: Thread, viewer: str) -> set[str]:
    shown = set()
    for v, status in t.answers.items():
        response = await get(t.node, "/api/v2/search", t.tokens[viewer], q=status["uri"])
        if t.seen([s["id"] for s in response.json()["statuses"]]):
            shown.add(v)
    return shown


async def search_by_text(t: Thread, viewer: str) -> set[str]:
    response = await get(t.node, "/api/v2/search", t.tokens[viewer], q="answer")
    return t.seen([s["id"] for s in response.json()["statuses"]])


async def c2s_reactions(t: Thread, viewer: str) -> set[str]:
    """What the viewer could like or boost through their own outbox (C2S): an unreadable
    note is answered as if it did not exist, so a reaction confirms nothing."""
    if viewer == "anonymous":
        return set()
    shown = set()
    for v, status in t.answers.items():
        for kind in ("Like", "Announce"):
            response = await call(
                t.node,
                "POST",
                f"/users/{NAMES[viewer]}/outbox",
                t.tokens[viewer],
                json={"type": kind, "object": status["uri"]},
            )
            assert response.status_code in (201, 404), response.text
            if response.status_code == 201:
                shown.add(v)
    return shown


Face = Callable[[Thread, str], Awaitable[set[str]]]


def every(shown: set[str]) -> dict[str, set[str]]:
    """The same answers for every viewer."""
    return {viewer: set(shown) for viewer in VIEWERS}


PUBLIC_ONLY = every({"public"})
# face: what each viewer is shown of the four answers.
MATRIX: dict[str, tuple[Face, dict[str, set[str]]]] = {
    "status": (status_get, READS),
    "context": (context, READS),
    "html_thread": (html_thread, READS),
    "html_note": (html_note, READS),
    "ap_replies": (ap_replies, every(ANYONE)),  # no signed fetches: for anyone
    "ap_note": (ap_note, every(ANYONE)),
    "ap_outbox": (ap_outbox, every(ANYONE)),
    "public_timeline": (public_timeline, PUBLIC_ONLY),
    # Home: what the people one follows wrote and one may read.
    "home_timeline": (
        home_timeline,
        {**every(set()), "follower": READS["follower"]},
    ),
    "account_statuses": (account_statuses, READS),
    # Told of what mentions them, or answers their note, if they may read it.
    "notifications": (
        notifications,
        {**every(set()), "mentioned": ALL, "parent_author": ALL},
    ),
    "search_by_url": (search_by_url, READS),
    "search_by_text": (search_by_text, PUBLIC_ONLY),
    "c2s_reactions": (c2s_reactions, {**READS, "anonymous": set()}),
}


@pytest.mark.parametrize("face", list(MATRIX))
async def test_visibility_matrix(nodes: Any, face: str) -> None:
    t = await thread(nodes)
    ask, expected = MATRIX[face]
    shown = {viewer: await ask(t, viewer) for viewer in VIEWERS}
    assert shown == expected


async def test_counts_tell_only_what_anyone_may_read(nodes: Any) -> None:
    t = await thread(nodes)
    for viewer in VIEWERS:
        root = (await get(t.node, f"/api/v1/statuses/{t.root['id']}", t.tokens[viewer])).json()
        assert root["replies_count"] == len(ANYONE), viewer
    collection = await ap(t, f"{path_of(t.root['uri'])}/replies")
    assert collection["totalItems"] == len(ANYONE)


async def test_streams_carry_only_what_each_reader_may_read(nodes: Any) -> None:
    """User streams of the follower, the mentioned person, the stranger and the note's
    author, and the public stream; a last note mentioning all of them marks the end."""
    a = await nodes("a.test")
    alice, alice_token = await a.user("alice")
    tokens = {viewer: (await a.user(name))[1] for viewer, name in NAMES.items()}
    await call(a, "POST", f"/api/v1/accounts/{alice.id}/follow", tokens["follower"])
    await settle(a)
    root = await post(a, tokens["parent_author"], "Which lamp?")
    streams = {v: AsgiStream(a, "/api/v1/streaming/user", tokens[v]) for v in NAMES}
    streams["anonymous"] = AsgiStream(a, "/api/v1/streaming/public")
    for stream in streams.values():
        await stream.__aenter__()
    try:
        answers = {
            v: await post(
                a, alice_token, f"@mia answer-{v}-", visibility=v, in_reply_to_id=root["id"]
            )
            for v in VISIBILITIES
        }
        await post(a, alice_token, "@fred @mia @sam @olga the end")
        shown = {viewer: await _streamed(stream, answers) for viewer, stream in streams.items()}
    finally:
        for stream in streams.values():
            await stream.__aexit__(None, None, None)
    assert shown == {
        "anonymous": {"public"},
        "follower": READS["follower"],
        "mentioned": ALL,  # as mention notifications: mia does not follow alice
        "stranger": set(),
        "parent_author": ALL,  # as notifications of answers to her note
    }


async def _streamed(stream: AsgiStream, answers: dict[str, dict[str, Any]]) -> set[str]:
    shown: set[str] = set()
    while True:
        name, data = await stream.event()
        if name not in ("update", "notification"):
            continue
        status = _json(data) if name == "update" else _json(data).get("status", {})
        if "the end" in status.get("content", ""):
            return shown
        shown |= {v for v, s in answers.items() if s["id"] == status.get("id")}


def _json(data: str) -> dict[str, Any]:
    return json.loads(data)  # type: ignore[no-any-return]


# The attacker's tries, from another instance


@pytest.mark.parametrize("target", ["note", "design"])
@pytest.mark.parametrize("hidden", ["direct", "followers"])
async def test_a_remote_hidden_reply_leaks_nowhere_public(
    nodes: Any, hidden: str, target: str
) -> None:
    """Bob, on b.test, answers olga's public note (or design) on a.test either directly to
    mia alone or only to his followers (fred, on a.test, follows him). Signed out, olga's
    page does not show it; the `replies` collection neither lists nor counts it, nor does
    the APIs' `replies_count`; olga is not told. Those it is for do read it."""
    a, b = await nodes("a.test"), await nodes("b.test")
    olga, olga_token = await a.user("olga")
    mia, mia_token = await a.user("mia")
    _, fred_token = await a.user("fred")
    bob, _ = await b.user("bob")
    follow = {"type": "Follow", "object": bob.uri}
    await call(a, "POST", "/users/fred/outbox", fred_token, json=follow)
    await settle(a, b)
    if target == "note":
        root_uri = (await post(a, olga_token, "Which lamp?"))["uri"]
    else:
        root_uri = (await design(a, olga_token, "lamp"))["id"]
    audience = [mia.uri] if hidden == "direct" else [bob.followers_url]
    await _send_reply(a, bob, root_uri, audience)
    await settle(a, b)
    reader_token = mia_token if hidden == "direct" else fred_token

    page = await call(a, "GET", path_of(root_uri), headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "secret-answer" not in page.text
    collection = await ap_of(a, f"{path_of(root_uri)}/replies")
    items = (await ap_of(a, f"{path_of(root_uri)}/replies", page="true"))["orderedItems"]
    assert collection["totalItems"] == 0 and items == []
    assert await _replies_counted(a, root_uri) == 0
    mentions = Notification.kind == MENTION
    assert await count(a, Notification, mentions, Notification.recipient_id == olga.id) == 0
    # It did arrive: the one it is for reads it in the thread, and is told if addressed.
    root_id = await _status_id(a, root_uri)
    thread = await get(a, f"/api/v1/statuses/{root_id}/context", reader_token)
    assert ["secret-answer" in s["content"] for s in thread.json()["descendants"]] == [True]
    signed_out = await get(a, f"/api/v1/statuses/{root_id}/context")
    assert signed_out.json()["descendants"] == []
    told = await count(a, Notification, mentions, Notification.recipient_id == mia.id)
    assert told == (1 if hidden == "direct" else 0)


async def _send_reply(a: Node, bob: Actor, parent_uri: str, audience: list[str]) -> None:
    """Bob's server sends the reply as any server may (our own outbox would also address
    the parent's author)."""
    note = {
        "id": f"https://b.test/notes/{uuid.uuid4().hex}",
        "type": "Note",
        "attributedTo": bob.uri,
        "content": "secret-answer",
        "inReplyTo": parent_uri,
        "to": audience,
    }
    create = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"https://b.test/activities/{uuid.uuid4().hex}",
        "type": "Create",
        "actor": bob.uri,
        "to": audience,
        "object": note,
    }
    assert bob.private_key_pem is not None
    key = load_rsa_private_pem(bob.private_key_pem)
    sent = await signed_post(a, "/inbox", json.dumps(create).encode(), bob.public_key_id, key)
    assert sent.status_code in (200, 202), sent.text


async def _status_id(node: Node, uri: str) -> str:
    found = await get(node, "/api/v2/search", q=uri)
    [status] = found.json()["statuses"]
    return str(status["id"])


async def _replies_counted(node: Node, uri: str) -> int:
    """The count the JSON API (a design) or the Mastodon API (a note) gives, signed out."""
    if "/versions/" in uri:
        version = await get(node, "/api/v1/versions", uri=uri)
        return int(version.json()["replies_count"])
    status = await get(node, f"/api/v1/statuses/{await _status_id(node, uri)}")
    return int(status.json()["replies_count"])


async def ap_of(node: Node, path: str, **params: Any) -> dict[str, Any]:
    async with node.client(headers={"Accept": ACTIVITY_JSON}) as client:
        response = await client.get(path, params=params or None)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_the_migration_takes_hidden_replies_off_old_counts(nodes: Any) -> None:
    """Counts made before the rule counted every reply: migration 0014 takes the hidden
    (live) ones off, and leaves the rest of the count as it was; it goes down and up."""
    t = await thread(nodes)
    engine, settings = t.node.instance.engine, t.node.instance.settings
    async with engine.begin() as connection:
        await connection.run_sync(_downgrade, alembic_config(settings))
    root = Note.uri == t.root["uri"]
    async with engine.begin() as connection:
        await connection.execute(update(Note).where(root).values(replies_count=len(ALL) + 1))
    await migrate(engine, settings)
    async with t.node.instance.sessions() as session:
        counted = await session.scalar(select(Note.replies_count).where(root))
    assert counted == len(ANYONE) + 1


def _downgrade(connection: Any, config: Any) -> None:
    config.attributes["connection"] = connection
    # Down to just before 0014, wherever later migrations put it in the chain.
    before = ScriptDirectory.from_config(config).get_revision("0014").down_revision
    command.downgrade(config, before)


async def test_statuses_count_tells_only_what_anyone_may_read(nodes: Any) -> None:
    t = await thread(nodes)
    for viewer in VIEWERS:
        alice = await get(t.node, f"/api/v1/accounts/{t.alice_id}", t.tokens[viewer])
        assert alice.json()["statuses_count"] == len(ANYONE), viewer


async def test_an_old_notification_of_an_unreadable_status_is_neither_shown_nor_counted(
    nodes: Any,
) -> None:
    """A row made before notifications were kept to readers (or for a follow since ended):
    the stranger is not shown it, by id or in the list, nor is it counted."""
    t = await thread(nodes)
    async with t.node.instance.sessions() as session:
        sam = await get_local_actor(session, NAMES["stranger"])
        assert sam is not None
        old = Notification(
            recipient_id=sam.id,
            kind=MENTION,
            from_actor_id=t.alice_id,
            object_uri=t.answers["direct"]["uri"],
        )
        session.add(old)
        await session.commit()
    token = t.tokens["stranger"]
    assert (await get(t.node, "/api/v1/notifications", token)).json() == []
    assert (await get(t.node, f"/api/v1/notifications/{old.id}", token)).status_code == 404
    unread = await get(t.node, "/api/v1/notifications/unread_count", token)
    assert unread.json() == {"count": 0}


# The rule cannot be written again elsewhere


WEB = Path(__file__).resolve().parent.parent / "web"
VISIBILITY_VALUES = {"public", "unlisted", "followers", "direct", "private"}
# Code that chooses a new post's addressing from the visibility asked for: it writes, it
# decides nobody's reading.
POSTING = {"_addressing", "_comment_on_design"}


def _filters_on_visibility(tree: ast.AST) -> list[int]:
    """Lines outside POSTING that read a stored visibility (`x.visibility`, the column
    included), compare anything with a visibility's name, or use the module's constants."""
    lines: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in POSTING:
            node.body = []  # not walked further
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "visibility":
            if not (isinstance(node.value, ast.Name) and node.value.id == "draft"):
                lines.append(node.lineno)
        elif _names_the_rule(node):
            lines.append(node.lineno)
    return lines


def _names_the_rule(node: ast.AST) -> bool:
    """The visibility module's constants, or a comparison with a visibility's name."""
    if isinstance(node, ast.Name):
        return node.id in {"SHOWN_TO_ALL", "ADDRESSED"}
    if not isinstance(node, ast.Compare):
        return False
    operands = [node.left, *node.comparators]
    for operand in list(operands):
        if isinstance(operand, ast.Tuple | ast.List | ast.Set):
            operands += operand.elts
    return any(isinstance(o, ast.Constant) and o.value in VISIBILITY_VALUES for o in operands)


def _allowed(source: str, line: int) -> bool:
    """Only turning our visibility into Mastodon's name for it."""
    return "MASTODON_VISIBILITY.get(" in source.splitlines()[line - 1]


def test_no_web_module_filters_on_visibility_by_itself() -> None:
    """Every face asks `objects.visibility`; a module under web/ that reads a note's
    visibility to decide what to show re-implements the rule and fails here."""
    offenders = []
    for path in sorted(WEB.rglob("*.py")):
        source = path.read_text()
        lines = _filters_on_visibility(ast.parse(source))
        offenders += [f"{path.name}:{n}" for n in lines if not _allowed(source, n)]
    assert offenders == []


@pytest.mark.parametrize(
    "copy",
    [
        "rows = select(Note).where(Note.visibility.in_(('public', 'unlisted')))",
        "shown = note.visibility != 'direct'",
        "shown = status['visibility'] in ('public', 'unlisted')",
        "query = query.where(SHOWN_TO_ALL)",
        "async def _addressing_of(kind):\n    return kind == 'direct'",
    ],
)
def test_the_check_finds_a_copy_of_the_rule(copy: str) -> None:
    assert _filters_on_visibility(ast.parse(copy)) != []
    assert re.search("objects.visibility", (WEB / "pages" / "notes.py").read_text())
