"""The notebook runner sets up a headless kernel, not its caller: HF_HUB_OFFLINE=1 and the
rest go to the kernel only (it set them in the caller's process, so a test or learner that
ran a notebook had the Hub switched off for everything after)."""

import os

import nbformat
import pytest

from course_lib.notebook_runner import execute_cells, execute_notebook

HEADLESS = ("HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "MPLBACKEND", "TOKENIZERS_PARALLELISM")

SHOW = "import os; print(*(os.environ.get(name) for name in {names!r}))"


@pytest.fixture
def notebook(tmp_path, monkeypatch):
    """A one-cell notebook that prints what the kernel sees; the caller sets none of these
    but TOKENIZERS_PARALLELISM, which the kernel must keep as the caller's."""
    for name in HEADLESS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "true")
    cell = nbformat.v4.new_code_cell(SHOW.format(names=HEADLESS))
    kernel = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": kernel}),
                   tmp_path / "env.ipynb")
    return tmp_path / "env.ipynb"


def kernel_saw(outputs: list) -> str:
    return "".join(o.get("text", "") for o in outputs).strip()


@pytest.mark.parametrize("run", ["execute_notebook", "execute_cells"])
def test_the_kernel_is_headless_and_the_caller_keeps_its_environment(notebook, run):
    before = dict(os.environ)
    if run == "execute_notebook":
        outputs = execute_notebook(notebook, timeout=60)[0].cells[0].outputs
    else:
        outputs = execute_cells(notebook, [0], timeout=60)[0]
    assert dict(os.environ) == before
    assert kernel_saw(outputs) == "1 1 Agg true"
