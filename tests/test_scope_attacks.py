"""Tokens used beyond their scopes, as an attacker holding an app's token would try.

The token belongs to an admin, so that only its scopes stand in the way: a token an app
got with `read:statuses` must not read the admin API, and one with `write:favourites`
must change nothing but favourites. A token with the right scope still works.
"""

from __future__ import annotations

import importlib.util

from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, select, update

from actors.models import ALL_SCOPES, Account, ApiToken
from actors.moderation_models import DomainBlock
from actors.oauth import OUTSIDE_SCOPES
from objects.design_models import Project
from outbox.models import OutboxActivity
from tests.support import Node, app_token, audit_actions, call, count, get
from web.schema import MIGRATIONS_DIR

REFUSED = (403, {"error": OUTSIDE_SCOPES})
OLD_CLI_SCOPES = "read write follow push"  # what tokens of no app said before they said all


async def _role(node: Node, actor_id: int) -> str:
    async with node.instance.sessions() as session:
        account = await session.get(Account, actor_id)
        assert account is not None
        return account.role


async def test_a_read_statuses_token_reads_no_admin_data(nodes) -> None:
    a: Node = await nodes("a.test")
    admin, _ = await a.user("admin", role="admin")
    await a.user("bob")
    token = await app_token(a, admin, "read:statuses")
    for path in ("/api/v1/admin/accounts", "/api/v1/admin/audit_log"):
        answer = await get(a, path, token)
        assert (answer.status_code, answer.json()) == REFUSED, path
        assert "bob@a.test" not in answer.text
    assert (await get(a, "/api/v1/timelines/home", token)).status_code == 200

    staff = await app_token(a, admin, "admin:read:accounts")
    listed = await get(a, "/api/v1/admin/accounts", staff)
    assert listed.status_code == 200 and "bob@a.test" in listed.text
    assert (await get(a, "/api/v1/admin/audit_log", staff)).status_code == 403


async def _attempts(node: Node, token: str, bob_id: int) -> dict[str, tuple[int, object]]:
    """What each write answers to `token`: a domain block, a role, a note, a design."""
    tries = {
        "block": await call(
            node, "POST", "/api/v1/admin/domain_blocks", token, json={"domain": "evil.test"}
        ),
        "role": await call(
            node, "PUT", f"/api/v1/admin/accounts/{bob_id}/role", token, json={"role": "admin"}
        ),
        "note": await node.post_outbox("admin", token, {"type": "Note", "content": "hi all"}),
        "design": await call(node, "POST", "/api/v1/designs", token, json={"slug": "chair"}),
    }
    return {name: (answer.status_code, answer.json()) for name, answer in tries.items()}


async def _state(node: Node, bob_id: int) -> tuple[int, str, int, int, list[str]]:
    return (
        await count(node, DomainBlock),
        await _role(node, bob_id),
        await count(node, OutboxActivity),
        await count(node, Project),
        await audit_actions(node),
    )


async def test_a_write_favourites_token_changes_nothing_else(nodes) -> None:
    a: Node = await nodes("a.test")
    admin, _ = await a.user("admin", role="admin")
    bob, _ = await a.user("bob")
    before = await _state(a, bob.id)
    token = await app_token(a, admin, "write:favourites")
    answers = await _attempts(a, token, bob.id)
    assert answers == dict.fromkeys(answers, REFUSED)
    assert await _state(a, bob.id) == before


async def test_properly_scoped_tokens_do_the_same_writes(nodes) -> None:
    a: Node = await nodes("a.test")
    admin, _ = await a.user("admin", role="admin")
    bob, _ = await a.user("bob")
    token = await app_token(a, admin, "write admin:write:domain_blocks admin:write:accounts")
    answers = await _attempts(a, token, bob.id)
    assert {name: status for name, (status, _) in answers.items()} == {
        "block": 200,
        "role": 200,
        "note": 201,
        "design": 201,
    }
    blocks, role, activities, projects, audit = await _state(a, bob.id)
    assert (blocks, role, activities, projects) == (1, "admin", 1, 1)
    assert "change_role" in audit


def _upgrade_tokens(connection: Connection) -> None:
    """Run the migration that names the scopes of tokens of no app, whatever its number."""
    versions = MIGRATIONS_DIR / "versions"
    [path] = versions.glob("*_cli_tokens_name_their_scopes.py")
    spec = importlib.util.spec_from_file_location("tokens_name_their_scopes", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with Operations.context(MigrationContext.configure(connection)):
        migration.upgrade()


async def test_cli_tokens_carry_every_scope_and_say_so(nodes) -> None:
    """A token of no app carries what its row names; the CLI's names every scope, and the
    migration gives the rows made before it the admin scopes they always had."""
    a: Node = await nodes("a.test")
    _, token = await a.user("admin", role="admin")
    assert (await get(a, "/api/v1/admin/accounts", token)).status_code == 200
    async with a.instance.sessions() as session:
        await session.execute(
            update(ApiToken).where(ApiToken.app_id.is_(None)).values(scopes=OLD_CLI_SCOPES)
        )
        await session.commit()
    assert (await get(a, "/api/v1/admin/accounts", token)).status_code == 403
    async with a.instance.engine.begin() as connection:
        await connection.run_sync(_upgrade_tokens)
    assert (await get(a, "/api/v1/admin/accounts", token)).status_code == 200
    async with a.instance.sessions() as session:
        assert await session.scalar(select(ApiToken.scopes)) == ALL_SCOPES
