"""The package's layout: one room (subpackage) per stage, imports flowing one way, no import circle.

Every module of src/aflm_graph is read with `ast` (nothing is imported); every import counts, at
module level, inside functions or under `if TYPE_CHECKING:`, relative or absolute.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "aflm_graph"
ROOT = "aflm_graph"

# The rooms, lowest first: a room imports only from rooms below it (and from itself).
# - `fsutil` (atomic writes, output-folder checks), `safetext` (escaped messages, CSV cells) and `orphans`
#   (workers that die with their parent) import nothing of ours and serve several rooms: they sit at the bottom.
# - `sparql` comes before `validate` (the sketch had them the other way round): the SPARQL checks
#   run on the query engine (engine.run_embedded, catalogue.check_safe), while no query needs validation.
# - `serve` comes after `views`: the rooms do not import each other today, and an IRI's HTML page
#   (design README: every IRI dereferences) is the views' business, rendered by the server.
# - `cli`, `_entry` and the package's `__init__` are on top: they orchestrate, nobody imports them.
ORDER = [
    "fsutil",
    "safetext",
    "orphans",
    "terms",
    "ingest",
    "enrich",
    "graph",
    "sparql",
    "validate",
    "views",
    "serve",
    "publish",
    "cli",
    "_entry",
    "__init__",
]
# `_help` (the pre-rendered `--help`) is data for `_entry` only; it imports nothing.
RANK = {name: rank for rank, name in enumerate(ORDER)} | {"_help": 0}
# What a module may take from the package's own __init__ (it has no run-time imports, so this is no circle).
FROM_ROOT = {"__version__"}
MAX_TOP_LEVEL = 12


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(absolute module imported, the names taken from it, line) for every import statement in the module."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append((module, [alias.name for alias in node.names], node.lineno))
    return out


def graph() -> dict[str, dict[str, int]]:
    """module -> {module of ours it imports: line}; `from pkg import mod` counts as importing pkg.mod."""
    mods = modules()
    edges: dict[str, dict[str, int]] = {m: {} for m in mods}
    for m, path in mods.items():
        for module, names, line in imports(m, path):
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in mods] or [module]
            for target in targets:
                # a package's own submodules, or a module's parent package (initialised first), are no circle
                if target in mods and target != m and not m.startswith(target + ".") and not target.startswith(
                        m + "."):
                    edges[m].setdefault(target, line)
    return edges


def room(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def circles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_walk_finds_the_package() -> None:
    mods = modules()
    assert len(mods) > 30, "the walk found too few modules: a layout test that reads nothing passes for nothing"
    assert any(imports(m, p) for m, p in mods.items())
    assert sum(len(e) for e in graph().values()) > 50


def test_no_import_circle() -> None:
    found = circles(graph())
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_circle_finder_finds_one() -> None:
    assert circles({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}) == [["a", "b", "c"]]


def test_every_module_is_in_a_declared_room() -> None:
    unknown = sorted({room(m) for m in modules()} - set(RANK))
    assert not unknown, f"modules outside the declared rooms: {unknown} (add them to ORDER in {Path(__file__).name})"


def test_rooms_import_only_from_rooms_below() -> None:
    mods = modules()
    wrong = []
    for m, targets in graph().items():
        for target, line in targets.items():
            if RANK[room(target)] > RANK[room(m)]:
                wrong.append(f"{mods[m].relative_to(PACKAGE.parent)}:{line}: {m} imports {target}")
    for m, path in mods.items():
        for module, names, line in imports(m, path):
            if module == ROOT and m != ROOT and set(names) - FROM_ROOT - {n for n in names if f"{ROOT}.{n}" in mods}:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {m} imports {names} from the package's top")
    assert not wrong, "imports against the flow:\n" + "\n".join(wrong)


@pytest.mark.parametrize("library", ["rdflib", "pyoxigraph", "oxrdflib", "pyshacl"])
def test_ingest_knows_nothing_of_rdf(library: str) -> None:
    mods = {m: p for m, p in modules().items() if room(m) == "ingest"}
    assert mods
    found = [f"{m}:{line}" for m, p in mods.items() for module, _, line in imports(m, p)
             if module == library or module.startswith(library + ".")]
    assert not found, f"ingest imports {library}: {found}"


def test_a_dozen_modules_at_the_top_at_most() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert top and len(top) <= MAX_TOP_LEVEL, top


def test_every_room_is_a_package_with_a_docstring() -> None:
    rooms = [p for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")) and any(p.glob("*.py"))]
    assert rooms
    for folder in rooms:
        init = folder / "__init__.py"
        assert init.is_file(), f"{folder.name}/ has no __init__.py"
        text = init.read_text(encoding="utf-8")
        assert ast.get_docstring(ast.parse(text)), f"{folder.name}/__init__.py: no docstring"


def test_every_module_says_what_it_is_for() -> None:
    missing = [m for m, p in modules().items() if not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not missing, f"modules without a docstring: {missing}"
