"""Run an experiment: every arm for every training seed, cached on disk; medians and spreads.

    >>> result = run_experiment("prompt-variability", seeds=3, steps=40)  # doctest: +SKIP
    >>> print(result)   # one row per arm: median (lowest-highest) over the seeds   # doctest: +SKIP
    >>> result.to_figure()                                                # doctest: +SKIP

For each arm and seed, in four steps: fine-tune with `train()` (the arm's settings, the
default recipe for the rest), answer the experiment's questions with `evaluate()`, complete
the held-out facts in statement form, and save the scored answers as one JSON file. The
file's name is a hash of everything that decides the result: the arm's settings and the
recipe's defaults, the seed and steps, fingerprints of the model, the training data and the
questions, the course's version and its code, and the device. A re-run with the same
settings reads the file instead of training: a lesson runs again in seconds. Package versions
are not in the name (an upgrade must not retrain every lesson): runs read back that were trained
with another release of torch, transformers, trl or peft are said, in one line.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from course_lib.env import choose_device
from course_lib.errors import CourseError, is_whole, shown, with_advice
from course_lib.evaluation.base_model import statement_knowledge
from course_lib.evaluation.eval_data import EvalData, eval_rows
from course_lib.evaluation.report import evaluate, prompts_trained_on
from course_lib.experiments.catalogue import experiment_named
from course_lib.experiments.design import Arm, ArmRun, Experiment, Metric
from course_lib.experiments.result import ExperimentResult
from course_lib.experiments.side_by_side import choose_workers, helper_spec, helpers
from course_lib.formatting.templates import get_template
from course_lib.loading import load_model_and_tokenizer, quiet_loading, resolve_model_name
from course_lib.training.data import is_tokenized, load_data
from course_lib.training.run_cache import (
    Job,
    cache_path,
    cached,
    cached_in_turn,
    code_fingerprint,
    digest,
    entry_versions,
    file_stamp,
    model_fingerprint,
    other_versions,
    run_key,
)
from course_lib.training.runner import train
from course_lib.training.settings import check_count
from course_lib.world.tuning_data import split_facts

DEFAULT_CACHE = Path("runs") / "experiments"
# The train() keywords an arm may set; their defaults are the recipe an arm leaves alone.
RECIPE_KEYS = ("data", "masking", "max_steps", "learning_rate", "batch_size", "lora", "freeze",
               "template")
MAX_NEW_TOKENS = 16  # answers are a word or a short sentence; evaluate()'s default


def get_experiment(name: str | Experiment) -> Experiment:
    """An experiment of the catalogue by name (or one of your own, passed through)."""
    return name if isinstance(name, Experiment) else experiment_named(name)


def recipe_defaults() -> dict[str, Any]:
    """What `train()` does when an arm says nothing: the default recipe, read from train()."""
    params = inspect.signature(train).parameters
    return {key: params[key].default for key in RECIPE_KEYS}


def resolved(arm: Arm) -> dict[str, Any]:
    """The arm's complete training settings: the recipe, overridden by what the arm sets."""
    settings = recipe_defaults() | arm.train_settings()
    # None stays None: "what the recipe freezes" may depend on the model, and must never be
    # confused with an explicit () ("train every weight").
    if settings["freeze"] is not None:
        settings["freeze"] = tuple(settings["freeze"])
    return settings


def arms_to_run(experiment: Experiment) -> list[Arm]:
    """The experiment's arms, less an optional one that trains exactly like an earlier arm;
    any other arm that does would measure the same numbers as that arm, and is refused."""
    kept: list[Arm] = []
    for arm in experiment.arms:
        same = [k for k in kept if {**resolved(k), "max_steps": 0} ==
                {**resolved(arm), "max_steps": 0}]
        if same and not arm.optional:
            raise CourseError(f"Arm {arm.name!r} trains exactly like arm {same[0].name!r} "
                              f"(train() gets the same settings), so it can only measure the "
                              f"same numbers; change one setting of it (data, masking, freeze, "
                              f"lora or learning_rate), or make it Arm(..., optional=True) to "
                              f"leave it out.")
        if not same:
            kept.append(arm)
    return kept


