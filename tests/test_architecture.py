"""The house rules, read from the code itself: imports run one way, and each outside engine or
framework is reached through one door."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "leapsld"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom) -> list[str]:
    """The leapsld modules an ``from … import …`` statement reaches (its names may be modules)."""
    if node.level:
        package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    found = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES]
    if base in MODULES and len(found) < len(node.names):
        found.append(base)
    return found


def imports(module: str) -> dict[str, list[int]]:
    """Every leapsld module ``module`` imports, at any level of its code, with the lines."""
    tree = ast.parse(MODULES[module].read_text())
    found: dict[str, list[int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            targets = _resolve(module, node)
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name in MODULES]
        else:
            continue
        for target in targets:
            if target != module:
                found.setdefault(target, []).append(node.lineno)
    return found


def _cycles() -> list[list[str]]:
    graph = {m: sorted(imports(m)) for m in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in graph[m]:
            if state.get(n) == 1:
                cycles.append([*stack[stack.index(n) :], n])
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m)
    return cycles


def test_the_walk_reads_relative_and_function_level_imports() -> None:
    assert "leapsld.store" in imports("leapsld.query")
    assert "leapsld.web.meta" in imports("leapsld.web")  # ``from . import meta, …``
    assert "leapsld.supervisor" in imports("leapsld.cli")  # imported inside the serve command


def test_imports_run_one_way() -> None:
    """No circle among leapsld's modules, counting imports inside functions too: an import
    moved into a function to dodge a circle is still a circle."""
    assert _cycles() == []


def _uses(module: str, dotted: str) -> bool:
    """Whether ``module`` mentions ``dotted`` (``pyoxigraph.Store``) as an attribute chain, or
    imports its last name from its package."""
    package, _, name = dotted.rpartition(".")
    for node in ast.walk(ast.parse(MODULES[module].read_text())):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == name
            and isinstance(node.value, ast.Name)
            and node.value.id == package
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == package
            and any(a.name == name for a in node.names)
        ):
            return True
    return False


def _importers(top: str) -> set[str]:
    found = set()
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            if any(n == top or n.startswith(top + ".") for n in names):
                found.add(module)
    return found


def test_only_the_store_module_opens_the_engine() -> None:
    """Everything reads through ``store.Store``: a killable executor or a remote engine then
    fits behind one door."""
    assert {m for m in MODULES if _uses(m, "pyoxigraph.Store")} == {"leapsld.store"}


@pytest.mark.parametrize(
    ("framework", "allowed"),
    [("flask", "leapsld.web"), ("werkzeug", "leapsld.web"), ("click", "leapsld.cli")],
)
def test_frameworks_stay_in_their_rooms(framework: str, allowed: str) -> None:
    outside = {m for m in _importers(framework) if m != allowed and not m.startswith(allowed + ".")}
    assert outside == set()
