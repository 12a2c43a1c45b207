"""House rules on the shape of the code: rooms small, no import circles.

* no module in ``lib_scene/``, ``scene_import_a1111/`` (recursively) or ``scripts/`` over
  :data:`MAX_MODULE_LINES` lines;
* no function or method there (nested ones included) over :data:`MAX_FUNCTION_LINES` lines, from its
  ``def`` line to its last line;
* no import circle among the modules of ``lib_scene`` and ``scene_import_a1111``, counting imports
  at module level and inside functions (a circle closed by a late import is still a circle); only
  imports under ``if TYPE_CHECKING:`` are left out, as they never run.

The checks read the source with ``ast``; nothing is imported. Each failure names the file and line.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("lib_scene", "scene_import_a1111")
CHECKED_DIRS = (*PACKAGES, "scripts")
MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 100


# --------------------------------------------------------------------------- reading the tree


def python_files(root: Path, dirs: tuple[str, ...] = CHECKED_DIRS) -> list[Path]:
    """Every ``.py`` file under ``dirs`` of ``root``, recursively, sorted."""
    out: list[Path] = []
    for d in dirs:
        base = root / d
        if base.is_dir():
            out.extend(p for p in base.rglob("*.py") if "__pycache__" not in p.parts)
    return sorted(out)


def module_name(root: Path, path: Path) -> str:
    """Dotted module name of ``path`` (``pkg/__init__.py`` -> ``pkg``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def long_modules(root: Path, limit: int = MAX_MODULE_LINES) -> list[str]:
    out = []
    for path in python_files(root):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(root)}: {n} lines (limit {limit})")
    return out


def long_functions(root: Path, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    out = []
    for path in python_files(root):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = (node.end_lineno or node.lineno) - node.lineno + 1
                if n > limit:
                    out.append(
                        f"{path.relative_to(root)}:{node.lineno} {node.name}: {n} lines (limit {limit})"
                    )
    return out


# --------------------------------------------------------------------------- the import graph


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute module an ``ImportFrom`` names (``from ..x import y`` in ``a.b.c`` -> ``a.x``)."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def import_graph(root: Path, packages: tuple[str, ...] = PACKAGES) -> dict[str, dict[str, int]]:
    """``{module: {imported module: line}}`` over our own packages' modules.

    ``from pkg import name`` counts as an import of ``pkg.name`` when that is a module of ours, else
    of ``pkg``; ``import pkg.mod`` of ``pkg.mod``. Implicit imports of parent packages are not edges.
    """
    files = {module_name(root, p): p for p in python_files(root, packages)}
    graph: dict[str, dict[str, int]] = {m: {} for m in files}
    for mod, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _imports(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = _resolve(node, mod, is_package)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for t in targets:
                if t in files and t != mod:
                    graph[mod].setdefault(t, node.lineno)
    return graph


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (``[a, b, ..., a]``) per strongly connected component that has one (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0

    def connect(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return [_cycle_in(graph, set(comp)) for comp in components]


def _cycle_in(graph: dict[str, dict[str, int]], comp: set[str]) -> list[str]:
    """A shortest cycle through the component's first module (breadth-first)."""
    start = min(comp)
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v]):
                if w not in comp:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [*reversed(path), start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    raise AssertionError(f"no cycle in component {sorted(comp)}")  # pragma: no cover


def describe_cycle(graph: dict[str, dict[str, int]], cycle: list[str]) -> str:
    return " -> ".join(
        f"{a} (line {graph[a][b]})" if i < len(cycle) - 1 else a
        for i, (a, b) in enumerate(zip(cycle, [*cycle[1:], cycle[0]], strict=True))
    )


# --------------------------------------------------------------------------- the rules on this tree


def test_no_module_over_700_lines():
    too_long = long_modules(ROOT)
    assert not too_long, "modules over the limit:\n" + "\n".join(too_long)


def test_no_function_over_100_lines():
    too_long = long_functions(ROOT)
    assert not too_long, "functions over the limit:\n" + "\n".join(too_long)


def test_no_import_circle():
    graph = import_graph(ROOT)
    assert "lib_scene.plan" in graph and "scene_import_a1111" in graph  # the graph sees our packages
    cycles = import_cycles(graph)
    assert not cycles, "import circles:\n" + "\n".join(describe_cycle(graph, c) for c in cycles)


# --------------------------------------------------------------------------- the checks catch what they name


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_checks_see_long_modules_and_functions_in_subpackages(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(100))  # def line + 100 = 101 lines
    _write(
        tmp_path, "scene_import_a1111/tab/handlers.py", f"def fine():\n    return 1\n\n\ndef big():\n{body}"
    )
    _write(tmp_path, "lib_scene/big.py", "x = 1\n" * 701)
    _write(tmp_path, "lib_scene/ok.py", "x = 1\n" * 700)
    indented = "".join("    " + line for line in body.splitlines(keepends=True))
    _write(tmp_path, "scripts/entry.py", f"class A:\n    def method(self):\n{indented}")
    assert long_modules(tmp_path) == ["lib_scene/big.py: 701 lines (limit 700)"]
    assert long_functions(tmp_path) == [
        "scene_import_a1111/tab/handlers.py:5 big: 101 lines (limit 100)",
        "scripts/entry.py:2 method: 101 lines (limit 100)",
    ]


@pytest.mark.parametrize(
    ("a_text", "found"),
    [
        ("from . import b\n", True),  # module level, relative
        ("import lib_scene.b\n", True),  # module level, absolute
        ("def f():\n    from .b import thing\n    return thing\n", True),  # late import: still a circle
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import thing\n", False),
        ("import os\n", False),
    ],
)
def test_import_circles_are_found(tmp_path, a_text, found):
    _write(tmp_path, "lib_scene/__init__.py", "")
    _write(tmp_path, "lib_scene/a.py", a_text)
    _write(tmp_path, "lib_scene/b.py", "from .c import y\n")
    _write(tmp_path, "lib_scene/c.py", "def g():\n    from lib_scene.a import x\n    return x\n")
    graph = import_graph(tmp_path)
    cycles = import_cycles(graph)
    if found:
        assert cycles == [["lib_scene.a", "lib_scene.b", "lib_scene.c", "lib_scene.a"]]
        assert describe_cycle(graph, cycles[0]).startswith("lib_scene.a (line ")
    else:
        assert cycles == []


def test_import_circle_across_packages_and_subpackages(tmp_path):
    _write(tmp_path, "lib_scene/__init__.py", "")
    _write(tmp_path, "lib_scene/core.py", "def f():\n    import scene_import_a1111.tab.rooms\n")
    _write(tmp_path, "scene_import_a1111/__init__.py", "")
    _write(tmp_path, "scene_import_a1111/tab/__init__.py", "from .rooms import build\n")
    _write(tmp_path, "scene_import_a1111/tab/rooms.py", "from lib_scene import core\n")
    assert import_cycles(import_graph(tmp_path)) == [
        ["lib_scene.core", "scene_import_a1111.tab.rooms", "lib_scene.core"]
    ]


def test_module_names(tmp_path):
    assert (
        module_name(tmp_path, tmp_path / "scene_import_a1111" / "tab" / "__init__.py")
        == "scene_import_a1111.tab"
    )
    assert module_name(tmp_path, tmp_path / "lib_scene" / "plan.py") == "lib_scene.plan"
