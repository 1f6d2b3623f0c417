"""Run a notebook top to bottom, headless, the way the test suite and benchmarks do.

    >>> seconds = run_notebook("lessons/01_base_model_continues.ipynb")   # doctest: +SKIP
    >>> nb, seconds = execute_notebook("lessons/04_masked_vs_unmasked.ipynb")  # doctest: +SKIP
    >>> shown = execute_cells("lessons/05_sft_with_trl.ipynb", [0, 1, 1])  # doctest: +SKIP

The notebook runs in its own folder with a fresh kernel; nothing is written back to it.
`execute_notebook` also returns the executed cells, so a test can read what a learner sees;
`execute_cells` runs code cells in a learner's own order (a cell twice, Run All again).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

# What a headless kernel needs, unless the caller's environment says otherwise: no Hub, no
# usage ping, no GUI backend, quiet tokenizers. Given to the kernel only: the caller's own
# process keeps its environment (a test that runs a notebook still reaches the Hub after).
HEADLESS = {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "MPLBACKEND": "Agg",
            "TOKENIZERS_PARALLELISM": "false"}


def run_notebook(path: str | Path, timeout: int = 300, kernel: str = "python3") -> float:
    """Execute every cell; raise nbclient's CellExecutionError on the first failure."""
    return execute_notebook(path, timeout, kernel)[1]


def execute_notebook(path: str | Path, timeout: int = 300,
                     kernel: str = "python3") -> tuple[nbformat.NotebookNode, float]:
    """Execute every cell; return the executed notebook (outputs included) and the seconds."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = _client(nb, path.parent, timeout, kernel)
    start = time.perf_counter()
    client.execute(env=_kernel_env())
    return nb, time.perf_counter() - start


def execute_cells(path: str | Path, order: list[int], timeout: int = 300,
                  kernel: str = "python3", folder: str | Path | None = None,
                  allow_errors: bool = False) -> list[list]:
    """Run the notebook's code cells in `order` (indices among its code cells, repeats allowed)
    in one kernel, in `folder` (default: the notebook's); the outputs of each run, in order.
    Raises nbclient's CellExecutionError on the first failure, like `execute_notebook`, unless
    `allow_errors` (then an error is one more output: what a learner sees under the cell)."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    client = _client(nb, Path(folder) if folder else path.parent, timeout, kernel)
    client.allow_errors = allow_errors
    shown = []
    with client.setup_kernel(env=_kernel_env()):
        for k in order:  # each run starts from the cell's own source, with no old outputs
            cell = nb.cells[code[k]]
            cell.outputs = []
            client.execute_cell(cell, code[k])
            shown.append(list(cell.outputs))
    return shown


def _client(nb: nbformat.NotebookNode, folder: Path, timeout: int, kernel: str) -> NotebookClient:
    """A client that runs `nb` in `folder`; its kernel is started with _kernel_env()."""
    return NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                          resources={"metadata": {"path": str(folder)}})


def _kernel_env() -> dict[str, str]:
    """The kernel's environment: this process's, with HEADLESS's settings it does not set."""
    return {**HEADLESS, **os.environ}
