"""Mastodon.py composing as apps do: a poll with its vote, an edit with history and source,
a boost, and the favourites list paged with fetch_next, over sockets to a live instance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.live import in_thread
from tests.test_mastodon_py import client_with_token, signed_in


async def test_poll_edit_boost_and_favourites(new_database: Any, tmp_path: Path) -> None:
    async with signed_in(await new_database(), tmp_path / "a") as a:
        alice = a.alice
        bea = await client_with_token(a.node, "bea")
        poll = await in_thread(alice.make_poll, ["Oak", "Ash"], expires_in=3600, multiple=True)
        asked = await in_thread(alice.status_post, "Which wood?", poll=poll, language="en")
        assert [o["title"] for o in asked["poll"]["options"]] == ["Oak", "Ash"]
        voted = await in_thread(bea.poll_vote, asked["poll"]["id"], [0, 1])
        assert voted["own_votes"] == [0, 1] and voted["votes_count"] == 2
        assert (await in_thread(alice.poll, asked["poll"]["id"]))["voters_count"] == 1

        first = await in_thread(alice.status_post, "Frist draft")
        edited = await in_thread(
            alice.status_update, first["id"], "First draft", spoiler_text="wood"
        )
        assert edited["edited_at"] is not None and edited["spoiler_text"] == "wood"
        history = await in_thread(alice.status_history, first["id"])
        assert [h["content"] for h in history] == ["<p>Frist draft</p>", "<p>First draft</p>"]
        source = await in_thread(alice.status_source, first["id"])
        assert source["text"] == "First draft"

        boost = await in_thread(bea.status_reblog, first["id"])
        assert boost["reblog"]["id"] == first["id"] and boost["id"] != first["id"]

        liked = [asked["id"], first["id"], boost["id"]]  # the boost's id likes its original
        for status_id in liked:
            await in_thread(bea.status_favourite, status_id)
        page = await in_thread(bea.favourites, limit=1)
        pages = [[s["id"] for s in page]]
        while page := await in_thread(bea.fetch_next, page):
            pages.append([s["id"] for s in page])
        assert pages == [[first["id"]], [asked["id"]]]