def check_experiment(experiment: Experiment) -> None:
    """An experiment of your own, checked before anything trains: arms and metrics of the right
    kind, at least one of each, and one name each (results keep one arm per name and one metric
    per key: a second would be merged into the first, or dropped)."""
    for what, items, kind, example in (
            ("arms", experiment.arms, Arm, "Arm('baseline'), Arm('variant', masking='none')"),
            ("metrics", experiment.metrics, Metric, "EXACT_MATCH (from "
             "course_lib.experiments.design) or Metric(key, label, measure)"),
            ("templates", experiment.templates, str, "'one_line' or another template's name")):
        if not items:
            raise CourseError(f"Experiment {experiment.name!r} has no {what}; give "
                              f"{what}=({example}).")
        for i, item in enumerate(items):
            if not isinstance(item, kind):
                raise CourseError(f"Experiment {experiment.name!r}: {what}[{i}] is "
                                  f"{shown(item)}; write {example}.")
    for arm in experiment.arms:  # the cache and the check for repeated arms compare them
        if not is_arm_data(arm.data):
            raise CourseError(
                f"Experiment {experiment.name!r}: arm {arm.name!r} has data=a "
                f"{type(arm.data).__name__}; give a file, a course set such as 'course:train' "
                f"or records as a list of dicts (a DataFrame's: df.to_dict('records')).")
    for template in experiment.templates:  # an unknown one failed after the first training
        get_template(template)
    for what, names in (("arms are called", [arm.name for arm in experiment.arms]),
                        ("metrics are keyed", [m.key for m in experiment.metrics])):
        if twice := [name for i, name in enumerate(names) if name in names[:i]]:
            raise CourseError(f"Experiment {experiment.name!r}: two {what} {twice[0]!r}, and "
                              f"its results keep one per name; rename one.")


def is_arm_data(data: Any) -> bool:
    """None (the recipe's data), a file or course set, or records: what an arm's settings are
    compared and cached by (a DataFrame was pandas' "truth value ... is ambiguous")."""
    return data is None or isinstance(data, str | os.PathLike) or (
        isinstance(data, list | tuple) and all(isinstance(row, dict) for row in data))


