"""The details Mastodon apps read from accounts and statuses: a header image that loads,
the date of the last status, times with milliseconds, and a status's language."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.support import call, get, settle
from tests.test_mastodon_blocks import account_id
from tests.test_mastodon_statuses import post

MASTODON_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


async def test_header_last_status_date_and_times(nodes: Any) -> None:
    a = await nodes("a.test")
    alice, token = await a.user("alice")
    _, bea_token = await a.user("bea")
    fresh = (await get(a, f"/api/v1/accounts/{alice.id}", token)).json()
    assert fresh["last_status_at"] is None
    assert MASTODON_TIME.fullmatch(fresh["created_at"])
    header = urlsplit(fresh["header"])
    assert header.path == "/headers/original/missing.png" and fresh["header_static"]
    image = await get(a, header.path)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"

    note = await post(a, token, "Lamp news")
    assert MASTODON_TIME.fullmatch(note["created_at"])
    assert note["account"]["last_status_at"] == note["created_at"][:10]
    account = (await get(a, f"/api/v1/accounts/{alice.id}", token)).json()
    assert account["last_status_at"] == note["created_at"][:10]
    await post(a, bea_token, "@alice hi")
    [mention] = (await get(a, "/api/v1/notifications", token)).json()
    assert MASTODON_TIME.fullmatch(mention["created_at"])


async def test_language_is_kept_and_federated(nodes: Any) -> None:
    a, b = await nodes("a.test"), await nodes("b.test")
    _, token = await a.user("alice")
    _, bob_token = await b.user("bob")
    await b.post_outbox("bob", bob_token, {"type": "Follow", "object": "alice@a.test"})
    await settle(a, b)
    german = await post(a, token, "Eine neue Lampe", language="de")
    unsaid = await post(a, token, "No language said")
    assert german["language"] == "de" and unsaid["language"] is None
    shown = (await get(a, f"/api/v1/statuses/{german['id']}")).json()
    assert shown["language"] == "de"
    await settle(a, b)
    alice_on_b = await account_id(b, bob_token, "alice@a.test")
    theirs = (await get(b, f"/api/v1/accounts/{alice_on_b}/statuses", bob_token)).json()
    assert {s["uri"]: s["language"] for s in theirs} == {german["uri"]: "de", unsaid["uri"]: None}
    for bad in ("German", "d", "de_DE", 7):
        refused = await call(
            a, "POST", "/api/v1/statuses", token, json={"status": "x", "language": bad}
        )
        assert refused.status_code == 422 and "language" in refused.json()["error"]
