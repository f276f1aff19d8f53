"""The shape of web/routes: a route module binds, calls the layer below and shapes the answer.
What two route modules share lives below them (web/*.py helpers, objects/, actors/), so a
route module imports no other route module."""

from __future__ import annotations

import ast
from pathlib import Path

ROUTES = Path(__file__).resolve().parents[1] / "web" / "routes"
# Modules that only gather other modules' route tables into one prefix, and the one import
# still to be moved down (the instance facts that NodeInfo and /api/v2/instance share).
GATHERERS = {"accounts.py", "oauth.py"}
STILL_TO_MOVE = {("wellknown.py", "web.routes.instance_api")}


def _route_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("web.routes."):
                found.add(node.module)
            elif node.module == "web.routes":
                found |= {f"web.routes.{a.name}" for a in node.names if a.name != "both"}
    return found


def test_no_route_module_imports_another() -> None:
    offenders = sorted(
        (path.name, module)
        for path in ROUTES.glob("*.py")
        if path.name not in GATHERERS and path.name != "__init__.py"
        for module in _route_imports(path)
        if (path.name, module) not in STILL_TO_MOVE
    )
    assert offenders == []


def test_the_check_sees_an_import_of_a_route_module(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from web.routes.mastodon_statuses import x\nfrom web.routes import both\n")
    assert _route_imports(module) == {"web.routes.mastodon_statuses"}
