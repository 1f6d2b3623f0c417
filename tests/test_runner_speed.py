"""benchmarks/runner_speed.py prints its `name: value` lines and nothing of the libraries'."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_benchmark_prints_only_its_name_value_lines():
    # Its smallest run: TRL logs every 10 steps, so 10 steps give it one point to compare.
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.runner_speed", "--steps", "10", "--repeats", "1",
         "--threads", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    # TRL's "Truncating train dataset" / "Dropping fully masked examples" bars were 8 lines
    assert "train dataset" not in done.stderr and "examples/s" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(re.fullmatch(r"[a-z0-9_]+: \S.*", line) for line in lines), lines
    assert "loss_curves_identical: true" in lines
