"""Where a design came from and where it went: recursive queries over versions and forks.

Ancestors follow each version's upstream link (or, for a later version of a fork, its
project's upstream) up to the root, one recursive query. Descendants are the fork tree
of a project, also one recursive query. Both stop at `MAX_DEPTH`, so a cycle planted by
a hostile peer cannot loop forever. Projects of suspended (or deleted) actors are left out
of both; a hidden fork's own forks hang from its parent instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import visible
from objects.design_models import DesignVersion, Project

MAX_DEPTH = 10_000

_ANCESTORS = text(
    """
    WITH RECURSIVE chain(uri, next_uri, depth) AS (
        SELECT v.uri, COALESCE(v.upstream_uri, p.upstream_uri), 0
        FROM design_versions v JOIN projects p ON p.id = v.project_id
        WHERE v.uri = :uri
        UNION ALL
        SELECT v.uri, COALESCE(v.upstream_uri, p.upstream_uri), chain.depth + 1
        FROM chain
        JOIN design_versions v ON v.uri = chain.next_uri
        JOIN projects p ON p.id = v.project_id
        WHERE chain.depth < :max_depth
    )
    SELECT uri, next_uri, depth FROM chain ORDER BY depth
    """
)

_DESCENDANTS = text(
    """
    WITH RECURSIVE tree(fork_project_uri, fork_uri, parent_project_uri, depth) AS (
        SELECT f.fork_project_uri, f.fork_uri, f.upstream_project_uri, 1
        FROM forks f WHERE f.upstream_project_uri = :project_uri
        UNION ALL
        SELECT f.fork_project_uri, f.fork_uri, f.upstream_project_uri, tree.depth + 1
        FROM tree JOIN forks f ON f.upstream_project_uri = tree.fork_project_uri
        WHERE tree.depth < :max_depth
    )
    SELECT fork_project_uri, fork_uri, parent_project_uri, depth FROM tree
    ORDER BY depth, fork_uri
    """
)


@dataclass(frozen=True)
class Ancestry:
    """Version URIs from the given version up to the oldest one we know, and, if the chain
    continues on a version we have not stored, that version's URI."""

    chain: list[str]
    unknown_upstream: str | None


@dataclass
class ForkNode:
    project_uri: str
    version_uri: str | None
    forks: list[ForkNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "project": self.project_uri,
            "version": self.version_uri,
            "forks": [child.as_dict() for child in self.forks],
        }


async def ancestors(session: AsyncSession, version_uri: str) -> Ancestry:
    rows = (await session.execute(_ANCESTORS, {"uri": version_uri, "max_depth": MAX_DEPTH})).all()
    hidden = await _hidden_versions(session, [row.uri for row in rows])
    chain = [row.uri for row in rows if row.uri not in hidden]
    last_next = rows[-1].next_uri if rows else None
    unknown = last_next if last_next is not None and last_next not in chain else None
    return Ancestry(chain=chain, unknown_upstream=unknown)


async def descendants(session: AsyncSession, project_uri: str) -> ForkNode:
    rows = (
        await session.execute(_DESCENDANTS, {"project_uri": project_uri, "max_depth": MAX_DEPTH})
    ).all()
    root = ForkNode(project_uri, None)
    nodes = {project_uri: root}
    hidden = await _hidden_projects(session, [row.fork_project_uri for row in rows])
    for row in rows:
        if row.fork_project_uri in nodes:  # a cycle or a second path: list each project once
            continue
        if row.fork_project_uri in hidden:
            nodes[row.fork_project_uri] = nodes[row.parent_project_uri]
            continue
        node = ForkNode(row.fork_project_uri, row.fork_uri)
        nodes[row.fork_project_uri] = node
        nodes[row.parent_project_uri].forks.append(node)
    return root


async def _hidden_versions(session: AsyncSession, uris: list[str]) -> set[str]:
    query = (
        select(DesignVersion.uri)
        .join(Project, Project.id == DesignVersion.project_id)
        .join(Actor, Actor.id == Project.actor_id)
        .where(DesignVersion.uri.in_(uris), ~visible())
    )
    return set(await session.scalars(query)) if uris else set()


async def _hidden_projects(session: AsyncSession, uris: list[str]) -> set[str]:
    query = select(Actor.uri).where(Actor.uri.in_(uris), ~visible())
    return set(await session.scalars(query)) if uris else set()
