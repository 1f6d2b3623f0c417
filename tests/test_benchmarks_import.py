"""Every benchmark still imports what it uses: most run only by hand, for minutes, and import
the course inside their functions (after choosing threads), so a renamed course function would
break one unnoticed until someone wants its numbers again."""

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

FOLDER = Path(__file__).parents[1] / "benchmarks"
BENCHMARKS = sorted(p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__")
OURS = ("course_lib", "benchmarks")


def own_imports(name: str) -> list[tuple[str, str]]:
    """(module, name) of every `from course_lib... import name` in the file, functions too."""
    tree = ast.parse((FOLDER / f"{name}.py").read_text(encoding="utf-8"))
    return [(node.module, alias.name) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(OURS)
            for alias in node.names]


def _has(module: str, attr: str) -> bool:
    """Whether `from module import attr` works: a name in it, or a submodule of a package."""
    found = importlib.import_module(module)
    return hasattr(found, attr) or (hasattr(found, "__path__") and importlib.util.find_spec(
        f"{module}.{attr}") is not None)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_benchmark_imports_what_it_uses_and_says_what_it_measures(name):
    module = importlib.import_module(f"benchmarks.{name}")
    assert (module.__doc__ or "").strip(), f"benchmarks/{name}.py has no docstring"
    missing = [f"{mod}.{attr}" for mod, attr in own_imports(name) if not _has(mod, attr)]
    assert not missing, f"benchmarks/{name}.py imports names that are gone: {missing}"