def run_experiment(experiment: str | Experiment, *, seeds: int | Sequence[int] = 3,
                   steps: int | None = None, model: str = "tiny",
                   cache_dir: str | Path | None = DEFAULT_CACHE, threads: int | None = None,
                   workers: int | None = None, progress: bool = True) -> ExperimentResult:
    """Train and measure every arm for every seed (or read them from the cache).

    seeds:      how many training seeds (0, 1, ...), or the seeds themselves.
    steps:      optimizer steps per run (default: the recipe's, `train()`'s max_steps).
    cache_dir:  where finished runs are kept (None: keep nothing, always train).
    threads:    CPU threads per run (default: torch's setting).
    workers:    processes that train runs side by side, sharing cache_dir (default: one per
                CPU core for a small model on a CPU, else 1; side_by_side.py).
    """
    experiment = get_experiment(experiment)
    check_experiment(experiment)
    seed_list = seeds_of(seeds)
    steps = steps if steps is not None else recipe_defaults()["max_steps"]
    check_counts(steps, threads)
    if not isinstance(model, str | Path):  # runs are cached under the model's name
        raise CourseError(f"model must be a preset name such as 'tiny', a model folder or a "
                          f"Hub id (its runs are cached by name), not {type(model).__name__}.")
    resolve_model_name(model)  # a typo fails before anything is trained
    start = time.perf_counter()
    arms = arms_to_run(experiment)
    say_trained_on(experiment, arms)
    # One job per (arm, seed): a job is one training run and the unit the cache keeps.
    pairs = [(arm, seed) for arm in arms for seed in seed_list]
    jobs = [run_job(experiment, arm, seed, steps, model, cache_dir, threads, progress)
            for arm, seed in pairs]
    # "Read from the cache" means there before this call, not trained by a helper meanwhile.
    before = [path is not None and path.is_file() for path, _, _ in jobs]
    count = worker_count(experiment.name, before.count(False), model, cache_dir, threads,
                         workers, progress)
    # Helper processes read what to train from a spec; with one worker there are none.
    spec = helper_spec(experiment, arms, seed_list, steps, model, cache_dir,
                       threads) if count > 1 else {}
    names = [f"{arm.name}, seed {seed}" for arm, seed in pairs]
    with quiet_loading():  # no 'Loading weights' bar for each of dozens of model loads
        with helpers(spec, count):
            saved = cached_in_turn(jobs, say_done(experiment.name, names, before)
                                   if progress and count > 1 else None)
        # The untuned model's answers: the reference for what tuning keeps or forgets.
        base = base_statements(model, cache_dir)
    # Results regrouped by arm, each run marked as read from the cache or trained now.
    runs: dict[str, list[ArmRun]] = {arm.name: [] for arm in arms}
    for (arm, _), (run, _), hit in zip(pairs, saved, before, strict=True):
        runs[arm.name].append(ArmRun(**run, cached=hit))
    # Cached runs from other library releases are used, not retrained: say so, then the time.
    if progress:
        say_other_versions(experiment.name, [path for (path, _, _), hit in zip(
            jobs, before, strict=True) if hit], len(jobs), cache_dir)
        side = f" ({count} processes)" if count > 1 else ""
        seeds = f"{len(seed_list)} seed" + ("s" if len(seed_list) != 1 else "")
        print(f"{experiment.name}: {len(arms)} arms x {seeds} in "
              f"{time.perf_counter() - start:.0f} s{side}", file=sys.stdout, flush=True)
    return ExperimentResult(experiment, arms, seed_list, steps, model, runs, base)


def seeds_of(seeds: int | Sequence[int]) -> list[int]:
    """The seeds to train, checked in run_experiment's names: train() would have said "seed",
    seeds=2.0 was a TypeError, and seeds=[0, 0] trained once but counted twice in medians."""
    if is_whole(seeds):
        seed_list = list(range(seeds))
    elif isinstance(seeds, Sequence) and not isinstance(seeds, str):
        seed_list = list(seeds)
    else:
        raise with_advice(f"{{fix}} must be a whole number or a list of seeds, not "
                          f"{shown(seeds)}.", "seeds", "--seeds")
    if not seed_list:
        raise with_advice("An experiment needs at least one training seed; pass {fix}.",
                          "seeds=3", "--seeds 3")
    if wrong := [s for s in seed_list if not is_whole(s) or s < 0]:  # 0.0 and None too
        raise with_advice(f"{{fix}} must be whole numbers from 0, not {shown(wrong[0])}.",
                          "seeds", "--seeds")
    if len(set(seed_list)) < len(seed_list):
        again = next(s for s in seed_list if seed_list.count(s) > 1)
        raise with_advice(f"{{fix}} repeats seed {again}; give each seed once.",
                          f"seeds={seed_list}", "--seeds")
    return seed_list


def check_counts(steps: Any, threads: Any) -> None:
    """steps and threads in run_experiment's names (train() calls them max_steps and
    num_threads); steps=-1 would have trained by epochs."""
    if steps is None:  # a count is required here; None would train by epochs
        raise with_advice("{fix} must be a whole number, not None.", "steps", "--steps")
    check_count(steps, "steps", "--steps", 1)
    check_count(threads, "threads", "--threads", 1)  # None: chosen for the machine


