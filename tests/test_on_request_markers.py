"""Tests that train for many minutes (marked recipe_steps) run only when `-m` names them.

tests/conftest.py deselects them otherwise, and says how many it left out and which command
runs them, also under pytest-xdist (`make test` runs with `-n 2`). Checked on a throwaway test
folder with the same conftest, so that nothing here trains.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py")
TESTS = '''
import pytest

def test_plain(): pass

@pytest.mark.slow
def test_slow(): pass

@pytest.mark.slow  # as in lesson 07's module, whose every test is slow
@pytest.mark.recipe_steps
def test_long_a(): pass

@pytest.mark.slow
@pytest.mark.recipe_steps
def test_long_b(): pass
'''
INI = "[pytest]\nmarkers =\n    slow: x\n    recipe_steps: y\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("markers")
    shutil.copy(CONFTEST, root / "conftest.py")
    (root / "test_marked.py").write_text(TESTS)
    (root / "pytest.ini").write_text(INI)
    return root


def pytest_run(folder: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                           *args], cwd=folder, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("args", [("-m", "slow"), ("-n", "2")], ids=["-m slow", "-n 2"])
def test_left_out_and_counted_unless_named(folder, args):
    out = pytest_run(folder, *args)
    assert "test_long" not in out
    assert "2 tests marked recipe_steps left out: `make claims-500` runs them" in out


@pytest.mark.slow
def test_one_left_out_is_said_in_the_singular(folder):
    # test_lesson_claims.py alone leaves out one (lesson 04's seeds 1 and 2).
    out = pytest_run(folder, "test_marked.py::test_plain", "test_marked.py::test_long_a")
    assert "1 test marked recipe_steps left out: `make claims-500` runs it" in out


@pytest.mark.slow
def test_run_when_named(folder):
    out = pytest_run(folder, "-m", "recipe_steps")
    assert "test_long_a PASSED" in out and "test_long_b PASSED" in out
    assert "test_plain" not in out and "left out" not in out
