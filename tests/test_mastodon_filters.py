"""Filters v2: CRUD with keywords, and applied where their contexts say: `hide` leaves a
status out, `warn` marks it with a FilterResult."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import update

from objects.filter_models import StatusFilter
from tests.support import call, get
from tests.test_mastodon_blocks import act
from tests.test_mastodon_statuses import post
from tests.test_mastodon_streaming import AsgiStream


async def test_filters_are_created_changed_listed_and_deleted(nodes: Any) -> None:
    a = await nodes("a.test")
    _, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    form = [
        ("title", "Spoilers"),
        ("context[]", "home"),
        ("context[]", "public"),
        ("filter_action", "hide"),
        ("expires_in", "3600"),
        ("keywords_attributes[][keyword]", "finale"),
        ("keywords_attributes[][whole_word]", "false"),
        ("keywords_attributes[][keyword]", "ending"),
    ]
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    created = await call(
        a, "POST", "/api/v2/filters", token, content=urlencode(form), headers=form_type
    )
    assert created.status_code == 200, created.text
    spoilers = created.json()
    assert spoilers["title"] == "Spoilers" and spoilers["context"] == ["home", "public"]
    assert spoilers["filter_action"] == "hide" and spoilers["expires_at"]
    assert [(k["keyword"], k["whole_word"]) for k in spoilers["keywords"]] == [
        ("finale", False),
        ("ending", True),
    ]
    path = f"/api/v2/filters/{spoilers['id']}"
    finale, ending = spoilers["keywords"]
    changes = {
        "title": "Plot",
        "context": ["thread"],
        "filter_action": "warn",
        "expires_in": "",
        "keywords_attributes": [
            {"id": finale["id"], "keyword": "the finale"},
            {"id": ending["id"], "_destroy": True},
            {"keyword": "twist", "whole_word": False},
        ],
    }
    changed = (await call(a, "PUT", path, token, json=changes)).json()
    assert changed["title"] == "Plot" and changed["context"] == ["thread"]
    assert changed["filter_action"] == "warn" and changed["expires_at"] is None
    assert [k["keyword"] for k in changed["keywords"]] == ["the finale", "twist"]
    assert (await get(a, "/api/v2/filters", token)).json() == [changed]
    assert (await get(a, path, token)).json() == changed
    # Filters v1 lists each keyword as a filter of its own, as Mastodon 4 does.
    v1 = (await get(a, "/api/v1/filters", token)).json()
    assert [(f["phrase"], f["context"], f["irreversible"]) for f in v1] == [
        ("the finale", ["thread"], False),
        ("twist", ["thread"], False),
    ]

    # Keywords on their own routes.
    added = await call(a, "POST", f"{path}/keywords", token, data={"keyword": "reveal"})
    reveal = added.json()
    assert reveal["keyword"] == "reveal" and reveal["whole_word"] is True
    keyword_path = f"/api/v2/filters/keywords/{reveal['id']}"
    await call(a, "PUT", keyword_path, token, json={"whole_word": False})
    assert (await get(a, keyword_path, token)).json()["whole_word"] is False
    assert len((await get(a, f"{path}/keywords", token)).json()) == 3
    assert (await call(a, "DELETE", keyword_path, token)).json() == {}
    assert len((await get(a, f"{path}/keywords", token)).json()) == 2

    # Bad input changes nothing; someone else's filter is 404.
    for bad in (
        {"title": "x"},
        {"title": "x", "context": ["everywhere"]},
        {"title": "", "context": ["home"]},
        {"title": "x", "context": ["home"], "filter_action": "delete"},
        {"title": "x", "context": ["home"], "expires_in": "soon"},
        {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": " "}]},
    ):
        refused = await call(a, "POST", "/api/v2/filters", token, json=bad)
        assert refused.status_code == 422 and refused.json()["error"], bad
    assert len((await get(a, "/api/v2/filters", token)).json()) == 1
    for method, suffix in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/keywords")):
        answer = await call(a, method, f"{path}{suffix}", bea_token, json={"title": "Mine"})
        assert answer.status_code == 404, (method, suffix)
    assert (
        await get(a, keyword_path.replace(reveal["id"], finale["id"]), bea_token)
    ).status_code == 404
    assert (await call(a, "DELETE", path, token)).json() == {}
    assert (await get(a, "/api/v2/filters", token)).json() == []


async def test_hide_and_warn_apply_in_their_contexts(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    await act(a, token, f"/api/v1/accounts/{bea.id}/follow")
    hide = {
        "title": "No crypto",
        "context": ["home", "notifications", "thread"],
        "filter_action": "hide",
        "keywords_attributes": [{"keyword": "coin", "whole_word": True}],
    }
    warn = {
        "title": "Soldering",
        "context": ["home", "public"],
        "keywords_attributes": [{"keyword": "solder", "whole_word": False}],
    }
    for body in (hide, warn):
        assert (await call(a, "POST", "/api/v2/filters", token, json=body)).status_code == 200
    root = await post(a, token, "Lamp news")
    coin = await post(a, bea_token, "@alice buy my COIN now", in_reply_to_id=root["id"])
    bitcoin = await post(a, bea_token, "bitcoinage is a word, not the keyword")
    soldering = await post(a, bea_token, "Soldering tips")
    plain = await post(a, bea_token, "A lamp")

    home = (await get(a, "/api/v1/timelines/home", token)).json()
    ids = [status["id"] for status in home]
    assert coin["id"] not in ids  # hidden: the whole word, in any case
    assert {bitcoin["id"], soldering["id"], plain["id"]} <= set(ids)
    [marked] = [status for status in home if status["id"] == soldering["id"]]
    [result] = marked["filtered"]
    assert result["filter"]["title"] == "Soldering" and result["keyword_matches"] == ["solder"]
    assert result["filter"]["filter_action"] == "warn"
    assert all(s["filtered"] == [] for s in home if s["id"] != soldering["id"])

    # Public has only the warning filter; threads and notifications only the hiding one.
    public = (await get(a, "/api/v1/timelines/public", token)).json()
    assert coin["id"] in [s["id"] for s in public]
    thread = (await get(a, f"/api/v1/statuses/{root['id']}/context", token)).json()
    assert thread["descendants"] == []
    told = (await get(a, "/api/v1/notifications", token)).json()
    assert all(n.get("status", {}).get("id") != coin["id"] for n in told)
    # The account timeline is in neither filter's contexts; others see everything.
    mine = (await get(a, f"/api/v1/accounts/{bea.id}/statuses", token)).json()
    assert coin["id"] in [s["id"] for s in mine] and all(s["filtered"] == [] for s in mine)
    theirs = (await get(a, "/api/v1/timelines/home", bea_token)).json()
    assert coin["id"] in [s["id"] for s in theirs]

    # A filter past its expiry applies nowhere.
    async with a.instance.sessions() as session:
        created_at = dt.datetime.fromisoformat(root["created_at"].replace("Z", "+00:00"))
        await session.execute(update(StatusFilter).values(expires_at=created_at))
        await session.commit()
    home = (await get(a, "/api/v1/timelines/home", token)).json()
    assert coin["id"] in [s["id"] for s in home] and all(s["filtered"] == [] for s in home)
    assert alice.id != bea.id


async def test_a_page_hidden_whole_reads_on(nodes: Any) -> None:
    """A page whose statuses a filter hides all is filled from older ones, so that apps do
    not take it for the end of the timeline."""
    a = await nodes("a.test")
    _, token = await a.user("alice")
    older = [await post(a, token, f"Lamp {n}") for n in range(3)]
    for n in range(4):
        await post(a, token, f"Spoiler {n}")
    body = {"title": "S", "context": ["home"], "filter_action": "hide"}
    body["keywords_attributes"] = [{"keyword": "spoiler"}]
    await call(a, "POST", "/api/v2/filters", token, json=body)
    page = await get(a, "/api/v1/timelines/home", token, limit="2")
    assert [s["id"] for s in page.json()] == [older[2]["id"], older[1]["id"]]
    assert f"max_id={older[1]['id']}" in page.headers["link"]
    newer = await get(a, "/api/v1/timelines/home", token, limit="2", min_id=older[0]["id"])
    assert [s["id"] for s in newer.json()] == [older[2]["id"], older[1]["id"]]


async def test_streams_leave_out_what_hide_filters_match(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    bea, bea_token = await a.user("bea")
    await act(a, token, f"/api/v1/accounts/{bea.id}/follow")
    body = {"title": "No crypto", "context": ["public"], "filter_action": "hide"}
    body["keywords_attributes"] = [{"keyword": "coin"}]
    await call(a, "POST", "/api/v2/filters", token, json=body)
    async with (
        AsgiStream(a, "/api/v1/streaming/public/local", token) as public,
        AsgiStream(a, "/api/v1/streaming/user", token) as home,
        AsgiStream(a, "/api/v1/streaming/public/local", bea_token) as others,
    ):
        coin = await post(a, bea_token, "Buy my coin")
        plain = await post(a, bea_token, "A plain lamp")
        assert (await public.next_of("update"))["id"] == plain["id"]
        # The filter names public only: alice's home stream still carries it.
        assert (await home.next_of("update"))["id"] == coin["id"]
        assert (await others.next_of("update"))["id"] == coin["id"]
    assert alice.id != bea.id
