"""The family tree of a design as a picture: an SVG drawn on the server.

The root is the oldest ancestor we know of the project, its forks below it, across
instances. Names, handles and licences come from other servers, so the SVG is built as an
element tree (`xml.etree.ElementTree` escapes every text and attribute), characters XML
cannot hold are dropped, links keep to http(s), and there is no script or style element:
the picture only uses presentation attributes.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from actors.models import Actor
from objects.design_models import DesignVersion, Project
from objects.lineage import ForkNode, ancestors, descendants
from web.pages.version_page import web_link

SVG_NS = "http://www.w3.org/2000/svg"
MAX_NODES = 500
BOX_WIDTH, BOX_HEIGHT = 200, 64
COLUMN, ROW = 220, 104
MARGIN = 12
# Colours by instance host: light fills dark text can be read on.
PALETTE = ("#d8efe2", "#dce7f7", "#f7e3cf", "#ece0f5", "#f6dce0", "#e4efc9", "#d6eef0", "#f2ecc6")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class LineageNode:
    project_uri: str
    name: str
    handle: str
    host: str
    licence: str
    href: str | None
    current: bool = False
    forks: list[LineageNode] = field(default_factory=list)
    x: float = 0.0
    depth: int = 0


@dataclass
class Lineage:
    root: LineageNode
    count: int
    left_out: int  # nodes beyond MAX_NODES, not drawn
    unknown_upstream: str | None


async def load_lineage(session: AsyncSession, project_actor: Actor, project: Project) -> Lineage:
    """The tree around `project`: from its oldest known ancestor down, at most MAX_NODES."""
    root_uri, unknown = project_actor.uri, None
    if project.latest_version_uri is not None:
        ancestry = await ancestors(session, project.latest_version_uri)
        unknown = ancestry.unknown_upstream
        if len(ancestry.chain) > 1:
            root_uri = await _project_of_version(session, ancestry.chain[-1]) or root_uri
    tree = await descendants(session, root_uri)
    kept, left_out = _first_nodes(tree)
    details = await _details(session, [node.project_uri for node in kept])
    nodes = {node.project_uri: _node(node, details, project_actor.uri) for node in kept}
    for fork_node in kept:
        for child in fork_node.forks:
            if child.project_uri in nodes:
                nodes[fork_node.project_uri].forks.append(nodes[child.project_uri])
    return Lineage(nodes[tree.project_uri], len(kept), left_out, web_link(unknown) or None)


def _first_nodes(tree: ForkNode) -> tuple[list[ForkNode], int]:
    """The tree's nodes breadth first, cut at MAX_NODES; and how many were cut."""
    kept: list[ForkNode] = []
    queue, total = deque([tree]), 0
    while queue:
        node = queue.popleft()
        total += 1
        if len(kept) < MAX_NODES:
            kept.append(node)
        queue.extend(node.forks)
    return kept, total - len(kept)


async def _project_of_version(session: AsyncSession, version_uri: str) -> str | None:
    return await session.scalar(
        select(Actor.uri)
        .join(Project, Project.actor_id == Actor.id)
        .join(DesignVersion, DesignVersion.project_id == Project.id)
        .where(DesignVersion.uri == version_uri)
    )


async def _details(session: AsyncSession, uris: list[str]) -> dict[str, tuple[Actor, str]]:
    """Each project's actor and the licence of its latest version, in one query."""
    rows = await session.execute(
        select(Actor, DesignVersion.licence_text)
        .join(Project, Project.actor_id == Actor.id)
        .outerjoin(DesignVersion, DesignVersion.uri == Project.latest_version_uri)
        .where(Actor.uri.in_(uris))
    )
    return {actor.uri: (actor, licence or "") for actor, licence in rows.all()}


def _node(fork: ForkNode, details: dict[str, tuple[Actor, str]], current: str) -> LineageNode:
    found = details.get(fork.project_uri)
    if found is None:  # a fork we heard of whose project we never fetched
        host = fork.project_uri.split("/")[2] if "://" in fork.project_uri else ""
        name, handle, licence = fork.project_uri.rsplit("/", 1)[-1], f"@?@{host}", ""
    else:
        actor, licence = found
        host, name = actor.domain, actor.name or actor.username
        handle = f"@{actor.username}@{actor.domain}"
    href = fork.version_uri or fork.project_uri
    return LineageNode(
        project_uri=fork.project_uri,
        name=clean_text(name),
        handle=clean_text(handle),
        host=clean_text(host),
        licence=clean_text(licence),
        href=web_link(href) or None,
        current=fork.project_uri == current,
    )


def clean_text(value: str) -> str:
    """Text without the characters XML 1.0 cannot carry (ElementTree would write them)."""
    return _NOT_XML.sub("", value)


# Layout: each leaf takes a column; a parent sits over the middle of its children.


