"""The project's import graph, read from the source, so the layers stay the way the README draws
them: no module imports itself back through others (a circle makes the import order matter and
the layers meaningless); the mocks' shared core and shared crypto import none of the services;
UTKO and FTS import nothing of ESIA (they accept its tokens through the core's
``access_tokens``, and check signatures with the shared ``crypto``); the reference client signs
independently of the mocks it tests, sharing only the loading of the OpenSSL gost engine; the
packages stand on floors (:data:`FLOORS`), the mocks on the ground and the load runs at the top,
and none imports one above it: the servers nothing of the stand that runs them or the traffic
sent to them, the stand's runtime nothing of the runs and reports built on it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

#: Every package of the distribution; each lives in a folder of its own (pyproject's package-dir).
PACKAGES = ("gosstand.mocks", "gosstand.scenarios", "gosstand.conformance", "gosstand.loadtests",
            "gosstand.reports", "gosstand.stand")


def _folders() -> dict[str, Path]:
    return {package: Path(importlib.import_module(package).__file__ or "").parent for package in PACKAGES}


def _module_name(package: str, folder: Path, path: Path) -> str:
    parts = path.relative_to(folder).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((package, *parts))


def _imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project's modules ``path`` imports, at any depth of its code (function-level imports too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {target for target in targets if target in modules}
    return found - {name}


def import_graph(folders: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module → the project's modules it imports, for every module of :data:`PACKAGES`."""
    paths = {_module_name(package, folder, path): path
             for package, folder in (folders or _folders()).items() for path in sorted(folder.rglob("*.py"))}
    return {name: _imports(name, path, set(paths)) for name, path in paths.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def reaching(graph: dict[str, set[str]], importers: tuple[str, ...], imported: tuple[str, ...]) -> dict[str, list[str]]:
    """Each module under one of the ``importers`` prefixes that imports a module under one of the
    ``imported`` prefixes, with what it imports there."""
    def under(module: str, prefixes: tuple[str, ...]) -> bool:
        return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)

    leaks = {module: sorted(target for target in targets if under(target, imported))
             for module, targets in graph.items() if under(module, importers)}
    return {module: targets for module, targets in leaks.items() if targets}


SERVICES = ("gosstand.mocks.esia", "gosstand.mocks.fts", "gosstand.mocks.utko")


def test_no_module_of_the_project_imports_itself_back():
    assert circles(import_graph()) == []


def test_the_core_and_the_shared_crypto_import_no_service():
    assert reaching(import_graph(), ("gosstand.mocks.core", "gosstand.mocks.crypto"), SERVICES) == {}


def test_the_shared_crypto_imports_nothing_else_of_the_mocks():
    graph = import_graph()
    outside = {module: [target for target in targets if not target.startswith("gosstand.mocks.crypto")]
               for module, targets in reaching(graph, ("gosstand.mocks.crypto",), ("gosstand.mocks",)).items()}
    assert {module: targets for module, targets in outside.items() if targets} == {}


def test_utko_and_fts_import_nothing_of_esia():
    importers = ("gosstand.mocks.fts", "gosstand.mocks.utko", "gosstand.mocks.accounts")  # their accounts too
    assert reaching(import_graph(), importers, ("gosstand.mocks.esia",)) == {}


def test_the_traffic_takes_nothing_of_the_mocks_but_the_gost_engine_loader():
    """The reference client's signatures test the mocks' checks: if it signed with the mocks' own
    code, a mistake there would be made on both sides and pass."""
    taken = reaching(import_graph(), ("gosstand.scenarios",), ("gosstand.mocks",))
    assert {target for targets in taken.values() for target in targets} <= {"gosstand.mocks.crypto.engine"}, taken


#: The floors of the house, ground first: a package may import its own floor and those below.
#: The mocks are the ground (the stand runs them, the traffic is sent to them, the seeders get
#: their people handed in); the stand's runtime sits under the runs and reports built on it.
FLOORS = ("gosstand.mocks", "gosstand.scenarios", "gosstand.stand", "gosstand.reports", "gosstand.conformance",
          "gosstand.loadtests")


def imports_running_up(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """Each module that imports a module of a higher floor, with what it imports there."""
    def floor(module: str) -> int | None:
        return next((i for i, package in enumerate(FLOORS)
                     if module == package or module.startswith(package + ".")), None)

    found: dict[str, list[str]] = {}
    for module, targets in graph.items():
        own = floor(module)
        up = sorted(t for t in targets if own is not None and (f := floor(t)) is not None and f > own)
        if up:
            found[module] = up
    return found


def test_no_package_imports_one_on_a_higher_floor():
    assert imports_running_up(import_graph()) == {}


def test_a_circle_is_found_where_there_is_one():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_import_running_up_is_found_where_there_is_one():
    graph = {"gosstand.mocks.fts.bulk": {"gosstand.scenarios.identities", "gosstand.mocks.core.store"},
             "gosstand.stand.seed": {"gosstand.mocks.fts.bulk"}}
    assert imports_running_up(graph) == {"gosstand.mocks.fts.bulk": ["gosstand.scenarios.identities"]}


def test_a_leak_is_found_where_there_is_one():
    graph = {"p.fts.x": {"p.esia.y", "p.core.z"}, "p.fts": set(), "p.esia.y": set(), "p.core.z": set()}
    assert reaching(graph, ("p.fts",), ("p.esia",)) == {"p.fts.x": ["p.esia.y"]}
