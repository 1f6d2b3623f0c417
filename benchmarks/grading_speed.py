"""How much faster `course grade` is when exercises fork from an already-imported Python.

    python benchmarks/grading_speed.py [--folder solutions] [--workers 2] [--repeats 1]

Grades the folder (every exercise: solutions/ has 28, all run) both ways in this one run,
interleaved in each repeat, and prints `name: value` lines (timings on a shared CPU are noisy,
so only ratios measured side by side mean anything):

    fresh_python_seconds       a fresh Python per exercise (as on Windows), median
    fork_server_seconds        forked from zygotes started for this folder (their imports
                               included), median
    fork_server_warm_seconds   the same folder again through the same zygotes: each further
                               learner of a class (`course grade a/ b/ ...`), median
    speedup                    fresh_python_seconds / fork_server_seconds
    class_speedup              fresh_python_seconds / fork_server_warm_seconds
    load_average_1min          before the first and after the last grading (others' work too)

Every grading must pass every exercise, or the script stops: a fast wrong grader is no gain.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_lib.grading.runner import Graders, grade_folder  # noqa: E402


def timed(folder: Path, graders: Graders, workers: int) -> float:
    """Seconds to grade `folder` through `graders`; every exercise must pass."""
    start = time.perf_counter()
    report = grade_folder(folder, workers=workers, graders=graders)
    seconds = time.perf_counter() - start
    if report.passed != report.total:
        failed = [f"{r.exercise}: {r.message}" for r in report.results if not r.passed]
        sys.exit(f"{report.total - report.passed} exercise(s) failed: {failed[:3]}")
    return seconds


def one_round(folder: Path, workers: int) -> tuple[float, float, float]:
    """(fresh Python, fork server with its start, fork server warm) seconds for one round."""
    with Graders(fork=False) as fresh:
        fresh_seconds = timed(folder, fresh, workers)
    start = time.perf_counter()
    with Graders() as forked:
        timed(folder, forked, workers)
        cold_seconds = time.perf_counter() - start  # the zygotes' imports included
        warm_seconds = timed(folder, forked, workers)
        if forked.note():  # the fork server did not run: no comparison to make
            sys.exit(f"the fork server did not run: {forked.note()}")
    return fresh_seconds, cold_seconds, warm_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=ROOT / "solutions")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, workers: {args.workers}, folder: {args.folder}")
    print(f"load_average_1min_before: {os.getloadavg()[0]:.2f}")
    rounds = [one_round(args.folder, args.workers) for _ in range(args.repeats)]
    fresh, cold, warm = (statistics.median(column) for column in zip(*rounds, strict=True))
    print(f"load_average_1min_after: {os.getloadavg()[0]:.2f}")
    print(f"fresh_python_seconds: {fresh:.1f}")
    print(f"fork_server_seconds: {cold:.1f}")
    print(f"fork_server_warm_seconds: {warm:.1f}")
    print(f"speedup: {fresh / cold:.2f}")
    print(f"class_speedup: {fresh / warm:.2f}")


if __name__ == "__main__":
    main()
