"""Mastodon.py's blocks, mutes, domain blocks, lists, filters and conversations, over HTTP
against a real server on loopback (see tests/test_mastodon_py.py)."""

from __future__ import annotations

from typing import Any

from mastodon import Mastodon

from tests.live import in_thread
from tests.test_mastodon_py import signed_in


async def post(node: Any, token: str, text: str) -> None:
    """Post as another person, through Mastodon.py too."""
    other = Mastodon(access_token=token, api_base_url=f"http://{node.domain}")
    await in_thread(other.status_post, text)


async def test_blocks_mutes_and_domain_blocks(new_database: Any, tmp_path: Any) -> None:
    async with signed_in(await new_database(), tmp_path / "a") as a:
        alice = a.alice
        bea, bea_token = await a.node.user("bea")
        moe, _ = await a.node.user("moe")
        await in_thread(alice.account_follow, bea.id)
        blocked = await in_thread(alice.account_block, bea.id)
        assert blocked["blocking"] and not blocked["following"]
        assert [str(x["id"]) for x in await in_thread(alice.blocks)] == [str(bea.id)]
        muted = await in_thread(alice.account_mute, moe.id, notifications=False, duration=3600)
        assert muted["muting"] and not muted["muting_notifications"]
        assert [str(x["id"]) for x in await in_thread(alice.mutes)] == [str(moe.id)]
        [standing] = await in_thread(alice.account_relationships, [moe.id])
        assert standing["muting"] and not standing["blocking"]

        await post(a.node, bea_token, "@alice hello")
        assert await in_thread(alice.notifications) == []
        await in_thread(alice.account_unblock, bea.id)
        await in_thread(alice.account_unmute, moe.id)
        assert await in_thread(alice.blocks) == [] and await in_thread(alice.mutes) == []

        await in_thread(alice.domain_block, "spam.example")
        assert await in_thread(alice.domain_blocks) == ["spam.example"]
        await in_thread(alice.domain_unblock, "spam.example")
        assert await in_thread(alice.domain_blocks) == []


async def test_lists_filters_and_conversations(new_database: Any, tmp_path: Any) -> None:
    async with signed_in(await new_database(), tmp_path / "a") as a:
        alice = a.alice
        bea, bea_token = await a.node.user("bea")
        await in_thread(alice.account_follow, bea.id)
        makers = await in_thread(alice.list_create, "Makers")
        await in_thread(alice.list_accounts_add, makers, [bea.id])
        assert [str(x["id"]) for x in await in_thread(alice.list_accounts, makers)] == [str(bea.id)]
        await post(a.node, bea_token, "A lamp with a coin slot")
        await post(a.node, bea_token, "A plain lamp")
        shown = await in_thread(alice.timeline_list, makers)
        assert len(shown) == 2
        renamed = await in_thread(alice.list_update, makers, title="Lamp makers")
        assert renamed["title"] == "Lamp makers"
        assert [x["title"] for x in await in_thread(alice.lists)] == ["Lamp makers"]

        coins = await in_thread(
            alice.create_filter_v2,
            "Coins",
            ["home"],
            filter_action="hide",
            keywords_attributes=[{"keyword": "coin", "whole_word": True}],
        )
        assert coins["keywords"][0]["keyword"] == "coin"
        assert [str(x["id"]) for x in await in_thread(alice.filters_v2)] == [str(coins["id"])]
        shown = await in_thread(alice.timeline_list, makers)
        assert ["plain lamp" in s["content"] for s in shown] == [True]
        await in_thread(alice.update_filter_v2, coins, filter_action="warn")
        shown = await in_thread(alice.timeline_list, makers)
        assert [len(s["filtered"]) for s in shown] == [0, 1]
        assert [f["phrase"] for f in await in_thread(alice.filters)] == ["coin"]
        await in_thread(alice.delete_filter_v2, coins)
        assert await in_thread(alice.filters_v2) == []
        await in_thread(alice.list_delete, makers)
        assert await in_thread(alice.lists) == []

        sent = await in_thread(alice.status_post, "@bea psst", visibility="direct", language="de")
        assert sent["language"] == "de"
        [talk] = await in_thread(alice.conversations)
        assert talk["last_status"]["id"] == sent["id"]
        assert str(talk["accounts"][0]["id"]) == str(bea.id)
        assert not (await in_thread(alice.conversations_read, talk))["unread"]
