"""`course demo`: the whole story headless, base model to two fine-tunes to their answers,
into a fresh folder (course_lib/demo.py does the work)."""

from __future__ import annotations

import argparse
from pathlib import Path

from course_lib.cli.options import COUNT, add_run_options, eval_source
from course_lib.cli.outputs import fresh_dir, refuse_full_folder


def add_demo_options(p: argparse.ArgumentParser) -> None:
    add_run_options(p, eval_default="course:eval", data_default="course:train")
    p.add_argument("--steps", type=COUNT, default=100,
                   help="steps of each fine-tune (default: %(default)s)")
    p.add_argument("--prompts", type=COUNT, default=5,
                   help="held-out instructions to answer (default: %(default)s)")
    p.add_argument("--out", default=None, help="new folder (default: a fresh course-demo)")


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole story headless: base model, masked vs unmasked fine-tunes, plot, answers."""
    from course_lib.demo import run_demo

    if args.out is None:
        out = fresh_dir(Path("course-demo"))
    else:
        out = Path(args.out)
        refuse_full_folder(out, "Leave out --out to get a fresh folder.")
    run_demo(
        out,
        model=args.model,
        data=args.data,
        eval_data=eval_source(args.eval_data),
        steps=args.steps,
        seed=args.seed,
        n_prompts=args.prompts,
        progress=not args.quiet,
        num_threads=args.threads,
    )
    return 0
