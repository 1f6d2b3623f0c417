"""`course CMD --help` says what the command does and how to run it: a description before the
options, and examples after them that the course's own parser reads as written."""

import shlex

from test_advice import Text, command_lines

from course_lib.cli.commands import COMMANDS
from course_lib.cli.parser import build_parser


def subcommands() -> dict:
    """Each `course` command's own parser, as `course CMD --help` prints it."""
    return build_parser()._subparsers._group_actions[0].choices


def test_every_command_says_what_it_does_before_its_options():
    assert len(subcommands()) == len(COMMANDS) > 10
    silent = [name for name, p in subcommands().items() if not (p.description or "").strip()]
    assert not silent, f"give these commands a description in cli/commands.py: {silent}"
    for name, p in subcommands().items():  # printed, above the options
        shown = p.format_help()
        assert shown.index(p.description.splitlines()[0]) < shown.index("options:"), name


def test_every_example_in_a_command_s_help_parses(capsys):
    wrong = []
    for name, p in subcommands().items():
        epilog = p.epilog or ""
        examples = [f"course {cmd}{rest}".strip() for cmd, rest in
                    command_lines(Text(epilog, f"course {name} --help"))]
        listed = [line.strip() for line in epilog.splitlines()[1:]
                  if not line.strip().startswith("#")]
        if not examples:
            wrong.append(f"course {name} --help gives no example: add one to EXAMPLES "
                         "(cli/commands.py)")
        elif examples != listed:  # a line the extractor did not see whole is not checked
            wrong.append(f"course {name} --help: examples {listed}, read as {examples}")
        for example in examples:
            words = shlex.split(example)[1:]
            if words[0] != name:
                wrong.append(f"course {name} --help gives an example of another command: "
                             f"{example}")
            try:
                build_parser().parse_args(words)
            except SystemExit:
                wrong.append(f"course {name} --help: {example}: {capsys.readouterr().err.strip()}")
    assert not wrong, "\n".join(wrong)


def test_course_grade_help_warns_a_teacher_and_says_which_exercises_run_longer():
    """A teacher reads `course grade --help` before grading a class: it said nothing of the
    learners' code running unsandboxed, nor that --timeout does not cut one that trains."""
    shown = " ".join(subcommands()["grade"].format_help().split())
    assert "with your permissions, not in a sandbox" in shown
    assert "one that trains a model has a longer limit of its own" in shown