def say_done(name: str, names: list[str], before: list[bool]) -> Callable[[int, Any], None]:
    """cached_in_turn's on_done: a line as each run of this call comes back, numbered and
    naming the process that trained it ('done 6/9: one phrasing, seed 2 (helper)'), since
    helper processes print nothing."""
    total, count = before.count(False), 0

    def say(i: int, result: tuple[dict[str, Any], bool]) -> None:
        nonlocal count
        if not before[i]:  # read now, absent before: a helper trained it meanwhile
            count += 1
            where = "helper" if result[1] else "this process"
            print(f"{name}: done {count}/{total}: {names[i]} ({where})", flush=True)
    return say


def say_other_versions(name: str, read: list[Path], total: int,
                       cache_dir: str | Path | None) -> None:
    """One line when runs read from the cache were trained with other releases of torch,
    transformers, trl or peft: they are used (an upgrade must not retrain a lesson's runs),
    but their numbers may not be what these versions give."""
    other = [found for path in read if (found := other_versions(entry_versions(path)))]
    if other:
        print(f"{name}: {len(other)} of {total} runs read from {cache_dir} were trained with "
              f"{'; '.join(sorted(set(other)))}; delete that folder to train them again with "
              f"these versions.", flush=True)


def say_trained_on(experiment: Experiment, arms: list[Arm]) -> None:
    """evaluate()'s note on questions that are prompts a run was trained on, for every arm whose
    data has some: records, a file or a course set. Once per arm, before training: said for runs
    read from the cache and trained by helper processes too, which evaluate() never saw (so
    train_and_measure's evaluate() does not say it again)."""
    questions = eval_rows(experiment.eval_data)  # read once for every arm
    for arm in arms:
        data = resolved(arm)["data"]  # None: the recipe's data
        if is_tokenized(data):
            continue  # labelled examples: no prompts to compare
        if note := trained_on_data(data, questions):
            print(f"note: {arm.name}: {note}", flush=True)


def trained_on_data(data: Any, questions: EvalData) -> str:
    """evaluate()'s note for an arm's data: '' when no question is one of its prompts, or when
    train() will refuse the data (in its own words). Read as report.trained_on reads a run's
    file: rows that cannot be used are left out (they never train), not refused."""
    try:
        records = load_data(data, skip_bad_rows=True)
    except CourseError:
        return ""
    return prompts_trained_on(records, questions, records.source)


def worker_count(name: str, missing: int, model: str, cache_dir: str | Path | None,
                 threads: int | None, workers: int | None, progress: bool) -> int:
    """How many processes train the `missing` runs: side_by_side.choose_workers, at most one
    per run, and one when there is no cache folder for them to share."""
    # Fewer than one process can train nothing: refuse it, naming the flag to fix.
    if workers is not None and workers < 1:
        raise with_advice(f"{{fix}} asks for {workers} processes; give 1 or more, or leave it "
                          f"out for one per CPU core.", f"workers={workers}",
                          f"--workers {workers}")
    # Processes hand their runs back through cache files; without a folder there is no way back.
    if cache_dir is None:
        if workers and workers > 1:
            raise CourseError("Processes side by side share their runs through the cache "
                              "folder: pass a cache_dir with workers > 1.")
        return 1
    # One run cannot be split: a second process would only pay its start-up cost.
    if missing < 2:
        return 1
    choice = choose_workers(model, workers, threads)
    # A process beyond the last run would start up, load the model and find nothing to do.
    count = min(choice.count, missing)
    if progress and count > 1:
        print(f"{name}: {missing} runs to train, {count} processes side by side "
              f"({choice.reason})", flush=True)
    return count


