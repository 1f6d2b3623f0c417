"""Every lesson runs headless on CPU; every notebook is committed clean.

(Solutions and exercises are executed in a kernel by tests/grading/test_feedback.py, which
also checks the verdicts that check() shows there.)
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.colab import colab_url, install_line
from course_lib.notebook_runner import run_notebook

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted(
    p for folder in ("lessons", "exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb")
)


def test_the_course_has_lessons():
    assert LESSONS, "no lesson notebooks found in lessons/"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_without_outputs_and_with_a_kernel(path):
    nbformat.validate(nbformat.read(path, as_version=4))
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"cells {dirty} have outputs: clear them before committing"
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_badge_and_install_line_agree_with_pyproject(path):
    text = path.read_text()
    badges = re.findall(r"https://colab\.research\.google\.com/github/[^)\s\"]+", text)
    assert badges == [colab_url(f"lessons/{path.name}")], (
        "the Open in Colab badge is missing or stale"
    )
    # Compare with the cells' text: in the file's JSON the install line's quotes are escaped.
    sources = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"])
    assert install_line() in sources, (
        "the Colab install line does not use pyproject's repository URL"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_runs_headless_on_cpu(path):
    run_notebook(path, timeout=300)
