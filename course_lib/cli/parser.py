"""Reading the `course` command line: one parser per command (commands.py), and a mistyped
command, choice or option said in one `error:` line with the one most likely meant."""

from __future__ import annotations

import argparse
import difflib
import re
import shutil
import sys
import textwrap

import course_lib
from course_lib.cli.commands import COMMANDS, EXAMPLES
from course_lib.errors import shell_word


def _examples(name: str) -> str | None:
    """The examples of `course NAME --help`: each a comment line, then the command."""
    lines = [f"  # {what}\n  {command}" for what, command in EXAMPLES.get(name, ())]
    return "examples:\n" + "\n".join(lines) if lines else None


def _wrapped(description: str) -> str | None:
    """A description wrapped to the terminal, as argparse would: the raw formatter that keeps
    the examples one to a line keeps the description's lines as given too."""
    width = max(40, shutil.get_terminal_size().columns - 2)
    return textwrap.fill(description, width, break_on_hyphens=False,  # keeps --out whole
                         break_long_words=False) if description else None


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a mistyped command line is one `error:` line like every other error of
    the course (no usage block above it), saying where the options are listed."""

    def error(self, message: str):
        # A mistyped choice (a command, a --masking) gets the nearest one, as a mistyped flag
        # does: argparse lists the choices but does not say which was meant.
        choice = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
        near = _nearest(choice[1], re.findall(r"'([^']*)'", choice[2])) if choice else None
        if near:
            message = message.replace(choice[0], f"invalid choice: '{choice[1]}' (did you mean "
                                                  f"'{near}'?); choose from {choice[2]}")
        # One sentence, one full stop: a message of the course's own ends in one already.
        self.exit(2, f"error: {message.removesuffix('.')}; see `{self.prog} --help`.\n")


# What TrainingArguments and TRL's scripts call the course's flags: what practitioners type.
TRANSFORMERS_NAMES = {
    "--learning-rate": "--lr", "--max-steps": "--steps", "--output-dir": "--out",
    "--per-device-train-batch-size": "--batch-size", "--model-name-or-path": "--model",
    "--dataset-name": "--data", "--max-seq-length": "--max-length", "--use-peft": "--lora",
    "--resume-from-checkpoint": "--resume", "--use-cpu": "--cpu", "--eval-steps": "--eval-every",
    "--num-processes": "--processes"}


def _nearest(typed: str, options: list[str]) -> str | None:
    """The option `typed` means: transformers' name for it ('--learning_rate': --lr), else the
    one most like it (difflib's ratio, at least 0.7); None if none is near."""
    dashed = typed.replace("_", "-")
    if TRANSFORMERS_NAMES.get(dashed, dashed) in options:
        return TRANSFORMERS_NAMES.get(dashed, dashed)
    # 0.7: at difflib's 0.6, --model was "--help?" and --question "--json?".
    close = difflib.get_close_matches(typed, options, n=1, cutoff=0.7) if typed else []
    return close[0] if close else None


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="course", description="The instruction-tuning course, headless.")
    parser.add_argument("--version", action="version", version=f"course {course_lib.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, handler, add_options, help_line, description in COMMANDS:
        p = sub.add_parser(name, help=help_line, description=_wrapped(description),
                           epilog=_examples(name),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_options(p)
        p.set_defaults(handler=handler, parser=p)
    return parser


PATH_OPTIONS = {"out", "data", "eval_data", "model", "json"}  # options that name a file or folder


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, or one error line; an unknown option is named by its command's
    --help, with the option it most likely meant ('--stpes': did you mean --steps?)."""
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    # `course eval --model=runs/x` leaves MODEL_OR_RUN empty, and argparse would first call
    # it missing; said as `--model runs/x` is, since both mean the same.
    command = _command_parser(parser, argv)
    flagged = [w for w in argv if command and _flagged_argument(w, command)]
    if flagged:
        command.error(_unknown_said(command, argv, flagged))
    args, unknown = parser.parse_known_args(argv)
    args.argv = list(argv)  # to launch the same command again (launch_processes)
    if unknown:
        args.parser.error(_unknown_said(args.parser, argv, unknown))
    # An empty path is '.' to pathlib: "--out ''" was "'.' already exists and is not empty".
    for action in args.parser._actions:
        value = getattr(args, action.dest, None)
        if action.dest in PATH_OPTIONS and isinstance(value, str) and not value.strip():
            args.parser.error(f"{action.option_strings[0]} is empty; give a name or a path.")
    if hasattr(args, "check_arguments"):  # said at once, not after the model's imports
        args.check_arguments(args)
    return args


def _unknown_said(parser: argparse.ArgumentParser, argv: list[str], unknown: list[str]) -> str:
    """What an unknown option is: an argument given with a flag, or a typo of an option."""
    options = [o for action in parser._actions for o in action.option_strings]
    typed = next((u.split("=")[0] for u in unknown if u.startswith("-")), "")
    given = _positional_as_option(typed, parser)
    near = _nearest(typed, options)
    return f"unrecognized arguments: {' '.join(unknown)}" + (
        f"; {given} is given without a flag, e.g. {_without(argv, typed)}" if given
        else f" (did you mean {near}?)" if near else "")


def _command_parser(parser: argparse.ArgumentParser,
                    argv: list[str]) -> argparse.ArgumentParser | None:
    """The parser of the command argv names (its first word that is no option), if any."""
    commands = parser._subparsers._group_actions[0].choices
    return commands.get(next((word for word in argv if not word.startswith("-")), ""))


def _flagged_argument(word: str, parser: argparse.ArgumentParser) -> bool:
    """`--model=runs/x` where the command has no option --model (nor one it abbreviates)
    but an argument MODEL_OR_RUN."""
    typed = word.split("=")[0]
    options = [o for action in parser._actions for o in action.option_strings]
    return (word.startswith("--") and "=" in word and _positional_as_option(typed, parser)
            is not None and not any(o.startswith(typed) for o in options))


ARGUMENT_WORDS = {"INSTRUCTION": ("question", "prompt")}  # what else an argument is called


def _positional_as_option(typed: str, parser: argparse.ArgumentParser) -> str | None:
    """The argument an unknown option names, if it is one given without a flag (`course eval
    --model runs/x`: MODEL_OR_RUN), else None."""
    name = typed.lstrip("-").replace("-", "_").lower()
    for action in parser._actions:
        if action.option_strings or not isinstance(action.metavar, str):
            continue
        words = {*re.split(r"_or_|_", action.metavar.lower()),
                 *ARGUMENT_WORDS.get(action.metavar, ())}
        if name and (name in words or name.removesuffix("s") in words):
            return action.metavar
    return None


def _without(argv: list[str], typed: str) -> str:
    """The command as typed, less the option `typed` (its value stays, as the argument)."""
    words = [w.split("=", 1)[1] if w.startswith(typed + "=") else w for w in argv if w != typed]
    return "course " + " ".join(shell_word(w) for w in words)
