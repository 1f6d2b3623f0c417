"""Optional reading: an experiment's runs trained side by side, in helper processes.

A run of the tiny model keeps one CPU core busy (more threads make it no faster:
env.choose_threads), so on a machine with two or more cores `run_experiment` starts helper
processes that work through the same list of runs. They share nothing but the cache folder.
A process claims a run with its file lock, and `cached_in_turn` (training/run_cache.py)
skips a run that another process holds, so no run trains twice and every process ends with
every result. Helpers print nothing: the main process says each run as it comes back,
theirs too ("done 6/9: one phrasing, seed 2 (helper)"; runner.say_done). A helper that
fails costs time, never results: the main process trains whatever the helper left, and
prints a line saying so.

    course experiment prompt-variability --workers 2   # the CLI; run_experiment(workers=2)
    COURSE_WORKERS=1 jupyter lab                       # the default for every experiment

The helpers run `python -m course_lib.experiments.helper SPEC`; SPEC is a JSON file that
names the runs (helper_spec below).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from course_lib.cgroups import WORKERS_VARIABLE, workers_from_env
from course_lib.env import SMALL_MODEL_PARAMS, choose_device, cpu_cores
from course_lib.errors import CourseError
from course_lib.experiments.design import Arm, Experiment
from course_lib.loading import load_config
from course_lib.training.memory import count_parameters, memory_budget

MAX_WORKERS = 4  # as env.LARGE_MODEL_THREADS: a shared laptop keeps cores for others
HELPER = "course_lib.experiments.helper"
# A process training the tiny model peaked at 0.57 GB (course train --steps 2), a lesson's
# kernel at 0.69 GB: counted as 0.7 GB each, and one more for Jupyter and the rest.
PROCESS_MEMORY = 0.7e9


@dataclass(frozen=True)
class WorkerChoice:
    """How many processes train an experiment's runs side by side, and a sentence saying why."""

    count: int
    reason: str


def choose_workers(model: str, asked: int | None = None,
                   threads: int | None = None) -> WorkerChoice:
    """As asked, else as COURSE_WORKERS says, else one process per core (at most 4) for a
    small model on a CPU, else one."""
    cores = cpu_cores()
    if asked:
        return WorkerChoice(asked, f"as asked, on a machine with {cores} cores")
    if from_env := workers_from_env("one per CPU core"):
        return WorkerChoice(from_env, f"{WORKERS_VARIABLE}={from_env}")
    device = choose_device().device
    if device != "cpu":
        return WorkerChoice(1, f"the {device} GPU trains one run at a time")
    if threads and threads > 1:
        return WorkerChoice(1, f"each run computes with {threads} threads already")
    try:  # the config alone: no weights are loaded to count them
        size = count_parameters(load_config(model)).total
    except (OSError, CourseError):  # a Hub id not downloaded yet: training will say what to do
        return WorkerChoice(1, "the model's size is not known before it is downloaded")
    if size >= SMALL_MODEL_PARAMS:
        return WorkerChoice(1, "a model this size computes each run with several threads")
    # A run of a model this small keeps one core busy (env.choose_threads gives it one thread).
    count = max(1, min(cores, MAX_WORKERS))
    memory, whose = memory_budget("cpu")
    # Each process holds about PROCESS_MEMORY: past a pod's limit the kernel kills one.
    if (fit := max(1, int(memory // PROCESS_MEMORY) - 1)) < count:
        return WorkerChoice(fit, f"as many as {whose} holds, about {PROCESS_MEMORY / 1e9:.1f} "
                                 f"GB each with the notebook's kernel")
    return WorkerChoice(count, f"one per core of {cores}, at most {MAX_WORKERS}")


def helper_spec(experiment: Experiment, arms: list[Arm], seeds: list[int], steps: int,
                model: str, cache_dir: str | Path, threads: int | None) -> dict[str, Any]:
    """What a helper needs to name the same runs: everything run_settings() reads."""
    return {"name": experiment.name, "eval_data": experiment.eval_data,
            "templates": list(experiment.templates), "arms": [asdict(a) for a in arms],
            "seeds": seeds, "steps": steps, "model": model,
            "cache_dir": str(Path(cache_dir).expanduser().resolve()), "threads": threads}


@contextmanager
def helpers(spec: dict[str, Any], count: int) -> Iterator[None]:
    """`count - 1` helper processes work through `spec`'s runs while the caller does too."""
    if count <= 1:
        yield
        return
    with tempfile.TemporaryDirectory(prefix="course-helpers-") as folder:
        path = Path(folder) / "spec.json"
        path.write_text(json.dumps(spec), encoding="utf-8")
        # Quiet: the caller says what runs, and a notebook would not show a helper's lines.
        procs = [subprocess.Popen([sys.executable, "-m", HELPER, str(path)],
                                  stdout=subprocess.DEVNULL) for _ in range(count - 1)]
        stopped = []
        try:
            yield
        finally:
            # The caller returns once every run is on disk, so a helper still running is
            # only reading results: stop it. On an error or an interrupt, stop them all.
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
                    stopped.append(proc)
            for proc in procs:
                proc.wait()
    failed = [p.returncode for p in procs if p not in stopped and p.returncode != 0]
    if failed:
        print(f"{len(failed)} of {count - 1} helper processes stopped early (exit code "
              f"{', '.join(map(str, failed))}); this process trained their runs instead",
              flush=True)
