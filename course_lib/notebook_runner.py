"""Run a notebook top to bottom, headless, the way the test suite and benchmarks do.

    >>> seconds = run_notebook("lessons/01_base_model_continues.ipynb")   # doctest: +SKIP
    >>> nb, seconds = execute_notebook("lessons/04_masked_vs_unmasked.ipynb")  # doctest: +SKIP

The notebook runs in its own folder with a fresh kernel; nothing is written back to it.
`execute_notebook` also returns the executed cells, so a test can read what a learner sees.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run_notebook(path: str | Path, timeout: int = 300, kernel: str = "python3") -> float:
    """Execute every cell; raise nbclient's CellExecutionError on the first failure."""
    return execute_notebook(path, timeout, kernel)[1]


def execute_notebook(path: str | Path, timeout: int = 300,
                     kernel: str = "python3") -> tuple[nbformat.NotebookNode, float]:
    """Execute every cell; return the executed notebook (outputs included) and the seconds."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # Headless: no hub, no GUI backend, quiet tokenizers.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start
