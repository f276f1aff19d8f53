"""JSON bodies nested past what the parser can take: a 400 with a clear error on every
route that takes a body, signed in or not, and nothing changes.

Before, `json.loads` raised RecursionError (not ValueError) and the server answered 500
with a traceback. Every route reads JSON through `web.request_input.json_body` (the inbox, fetched
documents and WebSocket messages through `federation.json_input` as well); the last test
keeps it that way.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from starlette.routing import Mount, Route

from actors.models import Account, Actor, OAuthApp
from federation.json_input import MAX_JSON_DEPTH, parse_json
from federation.keys import load_rsa_private_pem
from inbox.models import InboxItem
from tests.support import Node, bearer, signed_post

DEEP = "[" * 200_000 + "]" * 200_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000  # under the 1 MB body limit
JUST_TOO_DEEP = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ROOT = Path(__file__).resolve().parent.parent
# Modules that parse JSON other than a request's: the one reader itself, contexts we ship,
# a backup's manifest on local disk, a glTF file's header and the operator's checks.
OWN_JSON_READERS = {
    "federation/json_input.py",
    "federation/jsonld.py",
    "web/ops/backup.py",
    "objects/mesh_render.py",  # inside the limited child process (objects.sandbox)
    "objects/mesh_check.py",  # likewise: a glTF file's JSON, read in that child
    "objects/sandbox_child.py",  # its own arguments, written by the server
    "web/ops/checks.py",
}


def _body_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for route in routes:
        if isinstance(route, Mount):
            found += _body_routes(list(route.routes), prefix + route.path)
        elif isinstance(route, Route) and route.methods:
            found += [(m, prefix + route.path) for m in sorted(route.methods & WRITE_METHODS)]
    return found


def _concrete(path: str, username: str) -> str:
    path = path.replace("{username}", username)
    return re.sub(r"\{[^}]+\}", "1", path)


async def _rows(node: Node) -> tuple[int, ...]:
    async with node.instance.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (Actor, Account, OAuthApp)
        ]
    return tuple(int(n or 0) for n in counts)


def _clear_400(response: Any) -> None:
    assert response.status_code == 400, (response.url, response.status_code, response.text[:300])
    error = response.json()["error"]
    assert "nests deeper" in error or "not valid JSON" in error, error
    assert "Traceback" not in response.text


async def test_deep_nesting_without_a_token_is_a_400(nodes: Any) -> None:
    node = await nodes("a.test", registration_mode="open")
    before = await _rows(node)
    async with node.client() as client:
        for path in ("/api/v1/accounts", "/api/v1/apps", "/api/v1/auth/token", "/oauth/token"):
            for body in (DEEP, DEEP_OBJECT, JUST_TOO_DEEP):
                response = await client.post(
                    path, content=body, headers={"Content-Type": "application/json"}
                )
                _clear_400(response)
    assert await _rows(node) == before


async def test_every_route_that_takes_a_body_survives_deep_nesting(nodes: Any) -> None:
    """Signed in as an admin with every scope, so that each route gets as far as the body:
    no route answers 500, and none changes anything."""
    node = await nodes("a.test", registration_mode="open")
    admin, token = await node.user("root", role="admin")
    routes = _body_routes(list(node.app.routes))
    assert ("POST", "/api/v1/accounts") in routes and len(routes) > 30
    before = await _rows(node)
    reached = []
    async with node.client() as client:
        for method, path in routes:
            response = await client.request(
                method,
                _concrete(path, admin.username or "root"),
                content=DEEP,
                headers={**bearer(token), "Content-Type": "application/json"},
            )
            # 503 is a route that cannot work here at all (no mail configured), said clearly.
            assert response.status_code < 500 or response.status_code == 503, (
                method,
                path,
                response.text[:300],
            )
            assert "Traceback" not in response.text
            if response.status_code == 400 and "nests deeper" in response.text:
                reached.append(path)
    assert await _rows(node) == before
    for path in ("/api/v1/statuses", "/api/v1/designs", "/api/v1/reports", "/api/v1/follows"):
        assert path in reached, (path, reached)


async def test_deep_nesting_in_a_signed_activity_is_a_400(nodes: Any) -> None:
    victim, evil = await nodes("victim.test"), await nodes("evil.test")
    mallory, _ = await evil.user("mallory")
    assert mallory.private_key_pem is not None
    key = load_rsa_private_pem(mallory.private_key_pem)
    for body in (DEEP, DEEP_OBJECT):
        response = await signed_post(victim, "/inbox", body.encode(), mallory.public_key_id, key)
        _clear_400(response)
    async with victim.instance.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(InboxItem)) == 0


def test_the_reader_refuses_depth_past_the_limit_and_takes_it_up_to_there() -> None:
    ok = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert isinstance(parse_json(ok), list)
    assert parse_json(json.dumps({"a": [{"b": [1, 2, {"c": None}]}]}))["a"][0]["b"][2] == {
        "c": None
    }


def test_no_module_parses_request_json_itself() -> None:
    """Every JSON body is read through `json_body` / `federation.json_input`: a route that
    called `request.json()` or `json.loads` itself would skip the nesting limit."""
    offenders = []
    for layer in ("web", "inbox", "outbox", "objects", "actors", "federation"):
        for path in sorted((ROOT / layer).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name in OWN_JSON_READERS:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    target = ast.unparse(node.func)
                    if target in ("json.loads", "json.load") or (
                        node.func.attr == "json" and "request" in ast.unparse(node.func.value)
                    ):
                        offenders.append(f"{name}:{node.lineno}: {target}")
    assert offenders == []
