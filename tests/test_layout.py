"""The shape of web/: one folder per face, small shared modules, and no import cycles.

A route module (a module of a face folder with a module-level `routes`) binds, calls the
layer below and shapes the answer. What two route modules share lives below them (a
face's own helpers, the shared web/ root modules, objects/, actors/, outbox/). The faces
import no other face (import-linter checks it too; this test says which import).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "web"
FACES = ("activitypub", "mastodon", "api", "pages", "ops")
PACKAGES = ("federation", "actors", "objects", "outbox", "inbox", "web")
MAX_SHARED_LINES = 250
MAX_FACE_MODULES = 25


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _defines_routes(path: Path) -> bool:
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "routes" for t in targets):
            return True
    return False


def face_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "web" and parts[1] in FACES else None


def route_modules() -> set[str]:
    return {name for name, path in our_modules().items() if face_of(name) and _defines_routes(path)}


def imported_modules(path: Path, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """The modules `path` imports, at any depth of its code (a function-local import
    counts too). `from a import b` names `a.b` when that is a module we know, else `a`."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    known = set(modules)
    return {name: imported_modules(path, known) & known for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a module that
    imports itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_route_module_imports_another() -> None:
    routes = route_modules()
    modules = our_modules()
    offenders = sorted(
        (name, module)
        for name in routes
        for module in imported_modules(modules[name], set(modules)) & routes
        if module != name
    )
    assert offenders == []


def test_no_face_imports_another() -> None:
    offenders = sorted(
        (name, module)
        for name, imported in import_graph().items()
        if face_of(name)
        for module in imported
        if face_of(module) and face_of(module) != face_of(name)
    )
    assert offenders == []


def test_no_import_cycles_anywhere() -> None:
    assert cycles(import_graph()) == []


def test_shared_web_modules_are_short() -> None:
    long = {
        path.name: lines
        for path in sorted(WEB.glob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_SHARED_LINES
    }
    assert long == {}


def test_every_face_folder_is_small() -> None:
    """Each folder of a face, and each of its subfolders (a large face such as Mastodon's
    groups its routes by topic: `web/mastodon/social/`, `streaming/`), under the limit."""
    folders = [folder for face in FACES for folder in (WEB / face).rglob("") if folder.is_dir()]
    sizes = {str(f.relative_to(WEB)): len(list(f.glob("*.py"))) for f in folders}
    assert all(count < MAX_FACE_MODULES for count in sizes.values()), sizes


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    assert {"web.mastodon.statuses", "web.pages.publish", "web.api.designs"} <= route_modules()
    assert "web.mastodon.status" not in route_modules()  # entities, not routes
    module = tmp_path / "example.py"
    module.write_text(
        "from web.mastodon import statuses\nfrom web.scopes import both\n\n\n"
        "def later() -> None:\n    from web.pages import publish\n"
    )
    known = {"web.mastodon.statuses", "web.pages.publish", "web.scopes"}
    assert imported_modules(module, known) == known
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
