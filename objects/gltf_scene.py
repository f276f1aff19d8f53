"""How big a glTF scene is once flattened, counted from its JSON before any mesh is built.

A glTF names each mesh once and places it with nodes; flattening (what a thumbnail needs)
copies the mesh for every path from a scene's root to a node that names it. A few hundred
KB of nodes that all reference one mesh, or nodes that share children level after level,
flatten into gigabytes. Counting instances along the node graph costs one pass over the
JSON, so such a file is refused with a reason before the parser allocates anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from objects.model_files import ThumbnailError

TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN = 4, 5, 6
# Counts stop here: nodes sharing children level after level multiply without end.
COUNT_CAP = 10**15


@dataclass(frozen=True)
class SceneSize:
    nodes: int  # node instances, counted once per path from a scene root
    triangles: int  # triangles once every mesh instance is copied into one mesh


def check_scene_size(doc: Any, file_name: str, *, max_nodes: int, max_triangles: int) -> None:
    """ThumbnailError when the flattened scene would hold more nodes or triangles than we draw."""
    size = scene_size(doc, file_name, cap=COUNT_CAP)
    if size.nodes > max_nodes:
        raise ThumbnailError(
            f"{file_name} places its meshes {size.nodes:,} times, more than the"
            f" {max_nodes:,} we draw; no thumbnail is made"
        )
    if size.triangles > max_triangles:
        raise ThumbnailError(
            f"{file_name} has {size.triangles:,} triangles once its scene is laid out"
            f" (meshes placed by many nodes), more than the {max_triangles:,} we draw;"
            " no thumbnail is made"
        )


def scene_size(doc: Any, file_name: str, *, cap: int) -> SceneSize:
    """The flattened size of every scene in `doc` (counts stop growing at `cap`)."""
    try:
        nodes = _list(doc.get("nodes"))
        mesh_triangles = [_mesh_triangles(doc, mesh) for mesh in _list(doc.get("meshes"))]
        below: dict[int, tuple[int, int]] = {}
        total_nodes = total_triangles = 0
        for root in _roots(doc, nodes):
            _count_below(nodes, mesh_triangles, root, below, cap)
            total_nodes = min(cap, total_nodes + below[root][0])
            total_triangles = min(cap, total_triangles + below[root][1])
    except (AttributeError, IndexError, KeyError, TypeError, ValueError) as exc:
        raise ThumbnailError(
            f"{file_name} is not a valid glTF file: its scene is malformed ({exc!s:.100})"
        ) from exc
    return SceneSize(total_nodes, total_triangles)


def _count_below(
    nodes: list[Any],
    mesh_triangles: list[int],
    root: int,
    below: dict[int, tuple[int, int]],
    cap: int,
) -> None:
    """Fill `below[node]` = (node instances, triangles) of the subtree at each node reached
    from `root`: iterative, as a file can nest nodes deeper than Python recurses."""
    stack, open_nodes = [(root, False)], set()
    while stack:
        index, children_done = stack.pop()
        if children_done:
            open_nodes.discard(index)
            count, triangles = 1, _node_triangles(nodes[index], mesh_triangles)
            for child in _children(nodes, index):
                count, triangles = count + below[child][0], triangles + below[child][1]
            below[index] = (min(count, cap), min(triangles, cap))
        elif index not in below:
            if index in open_nodes:
                raise ValueError(f"node {index} is its own ancestor")
            open_nodes.add(index)
            stack.append((index, True))
            stack.extend((child, False) for child in _children(nodes, index))


def _roots(doc: Any, nodes: list[Any]) -> list[int]:
    scenes = _list(doc.get("scenes"))
    if scenes:
        return [_index(root, nodes) for scene in scenes for root in _list(scene.get("nodes"))]
    children = {child for index in range(len(nodes)) for child in _children(nodes, index)}
    return [index for index in range(len(nodes)) if index not in children]


def _children(nodes: list[Any], index: int) -> list[int]:
    return [_index(child, nodes) for child in _list(nodes[index].get("children"))]


def _node_triangles(node: Any, mesh_triangles: list[int]) -> int:
    mesh = node.get("mesh")
    return 0 if mesh is None else mesh_triangles[_index(mesh, mesh_triangles)]


def _mesh_triangles(doc: Any, mesh: Any) -> int:
    accessors = _list(doc.get("accessors"))
    triangles = 0
    for primitive in _list(mesh.get("primitives")):
        mode = primitive.get("mode", TRIANGLES)
        source = primitive.get("indices")
        if source is None:
            source = primitive["attributes"]["POSITION"]
        count = accessors[_index(source, accessors)]["count"]
        if not isinstance(count, int) or count < 0:
            raise ValueError("an accessor's count is not a whole number")
        if mode == TRIANGLES:
            triangles += count // 3
        elif mode in (TRIANGLE_STRIP, TRIANGLE_FAN):
            triangles += max(count - 2, 0)
    return triangles


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError(f"expected a list, got {type(value).__name__}")
    return value


def _index(value: Any, items: list[Any]) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < len(items):
        raise IndexError(f"{value!r} is not an index into a list of {len(items)}")
    return value
