"""Mastodon.py, the Python client library, against real servers on loopback sockets.

Every call goes through Mastodon.py over HTTP to uvicorn, and the instances federate with
each other over loopback with their own workers. Mastodon.py blocks, so its calls run in
threads while the servers run on the test's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import queue
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from mastodon import Mastodon, StreamListener
from PIL import Image

from tests.live import authorize_in_browser, in_thread, live_server, wait_for
from tests.support import Node
from tests.test_mastodon_media import image_bytes
from web.mastodon.streaming.routes import HEARTBEAT_SECONDS

# A loopback redirect nobody listens on: the code is read from the redirect's Location.
CALLBACK = "http://127.0.0.1:9/callback"
SCOPES = ["read", "write", "follow"]
WAIT = 15.0


@dataclass
class SignedIn:
    """A live instance and Mastodon.py signed in there as alice."""

    node: Node
    alice: Mastodon


@contextlib.asynccontextmanager
async def signed_in(database_url: str, data_dir: Path) -> AsyncIterator[SignedIn]:
    """Start an instance with alice on it; Mastodon.py registers an app and signs her in
    through the authorization-code flow, its authorize page driven as a browser would."""
    async with live_server(database_url, data_dir) as node:
        await node.user("alice")
        base = f"http://{node.domain}"
        client_id, client_secret = await in_thread(
            Mastodon.create_app,
            "Mastodon.py",
            scopes=SCOPES,
            redirect_uris=CALLBACK,
            api_base_url=base,
        )
        alice = await in_thread(
            Mastodon, client_id=client_id, client_secret=client_secret, api_base_url=base
        )
        # allow_http: the servers under test listen on plain-HTTP loopback.
        url = await in_thread(
            alice.auth_request_url,
            redirect_uris=CALLBACK,
            scopes=SCOPES,
            state="lamp",
            allow_http=True,
        )
        async with httpx.AsyncClient(base_url=base) as browser:
            redirect = await authorize_in_browser(browser, url)
        code = _code_from(redirect)
        await in_thread(
            alice.log_in, code=code, redirect_uri=CALLBACK, scopes=SCOPES, allow_http=True
        )
        yield SignedIn(node, alice)


def _code_from(redirect: httpx.Response) -> str:
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(f"{CALLBACK}?"), location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["lamp"]
    return query["code"][0]


async def client_with_token(node: Node, username: str) -> Mastodon:
    """Mastodon.py for `username`, with a token as `ourdesign token create` makes."""
    _, token = await node.user(username)
    return await in_thread(Mastodon, access_token=token, api_base_url=f"http://{node.domain}")


def _ids(page: Any) -> list[str]:
    return [status["id"] for status in page or []]


async def test_sign_in_post_and_page_through_timelines(new_database, tmp_path) -> None:
    async with signed_in(await new_database(), tmp_path / "a") as a:
        me = await in_thread(a.alice.account_verify_credentials)
        assert me["username"] == "alice" and me["acct"] == "alice"
        app = await in_thread(a.alice.app_verify_credentials)
        assert app["name"] == "Mastodon.py"

        posted = [await in_thread(a.alice.status_post, f"Lamp {n}") for n in range(5)]
        newest_first = [status["id"] for status in reversed(posted)]
        assert "Lamp 4" in posted[-1]["content"]
        assert posted[-1]["account"]["id"] == me["id"]

        for timeline in (a.alice.timeline_home, a.alice.timeline_public):
            first = await in_thread(timeline, limit=2)
            second = await in_thread(a.alice.fetch_next, first)
            third = await in_thread(a.alice.fetch_next, second)
            assert [_ids(first), _ids(second), _ids(third)] == [
                newest_first[:2],
                newest_first[2:4],
                newest_first[4:],
            ]
            assert not await in_thread(a.alice.fetch_next, third)
            assert _ids(await in_thread(a.alice.fetch_previous, second)) == newest_first[:2]
            assert not await in_thread(a.alice.fetch_previous, first)

        # What is newer than the first page is its previous page.
        first = await in_thread(a.alice.timeline_home, limit=2)
        later = await in_thread(a.alice.status_post, "Lamp 5")
        assert _ids(await in_thread(a.alice.fetch_previous, first)) == [later["id"]]


async def test_follow_a_remote_person_and_hear_of_their_reply(new_database, tmp_path) -> None:
    async with (
        signed_in(await new_database(), tmp_path / "a") as a,
        live_server(await new_database(), tmp_path / "b") as b,
    ):
        bob = await client_with_token(b, "bob")
        handle = f"bob@{b.domain}"
        found = await in_thread(a.alice.account_lookup, handle)
        assert found["acct"] == handle
        searched = await in_thread(a.alice.search_v2, f"@{handle}", resolve=True)
        assert [account["id"] for account in searched["accounts"]] == [found["id"]]

        await in_thread(a.alice.account_follow, found["id"])

        async def following() -> bool:
            [relationship] = await in_thread(a.alice.account_relationships, found["id"])
            return bool(relationship["following"])

        await wait_for(following, WAIT)

        news = await in_thread(bob.status_post, "A new shade for the desk lamp")

        async def in_home() -> Any:
            home = await in_thread(a.alice.timeline_home)
            return next((s for s in home if s["uri"] == news["uri"]), None)

        arrived = await wait_for(in_home, WAIT)
        assert arrived["account"]["acct"] == handle
        assert "A new shade" in arrived["content"]

        mine = await in_thread(a.alice.status_post, "My lamp, finished")
        resolved = await in_thread(bob.search_v2, mine["uri"], resolve=True, result_type="statuses")
        [theirs] = resolved["statuses"]
        reply = await in_thread(bob.status_post, "Lovely work", in_reply_to_id=theirs["id"])

        async def mentioned() -> Any:
            return await in_thread(a.alice.notifications, types=["mention"])

        [notification] = await wait_for(mentioned, WAIT)
        assert notification["account"]["acct"] == handle
        assert notification["status"]["uri"] == reply["uri"]
        assert notification["status"]["in_reply_to_id"] == mine["id"]


class Updates(StreamListener):
    """Hands the stream's statuses to the test; `opened` is set by the server's first
    comment line, sent once the subscription is in place."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.statuses: queue.Queue[Any] = queue.Queue()

    def handle_heartbeat(self) -> None:
        self.opened.set()

    def on_update(self, status: Any) -> None:
        self.statuses.put(status)


