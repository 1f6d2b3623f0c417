"""The `course` command: everything the lessons do, headless.

    course doctor                  what the course will run on
    course show-mask INSTR RESP    every token of one example and its label
    course make-exercises          exercises/ from solutions/ (never over a learner's edits)
    course grade [DIR]             grade every exercise in DIR (default: exercises/)
    course <command> --help        details of any command

Every learner-fixable problem is a CourseError and prints as one `error: ...` line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

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


def _use_color(choice: str) -> bool:
    """--color auto: colour on a terminal unless NO_COLOR is set (https://no-color.org)."""
    import os

    if choice == "always":
        return True
    if choice == "never":
        return False
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def cmd_show_mask(args: argparse.Namespace) -> int:
    """Print one example token by token with its labels (Axolotl's `preprocess --debug` style)."""
    from course_lib.collators import STRATEGIES
    from course_lib.diagnostics import audit_labels
    from course_lib.loading import EMBEDDED_MODEL_DIR, load_tokenizer
    from course_lib.mask_view import mask_view

    if args.model == "tiny" and not (EMBEDDED_MODEL_DIR / "config.json").exists():
        raise CourseError(
            f"the embedded model is not built yet ({EMBEDDED_MODEL_DIR} is missing); "
            f"pass --model PATH to a folder saved with save_pretrained."
        )
    tokenizer = load_tokenizer(args.model)
    record = {"instruction": args.instruction, "input": args.input, "response": args.response}
    from course_lib.collators import strategy_examples

    examples = strategy_examples([record], tokenizer, args.strategy, args.template,
                                 max_length=args.max_length)
    view = mask_view(examples, tokenizer, titles=[f"{STRATEGIES[args.strategy]} "
                                                  f"(template: {args.template})"])
    print(view.to_ansi(color=_use_color(args.color)))
    for warning in audit_labels(examples, tokenizer).warnings:
        print(f"warning: {warning}")
    return 0


def cmd_make_exercises(args: argparse.Namespace) -> int:
    """Generate exercises/ from solutions/; refuse to overwrite edited notebooks without --force."""
    from course_lib.grading.generate import write_exercises

    outcomes = write_exercises(Path(args.solutions), Path(args.out), force=args.force)
    width = max((len(o.name) for o in outcomes), default=0)
    for o in outcomes:
        print(f"{o.name:<{width}}  {o.action}")
    kept = [o.name for o in outcomes if o.action.startswith("kept")]
    if kept:
        raise CourseError(
            f"{', '.join(kept)} in {args.out} {'has' if len(kept) == 1 else 'have'} edits of "
            f"your own, so {'it was' if len(kept) == 1 else 'they were'} not overwritten; "
            f"run `course make-exercises --force` to replace (a .bak-<time> copy is kept)."
        )
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade every exercise in a folder; print a table and a score; exit 1 unless all pass."""
    from course_lib.grading.report import format_table, score_line, write_json
    from course_lib.grading.runner import grade_folder

    ids = args.exercise or None
    if ids:
        from course_lib.grading.registry import get_exercise

        for ex_id in ids:
            get_exercise(ex_id)  # an unknown id is a one-line error, before any work
    print(f"grading {args.folder} ({args.workers} at a time, {args.timeout:g} s each at most)...",
          file=sys.stderr)
    report = grade_folder(Path(args.folder), ids, workers=args.workers, timeout=args.timeout)
    print(format_table(report.results))
    print(score_line(report.passed, report.total, report.seconds))
    if args.json:
        write_json(report.to_dict(), Path(args.json))
        print(f"report written to {args.json}")
    return 0 if report.passed == report.total else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="The instruction-tuning course, headless."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("doctor", help="show versions, device, dtype, Hub status, embedded model")
    p.set_defaults(handler=cmd_doctor)

    p = sub.add_parser(
        "show-mask", help="print every token of one example with its label (-100 = masked)",
        description="Format one example, build its labels and print each token as "
                    "text(label, id): grey = masked (-100), green = trained.",
    )
    p.add_argument("instruction", metavar="INSTRUCTION")
    p.add_argument("response", metavar="RESPONSE")
    p.add_argument("--input", default="", help="optional input (three-part record)")
    p.add_argument("--template", choices=["seed", "alpaca"], default="seed")
    p.add_argument("--model", default="tiny", help="tiny (embedded), a folder, or a Hub id")
    p.add_argument("--strategy", choices=["none", "response", "template", "trl"],
                   default="response", help="how labels are built (default: response only)")
    p.add_argument("--max-length", type=int, default=None, help="truncate to this many tokens")
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="auto: on a terminal unless NO_COLOR is set")
    p.set_defaults(handler=cmd_show_mask)
    p = sub.add_parser("make-exercises", help="generate exercises/ from solutions/")
    p.add_argument("--solutions", default="solutions",
                   help="solution notebooks (default: %(default)s)")
    p.add_argument("--out", default="exercises", help="where exercises go (default: %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="also replace notebooks you edited (a .bak-<time> copy is kept)")
    p.set_defaults(handler=cmd_make_exercises)

    p = sub.add_parser("grade", help="grade the exercises of a folder of notebooks")
    p.add_argument("folder", nargs="?", default="exercises",
                   help="folder of exercise notebooks (default: %(default)s)")
    p.add_argument("--json", metavar="REPORT", help="also write the results as JSON to REPORT")
    p.add_argument("--exercise", "-e", action="append", metavar="ID",
                   help="grade only this exercise (repeatable), e.g. -e ex03_1")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds each exercise may run (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="exercises graded at once (default: 2)")
    p.set_defaults(handler=cmd_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
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
