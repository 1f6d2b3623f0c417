"""The `course` command: everything the lessons do, headless.

    course doctor                  what the course will run on
    course show-mask INSTR RESP    every token of one example and its label
    course show-mask --data my.jsonl --row 3      the same for row 3 of a data file
    course train --masking response --steps 100 --out runs/masked
    course train --data my.jsonl --max-length 256 --steps 200 --out runs/mine
    course train --processes 2 --batch-size 8 --out runs/two    as 2 processes (torchrun)
    course ask --model runs/masked "What is 2+2?"
    course compare runs/masked runs/unmasked --out compare.png
    course eval tiny runs/masked runs/unmasked --json r.json   metrics table, JSON, figure
    course review runs/masked --out ratings.jsonl   rate answers 1-5 from the keyboard
    course experiment --list       common mistakes and good practices, as experiments
    course experiment prompt-variability --seeds 3   train, evaluate, median and spread
    course demo                    the whole story, headless, into a fresh folder
    course make-exercises          exercises/ from solutions/ (never over a learner's edits)
    course grade [DIR]             grade every exercise in DIR (default: exercises/)
    course build-base-model --out DIR   the embedded model, made again (build-tuning-data: data)
    course <command> --help        details of any command

Every learner-fixable problem is a CourseError and prints as one `error: ...` line.

Each command's options and handler are in the module named after it or its group (train.py;
evaluate.py: eval and review; grade.py: make-exercises and grade; build.py: both builds);
commands.py lists them, parser.py reads the command line, and main() here runs the handler.
options.py holds the options several commands share, outputs.py the files and folders they
write (never over a user's), and __main__.py is `python -m course_lib.cli` (torchrun's way in).
To add a command: a module with `add_NAME_options(parser)` and `cmd_NAME(args)`, a row in
commands.py's COMMANDS and its examples in EXAMPLES (tests/cli/test_cli_help.py asks for
them), the command in README.md's list, and its tests in tests/cli/.
Each handler imports what it needs when it runs ("deferred"): `course --help` and
`course grade` would otherwise wait seconds for torch and transformers to import.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator

from course_lib.cgroups import limit_threads_to_quota
from course_lib.cli.parser import parse
from course_lib.errors import CourseError, speak_to_the_command_line


def main(argv: list[str] | None = None) -> int:
    # Before torch loads: idle OpenMP threads sleep instead of spinning. On a shared 2-core
    # machine spinning threads fight other processes; we measured 7.3 s/step -> 1.6 s/step.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    limit_threads_to_quota()  # and no more threads than a container's CPU quota gives
    # Before huggingface_hub loads (it reads this once): no usage ping from TRL's trainer, which
    # `--masking trl` makes, unless the user set it (env.keep_usage_private, for notebooks).
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    args = parse(argv)
    if _slow_to_start(args):  # nothing else appears for 3-7 s
        print("importing PyTorch and transformers...", file=sys.stderr, flush=True)
    was_cli = speak_to_the_command_line()  # notes printed while it runs name flags, not Python
    stdout, sys.stdout = sys.stdout, QuietWhenClosed(sys.stdout)
    try:
        # Imports transformers (a second), so a Ctrl-C lands in this try too.
        with _quiet_libraries() if args.command != "doctor" else contextlib.nullcontext():
            code = args.handler(args) or 0
        sys.stdout.flush()
        return code
    except CourseError as err:
        print(f"error: {err.cli}", file=sys.stderr)  # advice spelled as flags (see errors.py)
        return 2
    except KeyboardInterrupt as err:  # Ctrl-C: what was kept and what to run next, one line
        print(_after_interrupt(args, err), file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout
        speak_to_the_command_line(was_cli)  # a notebook that ran `course` keeps its Python


@contextlib.contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Keep the terminal for the course's own output: no weight-loading bars or info logs;
    given back after, for a notebook that calls the CLI (lessons 07 and 08 do)."""
    from transformers.utils import logging as hf_logging

    bars, level = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


# The commands that load a model, whose first line of output waits for torch and transformers.
SLOW_TO_START = {"train", "ask", "eval", "review", "experiment", "demo", "show-mask",
                 "build-base-model"}


def _slow_to_start(args: argparse.Namespace) -> bool:
    """Said on a terminal only, as git says its progress: a pipe or a log gets the results."""
    return (args.command in SLOW_TO_START and sys.stderr.isatty()
            and not getattr(args, "quiet", False) and not getattr(args, "list", False))


def _after_interrupt(args: argparse.Namespace, err: KeyboardInterrupt) -> str:
    """What an interrupted command kept and what to run next, in one line (train() says its
    own: the checkpoint kept; its --resume is for `course train` only)."""
    if args.command == "train" and hasattr(err, "cli"):
        return err.cli
    out = getattr(args, "out", None)
    advice = {
        "train": f"if '{out}' holds a checkpoint now, run the same command with --resume to "
                 f"continue from it; else run it again.",
        "eval": "run the same command again (with --force if its --out now holds files).",
        "experiment": f"the runs that finished are kept in {out}; run the same command again "
                      f"to go on from them.",
        "demo": "run `course demo` again: without --out it starts in a fresh folder.",
        "review": f"your ratings so far are kept in {out}; run the same command again to go on.",
        "grade": _grade_interrupted(args),
        # Built aside (build.py's _built_aside): nothing of a build cut short is in --out.
        "build-tuning-data": f"nothing was written to '{out}'; run the same command again.",
        "build-base-model": f"nothing was written to '{out}'; run the same command again.",
    }
    return "interrupted: " + advice.get(args.command, "run the same command again.")


def _grade_interrupted(args: argparse.Namespace) -> str:
    """A class's grading stopped: its table and files hold the learners graded before."""
    if args.command != "grade" or (len(args.folders) == 1 and not args.csv):
        return "run the same command again."
    files = " and its files" if args.csv or args.json else ""
    force = " with --force" if files else ""
    return (f"the learners graded before the stop are in the table above{files}; run the same "
            f"command again{force} to grade them all.")


class QuietWhenClosed:
    """Standard output that goes quiet when its reader closes (`course eval ... | head`): the
    command still finishes and writes its files, with no BrokenPipeError traceback."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)
        except UnicodeEncodeError:  # Windows, redirected: cp1252 has no '↵'; spelled \u21b5
            encoding = self.stream.encoding
            return self.stream.write(text.encode(encoding, "backslashreplace").decode(encoding))

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def _to_devnull(self) -> None:  # what is still buffered, and all that follows, goes nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name: str):
        return getattr(self.stream, name)
