"""The shape of web/: one folder per face, and route modules that import no other.

A route module (a module of a face folder with a module-level `routes`) binds, calls the
layer below and shapes the answer. What two route modules share lives below them (a
face's own helpers, the shared web/ root modules, objects/, actors/, outbox/).
"""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).resolve().parents[1] / "web"
FACES = ("activitypub", "mastodon", "api", "pages", "ops")
# Modules that only gather other modules' route tables into one prefix, and the one import
# still to be moved down (the instance facts that NodeInfo and /api/v2/instance share).
GATHERERS = {"web.api.accounts", "web.mastodon.oauth"}
STILL_TO_MOVE = {("web.activitypub.wellknown", "web.mastodon.instance")}


def _module_name(path: Path) -> str:
    parts = path.relative_to(WEB.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _defines_routes(tree: ast.Module) -> bool:
    for node in tree.body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign)
            else []
        )
        if any(isinstance(t, ast.Name) and t.id == "routes" for t in targets):
            return True
    return False


def face_modules() -> dict[str, Path]:
    return {
        _module_name(path): path for face in FACES for path in sorted((WEB / face).rglob("*.py"))
    }


def route_modules() -> set[str]:
    return {
        name
        for name, path in face_modules().items()
        if _defines_routes(ast.parse(path.read_text(encoding="utf-8")))
    }


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth of its code, by its full dotted name
    (`from a import b` counts as both `a` and `a.b`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def test_no_route_module_imports_another() -> None:
    routes = route_modules()
    offenders = sorted(
        (name, module)
        for name in routes - GATHERERS
        for module in imported_modules(face_modules()[name]) & routes
        if module != name and (name, module) not in STILL_TO_MOVE
    )
    assert offenders == []


def test_the_check_sees_route_modules_and_their_imports(tmp_path: Path) -> None:
    assert {"web.mastodon.statuses", "web.pages.publish", "web.api.designs"} <= route_modules()
    assert "web.mastodon.status" not in route_modules()  # entities, not routes
    module = tmp_path / "example.py"
    module.write_text("from web.mastodon import statuses\nfrom web.scopes import both\n")
    assert "web.mastodon.statuses" in imported_modules(module)