def run_job(experiment: Experiment, arm: Arm, seed: int, steps: int, model: str,
            cache_dir: str | Path | None, threads: int | None, progress: bool) -> Job:
    """One arm, one seed, as a job for the cache: its file, its settings, and how to compute
    it (train, measure, and say so) when no file has it yet."""
    settings = run_settings(experiment, arm, seed, steps, model)

    def compute() -> dict[str, Any]:
        if progress:
            print(f"{experiment.name}: training {arm.name}, seed {seed}", flush=True)
        try:
            return train_and_measure(experiment, arm, seed, steps, model, threads).to_dict()
        except CourseError as err:  # which of the experiment's arms it is about
            raise CourseError(f"Arm {arm.name!r}: {err}", cli=f"Arm {arm.name!r}: "
                              f"{err.cli}") from None

    return cache_path(cache_dir, settings), settings, compute


def train_and_measure(experiment: Experiment, arm: Arm, seed: int, steps: int, model: str,
                      threads: int | None) -> ArmRun:
    """Fine-tune with the arm's settings, then answer the questions and the statements."""
    tuned = train(model, **arm.train_settings(), eval_data=None, max_steps=steps, seed=seed,
                  progress=False, verbose=False, num_threads=threads, label=arm.name)
    start = time.perf_counter()
    # The model and its tokenizer, not the TrainResult: its history would have evaluate() say
    # the note on trained prompts again (say_trained_on said it up front, once per arm).
    report = evaluate({arm.name: (tuned.model, tuned.tokenizer)}, experiment.eval_data,
                      templates=experiment.templates, samples=0,
                      max_new_tokens=MAX_NEW_TOKENS, progress=False)
    statements = statement_answers(tuned.model, tuned.tokenizer)
    losses = tuned.history.train_loss
    return ArmRun(rows=report.rows[arm.name], statements=statements,
                  train_seconds=round(tuned.history.wall_time_s, 2),
                  eval_seconds=round(time.perf_counter() - start, 2),
                  final_loss=round(losses[-1], 4) if losses else None)


def statement_answers(model, tokenizer) -> list[bool]:
    """For each held-out fact: does the model complete its statement ("2 + 2 =") correctly?"""
    return [row["correct"] for row in statement_knowledge(model, tokenizer, split_facts()[1])]


def base_statements(model: str, cache_dir: str | Path | None) -> list[bool]:
    """The untuned model's statement answers (the reference for what tuning keeps), cached."""
    settings = {"base_model": model_fingerprint(model), "code": code_fingerprint(Path(__file__)),
                "device": choose_device().device, "statements": statements_fingerprint()}

    def compute() -> dict[str, Any]:
        loaded, tokenizer = load_model_and_tokenizer(model)
        return {"statements": statement_answers(loaded, tokenizer)}

    return cached(cache_path(cache_dir, settings), settings, compute)[0]["statements"]


# --- the cache key ---------------------------------------------------------------------------
def run_settings(experiment: Experiment, arm: Arm, seed: int, steps: int,
                 model: str) -> dict[str, Any]:
    """Everything that decides one run's numbers (what its cache file is named after): the
    training run's key (training/run_cache.py) and the questions it is measured on."""
    # As train_and_measure trains: no held-out set (else course:eval would be in the key).
    train_settings = resolved(arm) | {"max_steps": steps, "seed": seed, "eval_data": None}
    # The code that makes a run, and this file. Not the metrics, tables and texts: they are
    # computed from the cached answers each time, so changing them reruns nothing.
    return run_key(model, train_settings, Path(__file__)) | {
        "questions": questions_fingerprint(experiment.eval_data),
        "templates": list(experiment.templates),
        "max_new_tokens": MAX_NEW_TOKENS,
        "statements": statements_fingerprint(),
    }


def questions_fingerprint(source: str) -> str:
    """The questions as the course reads them, with their labels, hashed (read again when
    their file changed)."""
    return _questions_digest(source, file_stamp(source))


@cache
def _questions_digest(source: str, stamp: tuple) -> str:
    return digest(json.dumps(eval_rows(source).rows, sort_keys=True, ensure_ascii=False).encode())


def statements_fingerprint() -> str:
    """The held-out facts whose statements are completed (world/, not the course's code)."""
    return digest(repr(split_facts()[1]).encode())
