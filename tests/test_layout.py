"""The package's shape holds: no import cycles between dltool's modules, nor between its packages (they form
layers: cli on top, errors and bounds the ground), and the library modules the command line derives its
choices from stay light enough to import at its start."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import dltool

PACKAGE = Path(dltool.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, modules: set[str]) -> set[str]:
    """dltool modules this file imports, at the top or inside a function: `from a.b import c` names
    a.b, and a.b.c when c is a module."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in found if name in modules}


def import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    return {name: imported_modules(path, set(paths)) - {name} for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None; depth-first search."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(name: str) -> list[str] | None:
        state[name] = "open"
        stack.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[name] = "done"
        stack.pop()
        return None

    for name in sorted(graph):
        if name not in state and (cycle := visit(name)):
            return cycle
    return None


def package_of(module: str) -> str:
    """dltool.X.Y -> dltool.X; a top-level module (dltool/config.py) is its own unit, as is dltool itself."""
    return ".".join(module.split(".")[:2])


def package_graph(graph: dict[str, set[str]]) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]]]:
    """The packages each package imports (it does if any of its modules does), and for each such edge the
    modules that make it."""
    packages: dict[str, set[str]] = {package_of(name): set() for name in graph}
    makers: dict[tuple[str, str], set[str]] = {}
    for name, targets in graph.items():
        for target in targets:
            edge = (package_of(name), package_of(target))
            if edge[0] != edge[1]:
                packages[edge[0]].add(edge[1])
                makers.setdefault(edge, set()).add(name)
    return packages, makers


def describe_cycle(cycle: list[str], makers: dict[tuple[str, str], set[str]]) -> str:
    """`a -> b (a.x, a.y) -> a (b.z)`: each edge with the modules that make it."""
    edges = [f" -> {target} ({', '.join(sorted(makers[source, target]))})" for source, target in zip(cycle, cycle[1:])]
    return cycle[0] + "".join(edges)


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_package_has_no_import_cycle():
    graph = import_graph()
    assert "dltool.train.run" in graph and graph["dltool.cli"]  # the graph really holds the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_packages_are_grouped_and_their_cycle_found():
    graph = {
        "dltool.a.x": {"dltool.b.y"},
        "dltool.b.y": {"dltool.a.z"},
        "dltool.a.z": set(),
        "dltool.c": {"dltool.a.x"},
    }
    assert find_cycle(graph) is None  # no cycle between the modules...
    packages, makers = package_graph(graph)
    assert packages == {"dltool.a": {"dltool.b"}, "dltool.b": {"dltool.a"}, "dltool.c": {"dltool.a"}}
    cycle = find_cycle(packages)  # ...but one between their packages
    assert cycle == ["dltool.a", "dltool.b", "dltool.a"]
    assert describe_cycle(cycle, makers) == "dltool.a -> dltool.b (dltool.a.x) -> dltool.a (dltool.b.y)"
    assert package_of("dltool") == "dltool" and package_of("dltool.config") == "dltool.config"


def test_the_packages_have_no_import_cycle():
    packages, makers = package_graph(import_graph())
    assert {"dltool.cli", "dltool.train", "dltool.config"} <= set(packages) and packages["dltool.cli"]
    cycle = find_cycle(packages)
    assert cycle is None, "package import cycle: " + describe_cycle(cycle, makers)


def test_cli_is_the_top_and_errors_bounds_files_the_ground():
    packages, _ = package_graph(import_graph())
    assert {package for package, targets in packages.items() if "dltool.cli" in targets} == {"dltool.__main__"}
    assert packages["dltool.errors"] == packages["dltool.bounds"] == packages["dltool.files"] == set()


def test_the_command_line_lists_its_choices_without_loading_the_libraries():
    """Its choices come from the libraries' light modules (problems, protocols, sort keys), so starting it
    (`dltool --help`, every command) loads no config schema (pydantic, yaml), run store or torch."""
    heavy = ("pydantic", "yaml", "dltool.config", "dltool.store.run", "torch")
    code = f"import sys, dltool.cli; print(*(name for name in {heavy} if name in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == []


def kind_dispatches(source: str, kinds: set[str]) -> list[int]:
    """Lines where a kind is compared with a study kind's name written out (`study.kind == "sweep"`)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            names_kind = any(isinstance(side, ast.Attribute) and side.attr == "kind" for side in sides)
            literal = any(isinstance(side, ast.Constant) and side.value in kinds for side in sides)
            lines += [node.lineno] if names_kind and literal else []
    return lines


def test_no_module_asks_which_kind_a_study_is():
    """Each study kind's behaviour is in its registered class (dltool.study.kinds): nothing outside the
    registry branches on a kind's name, so a new kind adds files and one line, not a branch in each module."""
    from dltool.study.kinds import STUDY_KINDS

    kinds = set(STUDY_KINDS)
    assert kinds == {"compare", "sweep", "tune", "profile"}
    assert kind_dispatches("x = study.kind == 'sweep'", kinds) == [1] and not kind_dispatches("a.kind == 'b'", kinds)
    found = {path: kind_dispatches(path.read_text(encoding="utf-8"), kinds) for path in PACKAGE.rglob("*.py")}
    assert {str(path.relative_to(PACKAGE)): lines for path, lines in found.items() if lines} == {}
