"""Mastodon.py, the Python client library, on a real server over a loopback socket: a locked
account answering a follow request, scheduled statuses, markers, pins and followed tags,
each call parsed into the library's own types."""

from __future__ import annotations

import datetime as dt

from tests.live import in_thread, live_server, wait_for
from tests.test_mastodon_py import client_with_token


async def test_requests_scheduling_markers_pins_and_tags(new_database, tmp_path) -> None:
    async with live_server(await new_database(), tmp_path / "a") as a:
        alice = await client_with_token(a, "alice")
        bea = await client_with_token(a, "bea")
        dan = await client_with_token(a, "dan")

        me = await in_thread(alice.account_update_credentials, locked=True)
        assert me["locked"] is True
        asked = await in_thread(bea.account_follow, me["id"])
        assert asked["requested"] is True and asked["following"] is False
        [waiting] = await in_thread(alice.follow_requests)
        assert waiting["acct"] == "bea"
        answered = await in_thread(alice.follow_request_authorize, waiting["id"])
        assert answered["followed_by"] is True and answered["requested_by"] is False
        [relation] = await in_thread(bea.account_relationships, me["id"])
        assert relation["following"] is True
        assert await in_thread(alice.follow_requests) == []

        when = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(minutes=30)
        scheduled = await in_thread(alice.status_post, "Later", scheduled_at=when)
        assert scheduled["scheduled_at"] == when and scheduled["params"]["text"] == "Later"
        [listed] = await in_thread(alice.scheduled_statuses)
        assert listed["id"] == scheduled["id"]
        later = when + dt.timedelta(hours=1)
        moved = await in_thread(alice.scheduled_status_update, scheduled["id"], later)
        assert moved["scheduled_at"] == later
        await in_thread(alice.scheduled_status_delete, scheduled["id"])
        assert await in_thread(alice.scheduled_statuses) == []

        status = await in_thread(alice.status_post, "Spokes trued #Bicycle")
        assert [tag["name"] for tag in status["tags"]] == ["bicycle"]
        saved = await in_thread(alice.markers_set, ["home"], [status["id"]])
        assert saved["home"]["last_read_id"] == str(status["id"])
        assert saved["home"]["version"] == 1
        read = await in_thread(alice.markers_get, ["home", "notifications"])
        assert set(read) == {"home"} and read["home"]["last_read_id"] == str(status["id"])

        pinned = await in_thread(alice.status_pin, status["id"])
        assert pinned["pinned"] is True
        featured = await in_thread(alice.account_statuses, me["id"], pinned=True)
        assert [s["id"] for s in featured] == [status["id"]]

        followed = await in_thread(dan.tag_follow, "bicycle")
        assert followed["name"] == "bicycle" and followed["following"] is True
        assert [t["name"] for t in await in_thread(dan.followed_tags)] == ["bicycle"]
        home = await wait_for(lambda: in_thread(dan.timeline_home))
        assert [s["id"] for s in home] == [status["id"]]
        tagged = await in_thread(dan.timeline_hashtag, "bicycle")
        assert [s["id"] for s in tagged] == [status["id"]]
        await in_thread(dan.tag_unfollow, "bicycle")
        assert await in_thread(dan.followed_tags) == []
