"""The layers: each package imports only the layers below it, no module imports itself
back through others, and no module or function grows past the size people can read.

Every import counts, also those inside functions (made lazily for speed): a lazy import is
still a dependency.  The layers, bottom up, are the packages of ``tracer``: core, then
notation and safety (side by side: neither imports the other), view, exporters, site, and
the command line on top.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tracer"
#: Each package's rank; a module may import its own package and lower ranks only.
RANK = {"core": 0, "notation": 1, "safety": 1, "view": 2, "exporters": 3, "site": 4,
        "cli": 5, "__main__": 6}
#: Third-party libraries each layer may use (the standard library is always allowed).
LIBRARIES = {"core": {"yaml", "networkx", "numpy"}, "notation": {"sympy"}, "safety": {"nh3"},
             "view": set(), "exporters": {"jinja2", "pygraphviz", "markdown", "pymdownx",
                                          "orjson"},
             "site": {"mkdocs", "yaml", "jinja2"}, "cli": set(), "__main__": set()}
THIRD_PARTY = {"yaml", "networkx", "sympy", "jinja2", "pygraphviz", "mkdocs", "markdown",
               "pymdownx", "numpy", "orjson", "nh3"}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports, anywhere in it, as absolute names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.add(target)
            # ``from . import x`` may name a module
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = modules()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "tracer"))
def test_imports_only_lower_layers(name):
    own = layer(name)
    wrong = []
    for target in sorted(imports(name, MODULES[name])):
        root = target.split(".")[0]
        if root == "tracer":
            if target not in MODULES:
                continue            # a name imported from a module, not a module
            other = layer(target)
            if other in ("__init__",) or other == own:
                continue
            if RANK.get(other, 99) >= RANK[own]:
                wrong.append(f"{target} ({other})")
        elif root in THIRD_PARTY and root not in LIBRARIES[own]:
            wrong.append(f"{target} (a library the {own} layer does not use)")
    assert not wrong, f"{name} ({own}) imports " + ", ".join(wrong)


def test_no_import_circle():
    graph = nx.DiGraph()
    for name, path in MODULES.items():
        graph.add_node(name)
        for target in imports(name, path):
            if target in MODULES and target != name and not name.startswith(target + "."):
                graph.add_edge(name, target)
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert not cycles, "import circles: " + "; ".join(" -> ".join(c) for c in cycles[:5])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_and_functions_stay_readable(name):
    path = MODULES[name]
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 500, f"{path.name} has more than 500 lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > 80]
    assert not long, f"{name}: functions over 80 lines: {', '.join(long)}"


def test_every_package_says_what_it_may_import():
    for name, path in MODULES.items():
        if path.name == "__init__.py" and name.count(".") == 1:
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            assert "import" in doc, f"{name}'s docstring does not say what it may import"
