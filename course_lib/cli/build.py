"""`course build-base-model` and `course build-tuning-data`: the embedded tiny model and data
sets, made again from nothing (course_lib/world)."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from course_lib.cli.options import SEED
from course_lib.cli.outputs import refuse_full_folder

# The build commands write fixed file names (train.jsonl, config.json, README.md...).
FORCE_BUILD = ("Choose another --out, or pass --force to replace its files (as when rebuilding "
               "the embedded ones in course_lib/assets).")
FORCE_HELP = "write into a folder that already holds files, replacing those of the same name"


def add_build_base_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder to save the model and tokenizer in")
    p.add_argument("--quick", action="store_true", help="tiny corpus, few steps (seconds)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def add_build_tuning_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder for train/eval/... .jsonl files")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def cmd_build_base_model(args: argparse.Namespace) -> int:
    """Pretrain the embedded base model from a generated corpus and save it to --out."""
    from course_lib.world.build import FULL_BUILD, QUICK_BUILD, build_base_model

    refuse_full_folder(Path(args.out), FORCE_BUILD, args.force)  # before minutes of work
    settings = QUICK_BUILD if args.quick else FULL_BUILD
    summary = _built_aside(Path(args.out), lambda folder: build_base_model(folder, settings))
    print(f"saved {summary['parameters']:,}-parameter model to {args.out} "
          f"({summary['size_mb']} MB) in {summary['wall_seconds']} s, "
          f"final loss {summary['final_loss']:.3f}")
    return 0


def cmd_build_tuning_data(args: argparse.Namespace) -> int:
    """Write the instruction-tuning JSONL files and their dataset card to --out."""
    from course_lib.world.tuning_data import write_tuning_data

    refuse_full_folder(Path(args.out), FORCE_BUILD, args.force)
    counts = _built_aside(Path(args.out), lambda folder: write_tuning_data(folder, seed=args.seed))
    print(", ".join(f"{name}: {n}" for name, n in counts.items()) + f" -> {args.out}")
    return 0


def _built_aside(out: Path, build: Callable[[Path], Any]) -> Any:
    """build(folder) into a hidden folder beside `out`, whose files then move into `out`: an
    interrupted build leaves no file cut short in `out` (a .jsonl cut mid-line, a model)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        result = build(staging)
        out.mkdir(exist_ok=True)
        for path in sorted(staging.iterdir()):
            path.replace(out / path.name)
        return result
    finally:
        shutil.rmtree(staging, ignore_errors=True)
