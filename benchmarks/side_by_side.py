"""An experiment's runs in helper processes side by side, against one process: time, same numbers.

    python -m benchmarks.side_by_side [--experiment prompt-variability] [--seeds 3]
                                      [--steps 40] [--workers 2] [--repeats 1]

Each repeat runs the experiment twice from an empty cache folder, in a rotating order: once
with `workers=1` (every run in this process, one after another: the reference) and once with
`--workers` processes (course_lib/experiments/side_by_side.py). The default, 40 steps, is
lesson 07's setting; `--steps 500` is what `course experiment NAME` trains. Prints `name: value`
lines: the median wall time of each, their ratio, and whether every run's answers and
statement completions are identical (1) or not (0).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

from course_lib.experiments.runner import run_experiment


def timed(experiment: str, seeds: int, steps: int, workers: int):
    with tempfile.TemporaryDirectory(prefix="side-by-side-") as cache:
        start = time.perf_counter()
        result = run_experiment(experiment, seeds=seeds, steps=steps, cache_dir=cache,
                                workers=workers, progress=False)
        return time.perf_counter() - start, result


def answers(result) -> list:
    return [(r.rows, r.statements) for runs in result.runs.values() for r in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiment", default="prompt-variability")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    print(f"cores: {len(os.sched_getaffinity(0))}, load average {os.getloadavg()[0]:.1f}; "
          f"{args.experiment}, {args.seeds} seeds, {args.steps} steps", flush=True)
    seconds: dict[int, list[float]] = {1: [], args.workers: []}
    same = True
    for repeat in range(args.repeats):
        order = [1, args.workers] if repeat % 2 == 0 else [args.workers, 1]
        results = {}
        for workers in order:
            took, results[workers] = timed(args.experiment, args.seeds, args.steps, workers)
            seconds[workers].append(took)
            print(f"repeat {repeat}, {workers} process(es): {took:.1f} s", flush=True)
        same = same and answers(results[1]) == answers(results[args.workers])
    one, side = (statistics.median(seconds[w]) for w in (1, args.workers))
    print(f"seconds_one_process: {one:.1f}")
    print(f"seconds_{args.workers}_processes: {side:.1f}")
    print(f"speedup_{args.workers}_processes_vs_one: {one / side:.2f}")
    print(f"same_results: {int(same)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
