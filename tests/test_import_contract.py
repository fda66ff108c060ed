"""The import contract (docs/architecture.md), checked on the source with ``ast``; `make lint` runs it.

- no import cycles between the project's modules, lazy (function-level) imports included;
- product code never imports ops/ (benchmarks, load test) or experiments/, nor the CLI package;
- CLI modules (fda/cli/) import no private (``_name``) names;
- index/retrieval imports neither index/training nor index/questions; index/ingest imports no later stage.

Imports under ``if TYPE_CHECKING:`` are left out: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("fda", "index", "eval", "programs", "signatures", "optimizers", "api", "ui", "ops", "experiments")
NOT_PRODUCT = ("fda.cli", "ops", "experiments")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def imported(module: str, path: Path, known: set[str]) -> set[tuple[str, str]]:
    """(target module, imported name or '') for every project import in ``path``; relative imports resolved."""
    out: set[tuple[str, str]] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            out.update((a.name, "") for a in node.names if a.name.split(".")[0] in PACKAGES)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        if base.split(".")[0] not in PACKAGES:
            continue
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.add((sub, "") if sub in known else (base, alias.name))
    return {(target, name) for target, name in out if target in known}


def import_graph() -> tuple[dict[str, set[str]], dict[str, set[tuple[str, str]]]]:
    modules = project_modules()
    known = set(modules)
    detail = {m: imported(m, p, known) for m, p in modules.items()}
    return {m: {t for t, _ in edges if t != m} for m, edges in detail.items()}, detail


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def within(module: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(module == p or module.startswith(p + ".") for p in prefixes)


GRAPH, DETAIL = import_graph()


def test_the_graph_is_read() -> None:
    """The checker sees the imports it should (a broken parser would make every rule below pass)."""
    assert "index.retrieval.base" in GRAPH["index.retrieval.factory"]
    assert "fda.console" in GRAPH["fda.cli.app"]
    assert "eval.session" in GRAPH["fda.cli.eval"]  # a module imported by name: ``from eval import session``
    assert len(GRAPH) > 150


def test_no_import_cycles() -> None:
    assert cycles(GRAPH) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        pytest.param(
            lambda m: not within(m, NOT_PRODUCT),
            ("ops", "experiments", "fda.cli"),
            id="product code: no ops/experiments/cli",
        ),
        pytest.param(
            lambda m: within(m, "index.retrieval"),
            ("index.training", "index.questions"),
            id="retrieval: no training/questions",
        ),
        pytest.param(
            lambda m: within(m, "index.ingest"),
            ("index.retrieval", "index.training", "index.questions"),
            id="ingest: no later stage",
        ),
        pytest.param(
            lambda m: not within(m, ("fda.cli", "ops", "experiments")), ("ops",), id="nothing but cli imports ops"
        ),
    ],
)
def test_layer_rules(importer: object, forbidden: tuple[str, ...]) -> None:
    assert callable(importer)
    broken = sorted(
        f"{m} -> {t}" for m, targets in GRAPH.items() if importer(m) for t in targets if within(t, forbidden)
    )
    assert broken == []


def test_cli_modules_import_no_private_names() -> None:
    broken = sorted(
        f"{m}: {t}.{name}"
        for m, edges in DETAIL.items()
        if within(m, "fda.cli")
        for t, name in edges
        if name.startswith("_") and not name.startswith("__")
    )
    assert broken == []
