"""masto.js (the library behind Elk), from npm as package.json pins it, run by Node against
a real server on loopback: boosting, editing and voting as Elk does them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.live import live_server
from tests.support import Node, bearer
from tests.test_megalodon import ROOT, run_node

SCRIPT = Path(__file__).parent / "masto_compose.mjs"


async def masto(node: Node, token: str, *args: str) -> dict[str, Any]:
    assert (ROOT / "node_modules" / "masto").is_dir(), "install the npm packages: `npm ci`"
    code, out, err = await run_node(str(SCRIPT), f"http://{node.domain}", token, *args)
    assert code == 0, err
    answer: dict[str, Any] = json.loads(out)
    return answer


async def post(node: Node, token: str, **fields: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=f"http://{node.domain}") as client:
        response = await client.post("/api/v1/statuses", json=fields, headers=bearer(token))
    assert response.status_code == 200, response.text
    return response.json()


async def test_masto_boosts_and_reads_the_boost_in_home(new_database: Any, tmp_path: Path) -> None:
    async with live_server(await new_database(), tmp_path / "a") as node:
        alice, token = await node.user("alice")
        status = await post(node, token, status="Boost me")
        answer = await masto(node, token, "reblog", status["id"])
    boost = answer["boost"]
    # Before, the answer was the original itself (reblog null): Elk threw on every boost.
    assert boost["id"] != status["id"] and boost["reblog"] == status["id"]
    assert boost["account"] == str(alice.id)
    assert answer["home"] == [
        {"id": boost["id"], "reblog": status["id"]},
        {"id": status["id"], "reblog": None},
    ]
    assert answer["again"] == status["id"]
    assert answer["undone"] == {"id": status["id"], "reblogged": False}


async def test_masto_edits_and_reads_history_and_source(new_database: Any, tmp_path: Path) -> None:
    async with live_server(await new_database(), tmp_path / "a") as node:
        _, token = await node.user("alice")
        status = await post(node, token, status="First try")
        answer = await masto(node, token, "edit", status["id"], "Second try", "spoiler")
    assert answer["edited"]["content"] == "<p>Second try</p>"
    assert answer["edited"]["editedAt"] is not None
    assert answer["history"] == ["<p>First try</p>", "<p>Second try</p>"]
    assert answer["source"] == {"text": "Second try", "spoiler": "spoiler"}


async def test_masto_votes_and_reads_the_poll(new_database: Any, tmp_path: Path) -> None:
    async with live_server(await new_database(), tmp_path / "a") as node:
        _, token = await node.user("alice")
        _, bea_token = await node.user("bea")
        poll = {"options": ["Tea", "Coffee", "Water"], "expires_in": 600, "multiple": True}
        status = await post(node, token, status="Drinks?", poll=poll)
        answer = await masto(node, bea_token, "vote", status["poll"]["id"], "0", "2")
    assert answer == {"voted": [0, 2], "votes": [1, 0, 1]}