async def test_user_stream_delivers_a_new_post(new_database, tmp_path) -> None:
    async with signed_in(await new_database(), tmp_path / "a") as a:
        listener = Updates()
        handle = await in_thread(a.alice.stream_user, listener, run_async=True)
        assert await in_thread(listener.opened.wait, WAIT)
        posted = await in_thread(a.alice.status_post, "Streamed lamp")
        update = await in_thread(listener.statuses.get, timeout=WAIT)
        assert update["id"] == posted["id"]
        assert "Streamed lamp" in update["content"]
        assert update["account"]["acct"] == "alice"

        subscribers = a.node.instance.streaming.subscribers
        assert len(subscribers) == 1
        await _close(a, handle)
        # The server notices the client is gone and stops feeding it.
        await wait_for(lambda: not subscribers, WAIT)


async def _close(a: SignedIn, handle: Any) -> None:
    """Mastodon.py's close waits for its reader thread, which is blocked reading until the
    server sends something (a heartbeat comes every 15 s): one more post wakes it."""
    closing = asyncio.create_task(in_thread(handle.close))
    await wait_for(lambda: handle.closed, WAIT)
    await in_thread(a.alice.status_post, "After the stream closed")
    # Two heartbeats at most, should the reader miss the post's event.
    await asyncio.wait_for(closing, 2 * HEARTBEAT_SECONDS + WAIT)
    await in_thread(handle.join, WAIT)
    assert not handle.is_alive()


async def test_upload_media_and_attach_it(new_database, tmp_path) -> None:
    async with signed_in(await new_database(), tmp_path / "a") as a:
        media = await in_thread(
            a.alice.media_post,
            image_bytes("PNG", (2, 2)),
            mime_type="image/png",
            description="The lamp, lit",
            file_name="lamp.png",
        )
        assert media["type"] == "image" and media["description"] == "The lamp, lit"
        status = await in_thread(a.alice.status_post, "With a picture", media_ids=[media["id"]])
        [attached] = status["media_attachments"]
        assert attached["id"] == media["id"]
        fetched = await in_thread(a.alice.status, status["id"])
        assert [m["id"] for m in fetched["media_attachments"]] == [media["id"]]
        async with httpx.AsyncClient() as client:
            image = await client.get(attached["url"])
        assert image.status_code == 200
        # Compared as an image, not as bytes: the server may re-encode what it keeps.
        assert Image.open(io.BytesIO(image.content)).size == (2, 2)
