"""The package layout is the course's table of contents: stages in the story's order.

Read from the code itself (with `ast`): no import cycle, no import from a later stage, and
own-module imports at the top of the file unless a comment says why they are deferred. And
the suite's own set-up: `make test`'s workers keep each group of tests together.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "course_lib"

# The story's order. A module may import from its own stage and from earlier ones only.
STAGES = [
    ("set-up", ["errors", "files", "cgroups", "env", "loading", "display"]),
    ("formatting", ["formatting"]),
    ("world", ["world"]),
    ("masking", ["masking"]),
    ("training", ["training"]),
    ("evaluation", ["evaluation"]),
    ("experiments", ["experiments"]),
    ("grading", ["grading"]),
    ("tools", ["cli", "demo", "colab", "notebook_runner"]),
]
RANK = {top: rank for rank, (_, tops) in enumerate(STAGES) for top in tops}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def stage_of(module: str) -> int:
    """The rank of `course_lib.<top>...`; the package's own __init__ ranks last."""
    parts = module.split(".")
    return RANK[parts[1]] if len(parts) > 1 else len(STAGES)


def own_imports(path: Path, tree: ast.Module | None = None):
    """(module imported, line number, at top level?) for every import of course_lib."""
    tree = tree or ast.parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module.startswith("course_lib") and node.module.count(".") <= 1:
                # `from course_lib.grading import checks` imports a module, not a name
                names = [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith("course_lib"):
                yield name, node.lineno, id(node) in top_level


def resolve(name: str, modules: set[str]) -> str:
    """The longest prefix of `name` that is a module of the package."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def import_graph() -> dict[str, set[str]]:
    files = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in files}
    return {
        module_name(p): {resolve(n, modules) for n, _, _ in own_imports(p)} - {module_name(p)}
        for p in files
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None (depth-first search)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{mod} imports {dep}"
        for mod, deps in sorted(graph.items())
        for dep in sorted(deps)
        if dep != "course_lib" and stage_of(dep) > stage_of(mod)
    ]


def test_every_module_belongs_to_a_stage():
    tops = {module_name(p).split(".")[1] for p in PACKAGE.rglob("*.py")
            if module_name(p) != "course_lib"}
    assert tops <= set(RANK), f"modules outside the stages: {sorted(tops - set(RANK))}"


def test_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_stage_imports_a_later_stage():
    assert upward_imports(import_graph()) == []


# Modules whose functions import what they need, and why (their docstrings say so too):
# every module of the cli package (course_lib/cli/__init__.py says why).
DEFERRING = {module_name(path): "start-up time: `course --help` must not wait for torch"
             for path in (PACKAGE / "cli").glob("*.py")}


def test_own_imports_are_at_the_top_unless_a_comment_says_why():
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if module_name(path) in DEFERRING:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for name, lineno, top in own_imports(path):
            said = " ".join(lines[max(0, lineno - 4):lineno])  # the line or a few above it
            if not top and "deferred" not in said:
                hidden.append(f"{module_name(path)}:{lineno} imports {name}")
    assert hidden == [], "move these imports to the top, or say why with '# deferred: ...'"


def test_standard_library_imports_are_at_the_top_unless_a_comment_says_why():
    """Deferring `import json` saves no time worth a reader's surprise; where one is deferred
    anyway (the grader's checks, which must stay light), a comment says why."""
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom) or id(node) in top_level:
                continue
            name = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            said = " ".join(lines[max(0, node.lineno - 4):node.lineno])
            if name and name.split(".")[0] in sys.stdlib_module_names and "deferred" not in said:
                hidden.append(f"{module_name(path)}:{node.lineno} imports {name}")
    assert hidden == [], "move these imports to the top, or say why with '# deferred: ...'"


@pytest.mark.parametrize("edit, found", [
    ("from course_lib.training.runner import train\n", "upward"),
    ("from course_lib.masking.view import show_mask\n", "cycle"),
])
def test_the_checks_catch_a_deliberate_break(tmp_path, monkeypatch, edit, found):
    """Add an upward import to formatting/templates.py (in a copy): the checks must see it."""
    import shutil

    copy = tmp_path / "course_lib"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("assets", "__pycache__"))
    target = copy / ("formatting/templates.py" if found == "upward" else "masking/labels.py")
    target.write_text(edit + target.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", copy)
    graph = import_graph()
    if found == "upward":
        assert "course_lib.formatting.templates imports course_lib.training.runner" in (
            upward_imports(graph))
    else:
        assert find_cycle(graph) is not None


# A screen: what a reader takes in without scrolling. A longer function is split into named
# steps, as train() is (check_arguments, prepare_data, ..., collect).
SCREEN_LINES = 60


def long_functions(root: Path) -> list[str]:
    """Functions whose code, from the first statement after the docstring, is over a screen."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            body = node.body[1:] if ast.get_docstring(node) is not None and len(
                node.body) > 1 else node.body
            if (lines := node.end_lineno - body[0].lineno + 1) > SCREEN_LINES:
                found.append(f"{path.relative_to(root.parent)}: {node.name} ({lines} lines)")
    return found


def test_functions_fit_on_a_screen(tmp_path):
    """Every function's code (the library's and the benchmarks') fits on a screen; a long one
    made in a copy is seen."""
    long = long_functions(PACKAGE) + long_functions(PACKAGE.parent / "benchmarks")
    assert long == [], f"split these into named steps: {long}"
    statements = "".join(f"    x{i} = {i}\n" for i in range(SCREEN_LINES + 1))
    (tmp_path / "long.py").write_text(f'def f():\n    """Doc."""\n{statements}')
    assert long_functions(tmp_path) == [f"{tmp_path.name}/long.py: f ({SCREEN_LINES + 1} lines)"]


def test_test_files_have_unique_names():
    """pytest imports test files by their base name (no __init__.py): two alike collide."""
    names = [p.name for p in (PACKAGE.parent / "tests").rglob("test_*.py")]
    assert sorted({n for n in names if names.count(n) > 1}) == []


# --- The test suite's own set-up ----------------------------------------------------------
@pytest.mark.xdist_group("grouping-check")
def test_make_test_keeps_each_group_on_one_worker(request):
    """`make test` runs `pytest -n 2 --dist loadgroup`: the tests of an xdist_group share one
    worker, so JupyterLab and lesson 04's two runs are built once. pytest 9.2 broke that
    without a word (pytest-dev/pytest-xdist#1386): the group suffix vanished from the test ids,
    every worker built the fixtures again, and the suite took 30 min instead of 19."""
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("only under `pytest -n 2 --dist loadgroup` (make test)")
    assert request.node.nodeid.endswith("@grouping-check"), (
        f"xdist groups are ignored ({request.node.nodeid!r} has no @group suffix): install the "
        f"versions in constraints.txt (make setup)")