def layout(root: LineageNode) -> tuple[int, int]:
    """Give every node its column (x) and row (depth); (columns, rows) of the picture."""
    order: list[LineageNode] = []
    stack = [root]
    root.depth = 0
    while stack:  # pre-order without recursion: a chain of forks can be deep
        node = stack.pop()
        order.append(node)
        for child in reversed(node.forks):
            child.depth = node.depth + 1
            stack.append(child)
    next_column = 0.0
    for node in order:
        if not node.forks:
            node.x = next_column
            next_column += 1
    for node in reversed(order):  # children before their parent
        if node.forks:
            node.x = (node.forks[0].x + node.forks[-1].x) / 2
    return max(1, int(next_column)), 1 + max(node.depth for node in order)


def lineage_svg(lineage: Lineage) -> str:
    """The picture as SVG text (an `<svg>` element, fit to inline in HTML or serve)."""
    root = lineage.root
    columns, rows = layout(root)
    width = columns * COLUMN + 2 * MARGIN
    height = rows * ROW + 2 * MARGIN
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "aria-labelledby": "lineage-title",
            "font-family": "system-ui, sans-serif",
        },
    )
    title = ET.SubElement(svg, "title", {"id": "lineage-title"})
    title.text = f"Family tree of {root.name}: {lineage.count} designs"
    edges = ET.SubElement(svg, "g", {"fill": "none", "stroke": "#5b6b60", "stroke-width": "1.5"})
    nodes = ET.SubElement(svg, "g")
    for node in _walk(root):
        for child in node.forks:
            _edge(edges, node, child)
        _box(nodes, node)
    return ET.tostring(svg, encoding="unicode")


def _walk(root: LineageNode) -> list[LineageNode]:
    found, stack = [], [root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(reversed(node.forks))
    return found


def outline(root: LineageNode) -> list[tuple[str, LineageNode | None]]:
    """The tree as steps for a nested list: ("item", node) opens its <li>, "open" and
    "close" its list of forks, "end" closes the <li>. Flat, so a deep chain of forks
    costs no recursion when rendered."""
    steps: list[tuple[str, LineageNode | None]] = []
    stack: list[tuple[str, LineageNode | None]] = [("item", root)]
    while stack:
        step, node = stack.pop()
        steps.append((step, node))
        if step == "item" and node is not None:
            stack.append(("end", None))
            if node.forks:
                stack.append(("close", None))
                stack.extend(("item", child) for child in reversed(node.forks))
                steps.append(("open", None))
    return steps


def _centre(node: LineageNode) -> tuple[float, float]:
    return MARGIN + node.x * COLUMN + COLUMN / 2, MARGIN + node.depth * ROW


def _edge(parent: ET.Element, upper: LineageNode, lower: LineageNode) -> None:
    x1, top1 = _centre(upper)
    x2, y2 = _centre(lower)
    y1 = top1 + BOX_HEIGHT
    middle = (y1 + y2) / 2
    path = f"M {x1:.1f} {y1:.1f} C {x1:.1f} {middle:.1f}, {x2:.1f} {middle:.1f}, {x2:.1f} {y2:.1f}"
    ET.SubElement(parent, "path", {"d": path})


def _box(parent: ET.Element, node: LineageNode) -> None:
    holder = ET.SubElement(parent, "a", {"href": node.href}) if node.href else parent
    group = ET.SubElement(holder, "g", {"class": "node current" if node.current else "node"})
    tip = ET.SubElement(group, "title")
    tip.text = f"{node.name} ({node.handle}) · {node.licence or 'licence unknown'}"
    centre_x, top = _centre(node)
    ET.SubElement(
        group,
        "rect",
        {
            "x": f"{centre_x - BOX_WIDTH / 2:.1f}",
            "y": f"{top:.1f}",
            "width": str(BOX_WIDTH),
            "height": str(BOX_HEIGHT),
            "rx": "10",
            "fill": host_colour(node.host),
            "stroke": "#1f6f4a" if node.current else "#8a9a90",
            "stroke-width": "3" if node.current else "1",
        },
    )
    lines = (
        (node.name, "14", "700", 20),
        (node.handle, "11", "400", 38),
        (node.licence or "licence unknown", "11", "400", 54),
    )
    for text, size, weight, offset in lines:
        label = ET.SubElement(
            group,
            "text",
            {
                "x": f"{centre_x:.1f}",
                "y": f"{top + offset:.1f}",
                "text-anchor": "middle",
                "font-size": size,
                "font-weight": weight,
                "fill": "#1d2a22",
            },
        )
        label.text = shorten(text, 26 if size == "14" else 32)


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def host_colour(host: str) -> str:
    return PALETTE[hashlib.sha256(host.encode()).digest()[0] % len(PALETTE)]
