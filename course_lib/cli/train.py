"""`course train`: fine-tune and save the run (lesson 04's runs, headless), as N processes
through torchrun with --processes N (lesson 08)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from course_lib.cli.options import (
    COUNT,
    above_zero,
    add_format_options,
    add_run_options,
    eval_source,
    whole,
)
from course_lib.errors import CourseError


def add_train_options(p: argparse.ArgumentParser) -> None:
    add_run_options(p, eval_default="auto")
    add_format_options(p)
    p.add_argument("--masking", choices=["response", "none"], default="response",
                   help="response: loss on the answer only (-100 on the prompt); none: on all")
    p.add_argument("--steps", type=COUNT, default=None,
                   help="optimizer steps (default: the recipe's, 500)")
    p.add_argument("--lr", type=above_zero, default=None,
                   help="learning rate (default suits the model)")
    p.add_argument("--batch-size", type=COUNT, default=None, help="default: the recipe's, 16")
    p.add_argument("--eval-every", type=whole(0), default=10,
                   help="steps between held-out evaluations (0: none)")
    p.add_argument("--eval-limit", type=whole(0), default=128, metavar="N",
                   help="held-out rows scored, and prompts held out of --data (default: "
                        "%(default)s; 0: every row)")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="leave out the rows of --data and --eval-data that cannot be used "
                        "(counted and named before training) instead of stopping")
    p.add_argument("--lora", action=argparse.BooleanOptionalAction, default=None,
                   help="train LoRA adapters (q_proj, v_proj); default: the preset's choice "
                        "(LoRA for qwen2.5-0.5b), else the recipe's partial fine-tune")
    p.add_argument("--freeze", nargs="+", default=None, metavar="NAME",
                   help="keep these parts as they are, as pieces of parameter names (e.g. "
                        "embed_tokens mlp); 'none' trains every weight (default without LoRA: "
                        "the recipe's: embed_tokens mlp v_proj o_proj)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run from its last checkpoint in --out (same "
                        "flags; a finished run is trained further with --model RUN)")
    p.add_argument("--out", required=True, help="new folder for the run (never overwritten)")
    p.add_argument("--processes", type=COUNT, default=1, metavar="N",
                   help="train as N processes through torchrun (one per GPU; on a CPU, gloo); "
                        "--batch-size is per process")
    p.add_argument("--cpu", action="store_true",
                   help="train on the CPU even where a GPU is (with --processes: N gloo "
                        "processes, on a machine with fewer GPUs than N)")


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune; save the model folder, history.json and loss.png into --out."""
    from course_lib.env import cpu_only

    with cpu_only(args.cpu):  # --cpu: here and in the processes torchrun starts
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    from course_lib.loading import resolve_model_name

    resolve_model_name(args.model)  # a typo fails at once, before the slow Trainer import
    from course_lib.training.data import check_sources

    # So does a --data or --eval-data that is not there (train() checks too, after the import).
    check_sources(args.data, eval_source(args.eval_data) if args.eval_every else None)
    if args.processes < 1:
        raise CourseError(f"--processes must be 1 or more, not {args.processes}.")
    if args.processes > 1 and "LOCAL_RANK" not in os.environ:  # not yet launched by torchrun
        return launch_processes(args)
    from course_lib.training.runner import train

    # Options left out keep train()'s defaults: the course's recipe (training/settings.py).
    recipe = {"data": args.data, "max_steps": args.steps, "batch_size": args.batch_size,
              "freeze": _freeze_choice(args.freeze)}
    result = train(
        args.model,
        eval_data=eval_source(args.eval_data),
        **{name: value for name, value in recipe.items() if value is not None},
        masking=args.masking,
        learning_rate=args.lr,
        seed=args.seed,
        lora=args.lora,
        eval_every=args.eval_every,
        eval_limit=args.eval_limit or None,  # 0: every row
        out_dir=args.out,
        resume=args.resume,
        progress=not args.quiet,
        verbose=True,
        num_threads=args.threads,
        template=args.template,
        max_length=args.max_length,
        skip_bad_rows=args.skip_bad_rows,
    )
    if result.out_dir is not None:  # the main process (the only one when N = 1) saves
        print(f"saved model, history.json and loss.png in {result.out_dir}; its chat template "
              f"is the {args.template} template, so transformers' pipeline asks it as it was "
              f"tuned")
    return 0


def _freeze_choice(names: list[str] | None) -> tuple[str, ...] | None:
    """--freeze NAME...: those parts; --freeze none: nothing; left out: None (the recipe)."""
    if names is None:
        return None
    return () if [n.lower() for n in names] == ["none"] else tuple(names)


def launch_processes(args: argparse.Namespace) -> int:
    """Run this same `course train` as --processes N processes through torchrun, then check
    that N really ran (history.json's world_size): one per GPU, or gloo processes on a CPU."""
    import torch

    from course_lib.training.history import RunHistory

    gpus = 0 if args.cpu else torch.cuda.device_count()
    if 0 < gpus < args.processes:  # torchrun would give process k the GPU cuda:k
        raise CourseError(f"--processes {args.processes} starts one process per GPU, but this "
                          f"machine has {gpus}; use --processes {gpus}, or add --cpu to train "
                          f"{args.processes} processes on the CPU.")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={args.processes}", "-m", "course_lib.cli", *args.argv]
    print("launching: " + " ".join(command[2:]), flush=True)
    # The processes' output, line by line, through this process: a notebook shows it too.
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True) as launched:
        for line in launched.stdout:
            print(line, end="", flush=True)
    if launched.returncode != 0:
        return launched.returncode
    ran = RunHistory.load(args.out).world_size
    if ran != args.processes:
        raise CourseError(f"--processes {args.processes} was asked for but {ran} trained "
                          f"together (history.json's world_size); check torchrun's output.")
    return 0
