"""The `course` command: everything the lessons do, headless.

    course doctor                  what the course will run on
    course <command> --help        details of any command

Every learner-fixable problem is a CourseError and prints as one `error: ...` line.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from course_lib.errors import CourseError

Handler = Callable[[argparse.Namespace], int | None]


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print versions, the chosen device and dtype, Hub status and the embedded model's place."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from course_lib.env import choose_device, hub_status
    from course_lib.loading import EMBEDDED_MODEL_DIR

    def ver(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "not installed"

    choice = choose_device()
    model_state = "present" if (EMBEDDED_MODEL_DIR / "config.json").exists() else "MISSING"
    rows = [
        ("python", platform.python_version()),
        *((pkg, ver(pkg)) for pkg in ("torch", "transformers", "trl", "datasets", "peft")),
        ("device", choice.device),
        ("dtype", str(choice.dtype).removeprefix("torch.")),
        ("why", choice.reason),
        ("hub", hub_status()),
        ("embedded model", f"{EMBEDDED_MODEL_DIR} ({model_state})"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0


def cmd_build_base_model(args: argparse.Namespace) -> int:
    """Pretrain the embedded base model from a generated corpus and save it to --out."""
    from course_lib.world.build import FULL_BUILD, QUICK_BUILD, build_base_model

    settings = QUICK_BUILD if args.quick else FULL_BUILD
    summary = build_base_model(args.out, settings)
    print(f"saved {summary['parameters']:,}-parameter model to {args.out} "
          f"({summary['size_mb']} MB) in {summary['wall_seconds']} s, "
          f"final loss {summary['final_loss']}")
    return 0


def cmd_build_tuning_data(args: argparse.Namespace) -> int:
    """Write the instruction-tuning JSONL files and their dataset card to --out."""
    from course_lib.world.tuning_data import write_tuning_data

    counts = write_tuning_data(args.out, seed=args.seed)
    print(", ".join(f"{name}: {n}" for name, n in counts.items()) + f" -> {args.out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="The instruction-tuning course, headless."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("doctor", help="show versions, device, dtype, Hub status, embedded model")
    p.set_defaults(handler=cmd_doctor)

    p = sub.add_parser("build-base-model", help="pretrain the embedded tiny base model")
    p.add_argument("--out", required=True, help="folder to save the model and tokenizer in")
    p.add_argument("--quick", action="store_true", help="tiny corpus, few steps (seconds)")
    p.set_defaults(handler=cmd_build_base_model)

    p = sub.add_parser("build-tuning-data", help="write the embedded instruction data sets")
    p.add_argument("--out", required=True, help="folder for train/eval/... .jsonl files")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(handler=cmd_build_tuning_data)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Before torch loads: idle OpenMP threads sleep instead of spinning. On a shared 2-core
    # machine spinning threads fight other processes; we measured 7.3 s/step -> 1.6 s/step.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args) or 0
    except CourseError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
