"""Time every lesson run headless on this machine, as the test suite runs them.

    python benchmarks/lessons_time.py [--repeats 3]

Prints `lesson_NN_seconds: X` (median of the repeats) for each lesson and
`lessons_total_seconds: X`. Goals: each lesson under 120 s on 2 CPU cores, lesson 01 under
20 s. Not a timed test: a busy machine is slower, so compare numbers from one run.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from course_lib.notebook_runner import run_notebook

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per lesson (median printed)")
    args = parser.parse_args()
    total = 0.0
    for path in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")):
        seconds = statistics.median(run_notebook(path) for _ in range(args.repeats))
        total += seconds
        print(f"lesson_{path.name[:2]}_seconds: {seconds:.1f}", flush=True)
    print(f"lessons_total_seconds: {total:.1f}")


if __name__ == "__main__":
    main()
