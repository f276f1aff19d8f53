"""Where a design came from and where it went: recursive queries over versions and forks.

Ancestors follow each version's upstream link (or, for a later version of a fork, its
project's upstream) up to the root, one recursive query. Descendants are the fork tree
of a project, also one recursive query. Projects of suspended (or deleted) actors are left
out of both; a hidden fork's own forks hang from its parent instead.

A peer can plant a cycle (versions that name each other in forkedFrom) or many paths
between two projects, so both queries are bounded: the recursion is a `UNION` of rows that
carry no depth, so a row already found is never expanded again (the database's own visited
set: a cycle ends when it comes round), the outer `LIMIT` stops it after a fixed number of
rows (both SQLite and PostgreSQL stop a recursion when its consumer has enough), and the
order and depth are worked out here, with a visited set and a depth cap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from actors.moderation import visible
from objects.design_models import DesignVersion, Project

MAX_DEPTH = 2_000  # versions in an ancestry, and levels of a fork tree
MAX_NODES = 10_000  # rows either query reads

_ANCESTORS = text(
    """
    WITH RECURSIVE chain(uri, next_uri) AS (
        SELECT v.uri, COALESCE(v.upstream_uri, p.upstream_uri)
        FROM design_versions v JOIN projects p ON p.id = v.project_id
        WHERE v.uri = :uri
        UNION
        SELECT v.uri, COALESCE(v.upstream_uri, p.upstream_uri)
        FROM chain
        JOIN design_versions v ON v.uri = chain.next_uri
        JOIN projects p ON p.id = v.project_id
    )
    SELECT uri, next_uri FROM chain LIMIT :max_rows
    """
)

_DESCENDANTS = text(
    """
    WITH RECURSIVE tree(fork_project_uri, fork_uri, parent_project_uri) AS (
        SELECT f.fork_project_uri, f.fork_uri, f.upstream_project_uri
        FROM forks f WHERE f.upstream_project_uri = :project_uri
        UNION
        SELECT f.fork_project_uri, f.fork_uri, f.upstream_project_uri
        FROM tree JOIN forks f ON f.upstream_project_uri = tree.fork_project_uri
    )
    SELECT fork_project_uri, fork_uri, parent_project_uri FROM tree LIMIT :max_rows
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
    upstream_of = await _upstream_links(session, version_uri)
    walked = _walk(upstream_of, version_uri)
    hidden = await _hidden_versions(session, walked)
    chain = [uri for uri in walked if uri not in hidden]
    last_next = upstream_of.get(walked[-1]) if walked else None
    unknown = last_next if last_next is not None and last_next not in walked else None
    return Ancestry(chain=chain, unknown_upstream=unknown)


async def upstream_chain(session: AsyncSession, version_uri: str) -> list[str]:
    """Every version URI named on the way up from `version_uri`, each once: the stored
    ones (hidden ones too), then the first upstream we do not store, if any."""
    upstream_of = await _upstream_links(session, version_uri)
    walked = _walk(upstream_of, version_uri)
    last_next = upstream_of.get(walked[-1]) if walked else None
    return [*walked, last_next] if last_next and last_next not in walked else walked


async def _upstream_links(session: AsyncSession, version_uri: str) -> dict[str, str | None]:
    """Each stored version reachable upward from `version_uri`, with its upstream's URI."""
    rows = (await session.execute(_ANCESTORS, {"uri": version_uri, "max_rows": MAX_NODES})).all()
    return {row.uri: row.next_uri for row in rows}


def _walk(upstream_of: dict[str, str | None], start: str) -> list[str]:
    """The chain from `start` up, each version once, at most MAX_DEPTH long."""
    walked: list[str] = []
    seen: set[str] = set()
    uri: str | None = start
    while uri is not None and uri in upstream_of and uri not in seen and len(walked) < MAX_DEPTH:
        walked.append(uri)
        seen.add(uri)
        uri = upstream_of[uri]
    return walked


async def descendants(session: AsyncSession, project_uri: str) -> ForkNode:
    rows = (
        await session.execute(_DESCENDANTS, {"project_uri": project_uri, "max_rows": MAX_NODES})
    ).all()
    forks_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: row.fork_uri):
        forks_of[row.parent_project_uri].append((row.fork_project_uri, row.fork_uri))
    hidden = await _hidden_projects(session, [row.fork_project_uri for row in rows])
    return _tree(project_uri, forks_of, hidden)


def _tree(
    project_uri: str, forks_of: dict[str, list[tuple[str, str]]], hidden: set[str]
) -> ForkNode:
    """The fork tree, breadth first from the root so that each project hangs at its nearest
    place; each project once (a cycle or a second path adds nothing), MAX_DEPTH levels."""
    root = ForkNode(project_uri, None)
    nodes = {project_uri: root}
    level: list[tuple[str, ForkNode]] = [(project_uri, root)]
    for _ in range(MAX_DEPTH):
        next_level: list[tuple[str, ForkNode]] = []
        for parent_uri, parent_node in level:
            for fork_project_uri, fork_uri in forks_of.get(parent_uri, []):
                if fork_project_uri in nodes:
                    continue
                node = parent_node  # a hidden fork's own forks hang from its parent
                if fork_project_uri not in hidden:
                    node = ForkNode(fork_project_uri, fork_uri)
                    parent_node.forks.append(node)
                nodes[fork_project_uri] = node
                next_level.append((fork_project_uri, node))
        if not next_level:
            break
        level = next_level
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
