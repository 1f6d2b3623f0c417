"""`course experiment`: a common mistake or good practice measured over seeds, its runs cached
(lesson 07, headless)."""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from pathlib import Path

from course_lib.cli.options import COUNT
from course_lib.cli.outputs import refuse_existing_file, refuse_file_in_the_way, wrote
from course_lib.errors import CourseError
from course_lib.files import written_whole


def add_experiment_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", metavar="NAME", help="an experiment (see --list)")
    p.add_argument("--list", action="store_true",
                   help="list the experiments, each with its hypothesis")
    p.add_argument("--seeds", type=COUNT, default=3, help="training seeds per arm (default: 3)")
    p.add_argument("--steps", type=COUNT, default=None,
                   help="optimizer steps per run (default: the default recipe's)")
    p.add_argument("--model", default="tiny", help="preset (tiny), model folder or Hub id")
    p.add_argument("--out", default="runs/experiments",
                   help="folder for finished runs (the cache) and NAME.png "
                        "(default: %(default)s)")
    p.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    p.add_argument("--force", action="store_true", help="replace --json if it exists")
    p.add_argument("--threads", type=COUNT, default=None, help="CPU threads per training run")
    p.add_argument("--workers", type=COUNT, default=None,
                   help="processes that train runs side by side, sharing --out (default: "
                        "$COURSE_WORKERS, else one per CPU core, at most 4, for a small model "
                        "on a CPU; else 1)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")


def cmd_experiment(args: argparse.Namespace) -> int:
    """Run one experiment (every arm, every seed, cached); print the table; write the figure."""

    from course_lib.experiments.catalogue import EXPERIMENTS, experiment_named

    if args.list:
        one = experiment_named(args.name) if args.name else None  # `--list balance`: that one
        named = {k: e for k, e in EXPERIMENTS.items() if one is None or e is one}
        _list_experiments({name: e.hypothesis for name, e in named.items()})
        return 0
    if args.name is None:
        raise CourseError("Name an experiment, e.g. `course experiment prompt-variability`; "
                          "`course experiment --list` shows them all.")
    name = experiment_named(args.name).name  # 'Balance' is balance; a typo fails here
    json_path = Path(args.json) if args.json else None
    if json_path is not None:
        refuse_existing_file(json_path, args.force, "--json")
    out = Path(args.out)
    refuse_file_in_the_way(out)  # checked before minutes of training, not after
    if out.exists() and not out.is_dir():
        raise CourseError(f"--out {out} is a file; give a folder: the experiment keeps its runs "
                          f"and figure there.")
    from course_lib.loading import resolve_model_name

    resolve_model_name(args.model)  # a typo fails at once, before the slow imports
    from course_lib.experiments.runner import run_experiment

    result = run_experiment(name, seeds=args.seeds, steps=args.steps, model=args.model,
                            cache_dir=out, threads=args.threads, workers=args.workers,
                            progress=not args.quiet)
    figure = out / f"{name}.png"
    replaced = figure.exists()
    with written_whole(figure) as part:  # saved first: `| head` may close stdout early
        result.to_figure().savefig(part, dpi=100)
    print(result.table())
    if replaced:  # only drawn from runs: the old settings draw it again from the cache
        print(f"{figure} is replaced; to draw an earlier one again, rerun with its --seeds and "
              f"--steps (its runs load from {out}).")
    return wrote([figure], json_path, result.to_dict())


def _list_experiments(hypotheses: dict[str, str]) -> None:
    """Each experiment and its hypothesis: one line each into a pipe (for grep and cut); on a
    terminal, wrapped under the hypothesis column, as a terminal's own wrap would break it."""
    width = max(map(len, hypotheses))
    columns = _terminal_columns()
    for name, hypothesis in hypotheses.items():
        line = f"{name:<{width}}  {hypothesis}"
        if columns:  # at least 40 characters of hypothesis a line, however narrow
            line = textwrap.fill(line, max(columns - 1, width + 42), break_on_hyphens=False,
                                 subsequent_indent=" " * (width + 2))
        print(line)


def _terminal_columns() -> int | None:
    """The terminal's width when standard output is one, else None (a pipe or a file)."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None
