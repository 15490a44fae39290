"""The dependency rules of docs/contracts.md, checked on the source: one HTTP chokepoint, one engine door."""

from __future__ import annotations

import ast
from pathlib import Path

import handlers

HANDLERS = Path(handlers.__file__).parent


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules_importing(root: str) -> set[str]:
    return {
        str(path.relative_to(HANDLERS)) for path in HANDLERS.rglob("*.py") if root in imported_roots(path)
    }


def test_only_the_http_chokepoint_and_the_transport_import_httpx2() -> None:
    assert modules_importing("httpx2") == {"_http.py", "_transport.py"}


def test_no_handlers_module_imports_the_engine_statically() -> None:
    # _embedded.py reaches engine.server lazily (importlib) so the client works without it
    assert modules_importing("engine") == set()


def test_only_the_embedded_module_reaches_into_the_engine_at_run_time() -> None:
    reaching = {
        str(path.relative_to(HANDLERS))
        for path in HANDLERS.rglob("*.py")
        if any(
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("engine.")
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        )
    }
    assert reaching == {"_embedded.py"}
