"""`course ask`: a model's or a run's answers to questions, one per line, in the template the
run was trained with (lessons 01 and 04, headless)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from course_lib.cli.options import COUNT
from course_lib.errors import CourseError, shell_word
from course_lib.formatting.templates import DEFAULT_TEMPLATE, TEMPLATES
from course_lib.training.history import asked_template, history_of_run


def add_ask_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="tiny", help="preset (tiny), model folder or Hub id")
    p.add_argument("--template", choices=list(TEMPLATES), default=None,
                   help="default: the one the run in --model was trained with, else "
                        f"{DEFAULT_TEMPLATE.name}")
    p.add_argument("--json", action="store_true", help="JSON lines with instruction and response")
    p.add_argument("--max-new-tokens", type=COUNT, default=32)
    p.add_argument("instructions", nargs="+", metavar="INSTRUCTION",
                   help="the questions, each in quotes; - reads them from standard input, one "
                        "per line")


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer each instruction with the run's template; print the responses only."""
    from course_lib.evaluation.generation import GenerationSettings, generate_batch
    from course_lib.loading import load_model_and_tokenizer

    lines = None  # the lines of standard input, blank ones too, for `course ask -`
    if args.instructions == ["-"]:  # printf 'What is 2+2?\n' | course ask -
        lines, args.instructions = _stdin_questions()
    else:
        _refuse_paths_as_questions(args.instructions, args.model)
    empty = [i for i, text in enumerate(args.instructions, 1) if not text.strip()]
    if empty:  # the same rule as training data: an empty instruction asks nothing
        raise CourseError(f"instruction {empty[0]} of {len(args.instructions)} is empty; give "
                          f"the question in quotes, e.g. course ask \"What is 2+2?\".")
    model, tokenizer = load_model_and_tokenizer(args.model)
    tuned, why = asked_template(history_of_run(args.model))
    template = args.template or tuned
    if args.template and why.startswith("the run's") and args.template != tuned:
        # Allowed (it shows what a format the model never saw does), but said.
        why = f"--template; the run was tuned in {tuned}, so this is a format it never saw"
    elif args.template:
        why = "--template"
    print(f"template: {template} ({why})", file=sys.stderr)  # stdout: one answer per line
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens)
    answers = iter(generate_batch(model, tokenizer, args.instructions, template=template,
                                  settings=settings))
    # A blank input line gets an empty answer line: answer N stays on line N of the output.
    said_nothing = []
    for n, instruction in enumerate(args.instructions if lines is None else lines, 1):
        answer = next(answers) if instruction.strip() else ""
        if instruction.strip() and not answer.strip():
            said_nothing.append(str(n))
        if args.json:
            print(json.dumps({"instruction": instruction, "response": answer}, ensure_ascii=False))
        else:
            print(answer.replace("\n", " "))  # one answer per line, always
    if said_nothing:  # an empty line would look like a fault of `ask`, not the model's answer
        print(f"note: the model's answer to question {', '.join(said_nothing)} is empty; its "
              f"line is left blank.", file=sys.stderr)
    return 0


def _refuse_paths_as_questions(instructions: list[str], model: str) -> None:
    """A folder or file where a question goes is a slip (`course ask runs/mine`, `course ask
    questions.txt`): said, not answered as if 'runs/mine' were the question."""
    # os.path.exists, not Path.exists: a long question is no path, not an OSError.
    path = next((q for q in instructions if os.path.exists(os.path.expanduser(q))), None)
    if path is None:
        return
    if os.path.isdir(os.path.expanduser(path)):
        raise CourseError(f"'{path}' is a folder, not a question; to ask a run, give it as "
                          f"--model {shell_word(path)} \"YOUR QUESTION\".")
    raise CourseError(f"'{path}' is a file, not a question; to ask the questions in it, one per "
                      f"line: course ask --model {shell_word(model)} - < {shell_word(path)}.")


def _stdin_questions() -> tuple[list[str], list[str]]:
    """Standard input's lines, and the questions among them (the lines that are not blank)."""
    lines = sys.stdin.read().splitlines()
    questions = [line for line in lines if line.strip()]
    if not questions:
        raise CourseError("standard input held no question; give one per line, e.g. "
                          "printf 'What is 2+2?\\n' | course ask -.")
    # Said, since a blank line asks nothing: its answer line is left empty.
    blank = len(lines) - len(questions)
    if blank:
        print(f"note: {blank} blank line{'s' if blank > 1 else ''} of standard input "
              f"{'ask' if blank > 1 else 'asks'} nothing: {'each' if blank > 1 else 'it'} gets an "
              f"empty answer line, so answer N is on line N.", file=sys.stderr)
    return lines, questions
