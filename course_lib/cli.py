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
    course <command> --help        details of any command

Every learner-fixable problem is a CourseError and prints as one `error: ...` line.

Each handler imports what it needs when it runs ("deferred"): `course --help` and
`course grade` would otherwise wait seconds for torch and transformers to import.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import course_lib
from course_lib.cgroups import limit_threads_to_quota
from course_lib.errors import CourseError, shell_word, speak_to_the_command_line
from course_lib.files import written_whole
from course_lib.formatting.templates import DEFAULT_TEMPLATE, TEMPLATES
from course_lib.masking import MASKINGS
from course_lib.training.history import asked_template, history_of_run

Handler = Callable[[argparse.Namespace], int | None]


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print versions, the chosen device and dtype, Hub status and the embedded model's place."""
    width = len("embedded model")  # the longest name
    for key, value in _doctor_rows():  # each as soon as known: a silent terminal looks stuck
        print(f"{key:<{width}}  {value}", flush=True)
    return 0


def _doctor_rows() -> Iterator[tuple[str, str]]:
    """`course doctor`'s rows, slowest last: torch's import takes a second or two, and the Hub
    up to 3 s without a connection."""
    yield "course", course_lib.__version__  # which course a teacher handed out
    yield "python", platform.python_version()
    from course_lib.env import choose_device, cpus_line, hub_status, measured_versions, memory_line
    from course_lib.loading import EMBEDDED_MODEL_DIR

    pins = measured_versions()
    for pkg in ("torch", "transformers", "trl", "datasets", "peft"):
        try:
            found = version(pkg)
        except PackageNotFoundError:
            found = "not installed"
        # Another release moves float rounding: a lesson's quoted number may move by a point.
        if pkg in pins and found.split("+")[0] != pins[pkg]:
            found = f"{found} (the lessons' numbers were measured with {pins[pkg]})"
        yield pkg, found
    choice = choose_device()
    yield "device", choice.device
    yield "dtype", str(choice.dtype).removeprefix("torch.")
    yield "why", choice.reason
    yield "cpus", cpus_line()  # a container's quota and limit, not the host's
    yield "memory", memory_line()
    yield "hub", _hub_line(hub_status())
    model_state = "present" if (EMBEDDED_MODEL_DIR / "config.json").exists() else "MISSING"
    yield "embedded model", f"{EMBEDDED_MODEL_DIR} ({model_state})"


def _hub_line(status: str) -> str:
    """The Hub's status and what it means for the course: it needs the Hub for nothing."""
    if status == "reachable":
        return "reachable (Hub ids such as HuggingFaceTB/SmolLM2-135M can be downloaded)"
    why = "HF_HUB_OFFLINE=1 is set" if status == "offline mode" else "no connection"
    return (f"{status} ({why}): the embedded model and data work; a Hub id loads only if it is "
            f"in the local cache")


def _use_color(choice: str) -> bool:
    """--color auto: colour on a terminal unless NO_COLOR is set (https://no-color.org)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def cmd_show_mask(args: argparse.Namespace) -> int:
    """Print one example token by token with its labels (Axolotl's `preprocess --debug` style),
    cut where `course train` cuts it, with the notes train's data report gives that row."""
    from course_lib.loading import load_tokenizer
    from course_lib.masking.strategies import label_examples
    from course_lib.masking.view import mask_view

    one, where = _show_mask_record(args)
    tokenizer = load_tokenizer(args.model)  # a missing embedded model is a one-line error
    length = _train_length(args)
    limit = length[0]
    # Uncut first, so the note can say how long the row was; then cut as train cuts it, so the
    # view shows only the labels training sees (label_examples cuts the same way).
    whole = label_examples(one.records, tokenizer, args.masking, args.template)
    examples = [{key: ids[:limit] for key, ids in e.items()} for e in whole]
    title = f"{where}: " if where else ""
    # A {"text"} row keeps the template it is written in, whatever --template says.
    own = one.records[0].get("template")
    template = f"{own}, the one the row is written in" if own else args.template
    view = mask_view(examples, tokenizer, titles=[f"{title}{MASKINGS[args.masking]} "
                                                  f"(template: {template})"])
    print(view.to_ansi(color=_use_color(args.color)))
    notes, skipped = _train_notes(args, one, tokenizer, length, len(whole[0]["input_ids"]))
    for note in notes:
        print(f"note: {note}")
    for warning in _label_warnings(examples, tokenizer, one.where[0], said=skipped):
        print(f"warning: {warning}")
    return 0


def _train_length(args: argparse.Namespace) -> tuple[int, int | None]:
    """The length `course train` cuts examples to, by train's own rule (--max-length, else the
    model's context, at most 1024), and the model's context: only its config is read."""
    from course_lib.loading import load_config
    from course_lib.training.runner import length_limit

    config = load_config(args.model)
    limit, _ = length_limit(config, args.max_length)
    return limit, getattr(config, "max_position_embeddings", None)


def _train_notes(args: argparse.Namespace, one, tokenizer, length: tuple[int, int | None],
                 tokens: int) -> tuple[list[str], bool]:
    """What `course train`'s data report says about this row, and whether train skips it: the
    same checks (cut, empty response, template markers, a system message), in flags."""
    from course_lib.training.data import prepare_training_data

    # Train takes response or none; the other maskings are shown against train's default.
    masking = args.masking if args.masking in ("response", "none") else "response"
    limit, context = length
    ready = prepare_training_data(one, tokenizer, masking, limit, args.template, progress=False)
    notes = []
    if ready.skipped or ready.truncated:  # one line, in the user's terms, for the cut
        notes.append(f"{one.where[0]}: {tokens:,} tokens, cut to {limit} "
                     f"({_why_cut(args.max_length, limit, context)}, as course train does): "
                     + ("no token left to train, so course train skips this row"
                        if ready.skipped else "its end and EOS are cut off, so it never "
                        "teaches the model to stop")
                     + f"; {replace(ready, context=context).raise_or('--max-length')}shorten it.")
    # The rest of train's report (its first line counts rows; the cut is said above).
    rest = replace(ready, skipped=[], truncated=[]).report().splitlines()[1:]
    return notes + rest, bool(ready.skipped)


def _why_cut(asked: int | None, limit: int, context: int | None) -> str:
    """Why train cuts at `limit`, in flags: '--max-length', or the model's context."""
    if asked == limit:
        return "--max-length"
    if limit == context:
        return "the model's context" + (f"; --max-length {asked} is past it" if asked else "")
    return "course train's default of 1024"


def _label_warnings(examples: list[dict], tokenizer, name: str, said: bool) -> list[str]:
    """audit_labels' warnings on the shown row, named as the user numbers it, not 'Example 0';
    none for a row with nothing trained when the note above said train skips it."""
    from course_lib.masking.audit import audit_labels

    audit = audit_labels(examples, tokenizer, names=[name])
    return [] if audit.fully_masked and said else audit.warnings


def _show_mask_arguments(args: argparse.Namespace) -> None:
    """An example on the command line, or a row of a file: one of them, and a question."""
    if args.data is not None and args.instruction is not None:
        args.parser.error("give either INSTRUCTION RESPONSE or --data FILE [--row N], not both")
    if args.data is None and (args.instruction is None or args.response is None):
        args.parser.error("show-mask needs INSTRUCTION and RESPONSE, or --data FILE [--row N] "
                          "(e.g. course show-mask --data course:train --row 3)")
    if args.data is None and not args.instruction.strip():  # as train refuses such a row
        args.parser.error("INSTRUCTION is empty; give the question in quotes, e.g. course "
                          "show-mask \"What is 2+2?\" \"4\"")


def _show_mask_record(args: argparse.Namespace):
    """The row to show, as train's Records of one row (its raw row too, for train's checks),
    and where it is: from --data/--row, or from INSTRUCTION RESPONSE [--input]."""
    from course_lib.training.data import Records

    if args.data is None:  # the arguments were checked by _show_mask_arguments
        record = {"instruction": args.instruction, "input": args.input,
                  "response": args.response}
        return Records("the command line", [record], ["the example"], [record]), ""
    from course_lib.formatting.schemas import normalize_record

    where, row = _data_row(args)
    # Named as train's report names it ("line 3"): the title already names the file.
    short = where.removeprefix(str(args.data)).strip() or where
    return Records(str(args.data), [normalize_record(row, where)], [short], [row]), where


def _data_row(args: argparse.Namespace) -> tuple[str, Any]:
    """Row --row of --data (counted from 1; row 1 if not given) and where it is, e.g.
    ('my.jsonl line 3', {...})."""
    from course_lib.formatting.records import load_raw_rows
    from course_lib.formatting.rows import MAX_ROW_ERRORS, RowErrors

    # Rows that cannot be read elsewhere in the file do not hide the one asked for: they are
    # said after it, and the title names the line shown.
    unreadable = RowErrors(args.data)
    rows = load_raw_rows(args.data, errors=unreadable)
    row = 1 if args.row is None else args.row
    if not 1 <= row <= len(rows):
        unreadable.check()  # the asked row may be one of those
        if not rows:  # no row to count: not a matter of counting from 1
            raise CourseError(f"{args.data} holds no rows; give a file with at least one record.")
        raise CourseError(f"--row {row} is outside {args.data}, which has {len(rows)} "
                          f"row{'s' if len(rows) != 1 else ''}; rows are counted from 1.")
    # The first few, then a count: a file of 50k rows, half of them broken, is not 25k lines.
    for message in unreadable.messages[:MAX_ROW_ERRORS]:
        print(f"note: {message.rstrip('.')}; it is not counted as a row.", file=sys.stderr)
    if len(unreadable.messages) > MAX_ROW_ERRORS:
        print(f"note: and {len(unreadable.messages) - MAX_ROW_ERRORS} more rows of {args.data} "
              f"cannot be read; none of them is counted as a row.", file=sys.stderr)
    if args.row is None and len(rows) > 1:  # the others are one flag away: said which
        print(f"note: row 1 of the {len(rows)} in {args.data} is shown; --row N shows another.",
              file=sys.stderr)
    return rows[row - 1]


def cmd_make_exercises(args: argparse.Namespace) -> int:
    """Generate exercises/ from solutions/; refuse to overwrite edited notebooks without --force."""
    from course_lib.grading.make_exercises import write_exercises

    outcomes = write_exercises(Path(args.solutions), Path(args.out), force=args.force)
    width = max((len(o.name) for o in outcomes), default=0)
    for o in outcomes:
        print(f"{o.name:<{width}}  {o.action}")
    kept = [o.name for o in outcomes if o.action.startswith("kept")]
    if kept:
        raise CourseError(
            f"{', '.join(kept)} in {args.out} {'has' if len(kept) == 1 else 'have'} edits of "
            f"your own, so {'it was' if len(kept) == 1 else 'they were'} not overwritten; for a "
            f"fresh copy of one, rename yours first (it is still graded), or replace them all "
            f"with `course make-exercises --out {shell_word(args.out)} --force` (a .bak-<time> "
            f"copy is kept)."
        )
    return 0


def cmd_grade(args: argparse.Namespace) -> int:
    """Grade every exercise in a folder (or in each learner's folder of a class): a table and a
    score; exit 1 unless all pass."""
    ids = None
    if args.workers is None:  # a COURSE_WORKERS that is no number is said before any work
        from course_lib.grading.runner import default_workers

        args.workers = default_workers()
    if args.exercise:
        from course_lib.grading.registry import select_exercises

        ids = select_exercises(args.exercise)  # an unknown id is said before any work
    if args.json and args.csv and not args.force and all(
            Path(p).is_file() for p in (args.json, args.csv)):  # both said: not one, then one
        raise CourseError(f"--json {args.json} and --csv {args.csv} already exist; the course "
                          f"never overwrites your files. Choose others, or pass --force to "
                          f"replace both.")
    for flag, path, suffix in (("--json", args.json, ".json"), ("--csv", args.csv, ".csv")):
        if path and Path(path).suffix == ".ipynb":  # said before the work, not after
            raise CourseError(f"{flag} {path} would overwrite a notebook; give a {suffix} file, "
                              f"e.g. {flag} report{suffix}.")
        if path:
            _refuse_existing_file(Path(path), args.force, flag)
    for folder in args.folders:
        if Path(folder).suffix == ".ipynb" and Path(folder).is_file():
            raise CourseError(f"{folder} is a notebook; give its folder: course grade "
                              f"{Path(folder).parent} (-e ID grades one exercise).")
        if any(c in folder for c in "*?[") and not Path(folder).exists():  # a glob unmatched
            raise CourseError(f"no folder matches {folder}; check the path (each learner's "
                              f"notebooks in a folder of their own, e.g. submissions/alice/).")
    firsts: dict[Path, str] = {}  # a folder named twice (alice and alice/) is one learner
    for folder in args.folders:
        if (where := Path(folder).resolve()) in firsts:
            print(f"note: {folder} is {firsts[where]}, named before it; it is graded once.",
                  file=sys.stderr)
        firsts.setdefault(where, folder)
    args.folders = list(firsts.values())
    if len(args.folders) == 1 and not args.csv:
        return _grade_one(args, Path(args.folders[0]), ids)
    return _grade_class(args, [Path(f) for f in args.folders], ids)


def _grade_one(args: argparse.Namespace, folder: Path, ids: list[str] | None) -> int:
    from course_lib.grading.notebook import notebooks_to_grade
    from course_lib.grading.report import format_table, score_line, write_json
    from course_lib.grading.result import plain
    from course_lib.grading.runner import grade_folder

    notebooks_to_grade(folder)  # a wrong folder is said alone, not after the line below
    print(f"grading {folder} ({args.workers} at a time, {args.timeout:g} s each at most)...",
          file=sys.stderr)
    report = grade_folder(folder, ids, workers=args.workers, timeout=args.timeout,
                          progress="grading")
    print("".join(f"note: {plain(note)}\n" for note in report.notes)
          + format_table(report.results))
    print(score_line(report.passed, report.total, report.seconds))
    if args.json:
        write_json(report.to_dict(), Path(args.json))
        print(f"report written to {args.json}")
    return 0 if report.passed == report.total else 1


def _grade_class(args: argparse.Namespace, folders: list[Path], ids: list[str] | None) -> int:
    """One learner per folder: each graded in turn (a folder that cannot be graded is said and
    skipped, not fatal), then one row per learner and how many passed each exercise."""
    from course_lib.grading.notebook import NoNotebooks
    from course_lib.grading.report import class_table, learner_names, write_class_csv, write_json
    from course_lib.grading.result import plain
    from course_lib.grading.runner import Graders, grade_folder

    reports, problems, stopped = [], {}, None
    with Graders() as graders:  # one set of zygotes for the class: the imports paid once
        for i, folder in enumerate(folders, 1):
            print(f"grading {folder} ({i}/{len(folders)}, {args.timeout:g} s each at most)...",
                  file=sys.stderr, flush=True)
            try:
                reports.append(grade_folder(
                    folder, ids, workers=args.workers, timeout=args.timeout, graders=graders,
                    progress=f"{folder.name} ({i}/{len(folders)})"))
            except NoNotebooks as err:  # said to the teacher: a learner's empty hand-in
                problems[str(folder)] = err.in_class
            except CourseError as err:
                problems[str(folder)] = str(err)
            except KeyboardInterrupt as err:  # Ctrl-C: the learners graded so far still written
                stopped = err
                problems.update({str(f): "the grading was stopped (Ctrl-C) before this "
                                 "learner's notebooks were done." for f in folders[i - 1:]})
                break
    said = [note] if (note := graders.note()) else []  # the class's, said once
    said += [] if ids else _not_handed_in(reports)
    notes = [f"note: {plain(note)}\n" for note in said]
    name = learner_names([r.folder for r in reports])  # as the table names them
    notes += [f"note: {name[r.folder]}: {plain(note)}\n" for r in reports for note in r.notes]
    print("".join(notes) + class_table(reports, problems))
    if args.json:
        write_json({"class": [r.to_dict() for r in reports], "not_graded": problems,
                    "notes": said}, Path(args.json))
        print(f"report written to {args.json}")
    if args.csv:
        write_class_csv(reports, problems, Path(args.csv))
        print(f"one row per learner written to {args.csv}")
    if stopped is not None:
        raise stopped
    return 0 if not problems and all(r.passed == r.total for r in reports) else 1


def _not_handed_in(reports: list) -> list[str]:
    """A note when no learner of the class has a cell for some lessons' exercises (a class
    given one lesson): they count against every score, and -e names the lessons handed in."""
    from course_lib.grading.result import MISSING

    def lesson(result) -> str:  # ex03_2 -> ex03
        return result.exercise.split("_")[0]

    graded = dict.fromkeys(lesson(x) for x in reports[0].results) if reports else {}
    handed = {lesson(x) for r in reports for x in r.results if x.status != MISSING}
    absent = [name for name in graded if name not in handed]
    handed = [name for name in graded if name in handed]  # in the course's order
    if not absent or not handed:
        return []
    return [f"no learner handed in the exercises of {', '.join(absent)}, and each score counts "
            f"them; to score only what was handed in, grade again with "
            f"{' '.join(f'-e {k}' for k in handed)}."]


def _eval_source(value: str) -> str | None:
    return None if value.lower() in {"none", "off", ""} else value


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


def _freeze_choice(names: list[str] | None) -> tuple[str, ...] | None:
    """--freeze NAME...: those parts; --freeze none: nothing; left out: None (the recipe)."""
    if names is None:
        return None
    return () if [n.lower() for n in names] == ["none"] else tuple(names)


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
    check_sources(args.data, _eval_source(args.eval_data) if args.eval_every else None)
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
        eval_data=_eval_source(args.eval_data),
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


EXAMPLE_FILE = {"--json": "report.json", "--csv": "class.csv"}  # for an --out, a figure


def _refuse_existing_file(path: Path, force: bool = False, flag: str = "--out") -> None:
    _refuse_file_in_the_way(path)
    if path.is_dir():
        raise CourseError(f"{flag} {path} is a folder; give a file name, e.g. "
                          f"{flag} {path / EXAMPLE_FILE.get(flag, 'out.png')}.")
    if path.exists() and not force:
        raise CourseError(
            f"'{path}' already exists; the course never overwrites your files. "
            f"Choose another {flag}, or pass --force to replace it."
        )


def _refuse_full_folder(out: Path, advice: str, force: bool = False) -> None:
    """A folder a command writes into must be new or empty, unless --force says replace."""
    _refuse_file_in_the_way(out)
    if out.exists() and not out.is_dir():
        raise CourseError(f"'{out}' is a file, not a folder; choose another output folder.")
    if out.exists() and any(out.iterdir()) and not force:
        raise CourseError(f"'{out}' already exists and is not empty; the course never "
                          f"overwrites your files. {advice}")


def _refuse_file_in_the_way(path: Path) -> None:
    """Said before the work: a file where a folder above `path` must be."""
    blocked = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocked is not None:
        raise CourseError(f"'{blocked}' is a file, so '{path}' cannot be written there; "
                          f"choose another place.")


def _refuse_twice(runs: list[str], advice: str) -> None:
    """A run named twice is a slip (tab completion, a repeated argument): two identical curves
    or columns, one of them paid for again."""
    twice = next((r for i, r in enumerate(runs)
                  if Path(r).resolve() in {Path(o).resolve() for o in runs[:i]}), None)
    if twice is not None:
        raise CourseError(f"{twice} is given twice; {advice}.")


def cmd_compare(args: argparse.Namespace) -> int:
    """Draw the comparison figure of two or more runs from their history.json."""
    from course_lib.evaluation.compare import compare_runs, comparison_warnings, named_runs

    if len(args.runs) < 2:
        raise CourseError("compare needs at least two run folders, e.g. runs/masked runs/unmasked.")
    _refuse_twice(args.runs, "compare different runs, e.g. runs/masked runs/unmasked")
    labels = args.labels.split(",") if args.labels else None
    out = _image_path(Path(args.out))
    histories, names = named_runs(args.runs, labels)  # the runs' problems first
    fig = compare_runs(histories, labels=names)  # by the names the warnings below use
    _refuse_existing_file(out, args.force)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    # The figure's caption says these too; a terminal user may never open the image.
    for warning in comparison_warnings(histories, names):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {out}")
    return 0


IMAGE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg")


def _image_path(out: Path) -> Path:
    """--out for a figure: .png when no suffix is given (said by the `wrote` line), else one
    that matplotlib writes."""
    if not out.suffix:
        return out.with_suffix(".png")
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise CourseError(f"--out {out} is not an image file name; end it with one of "
                          f"{', '.join(IMAGE_SUFFIXES)}, e.g. --out {out.with_suffix('.png')}.")
    return out


def fresh_dir(base: Path) -> Path:
    """`base` if it does not exist yet, else base-2, base-3, ...: never an existing folder."""
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def cmd_demo(args: argparse.Namespace) -> int:
    """The whole story headless: base model, masked vs unmasked fine-tunes, plot, answers."""
    from course_lib.demo import run_demo

    if args.out is None:
        out = fresh_dir(Path("course-demo"))
    else:
        out = Path(args.out)
        _refuse_full_folder(out, "Leave out --out to get a fresh folder.")
    run_demo(
        out,
        model=args.model,
        data=args.data,
        eval_data=_eval_source(args.eval_data),
        steps=args.steps,
        seed=args.seed,
        n_prompts=args.prompts,
        progress=not args.quiet,
        num_threads=args.threads,
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Answer a data set with every model; print one table; write the JSON and the figure."""
    from course_lib.loading import resolve_model_name

    for model in args.models:
        resolve_model_name(model)  # a typo fails at once, before any model is loaded
    _refuse_twice(args.models, "give each model once")
    json_path = Path(args.json) if args.json else None
    if json_path is not None:
        _refuse_existing_file(json_path, args.force, "--json")
    out = Path(args.out) if args.out else fresh_dir(Path("course-eval"))
    _refuse_full_folder(out, "Choose another --out, or pass --force.", args.force)
    from course_lib.evaluation.eval_data import eval_rows
    from course_lib.evaluation.report import evaluate
    from course_lib.training.data import check_sources

    # A missing file (said by its flag) or a bad row fails before any model loads.
    check_sources(args.data, None)
    data = eval_rows(args.data, args.limit, skip_bad_rows=args.skip_bad_rows)
    _note_data(data)
    _note_templates(args.models, args.template)
    report = evaluate(list(args.models), data, templates=args.template, samples=args.samples,
                      temperature=args.temperature, max_new_tokens=args.max_new_tokens)
    out.mkdir(parents=True, exist_ok=True)  # written first: `| head` may close stdout early
    with written_whole(out / "report.json") as part:
        part.write_text(json.dumps(report.to_dict(answers=True), indent=1, ensure_ascii=False),
                        encoding="utf-8")
    with written_whole(out / "eval.png") as part:
        report.to_figure().savefig(part, dpi=100)
    print(report.table())
    return _wrote([out / "report.json", out / "eval.png"], json_path, report.to_dict())


def _note_data(data) -> None:
    """What reading --data changed or left out, as `course train` says it; then the rows
    scored on adherence only (stderr, before the answers)."""
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    missing = [r["where"] for r in data.rows if r["reference"] is None]
    if missing:
        one = len(missing) == 1
        rows = f"{len(missing)} of {len(data.rows)} row{'s' if len(data.rows) != 1 else ''}"
        print(f"note: {rows} {'has' if one else 'have'} no reference answer (first: "
              f"{missing[0]}); {'it is' if one else 'they are'} scored on adherence only.",
              file=sys.stderr)


def cmd_review(args: argparse.Namespace) -> int:
    """Rate a model's answers 1-5 from the keyboard, saved after each one; then agreement."""
    from course_lib.loading import resolve_model_name

    resolve_model_name(args.model)
    out = Path(args.out)
    _refuse_file_in_the_way(out)
    from course_lib.evaluation.eval_data import EvalData, eval_rows
    from course_lib.evaluation.report import evaluate
    from course_lib.evaluation.review import (
        load_ratings,
        metric_agreement,
        review_in_terminal,
        review_items,
    )
    from course_lib.training.data import check_sources

    if out.exists():  # a folder, or a file that holds no ratings, fails now, not after answers
        load_ratings(out)
    check_sources(args.data, None)  # a missing file said by its flag, as train says it
    data = eval_rows(args.data)
    _note_data(data)
    _note_templates([args.model], args.template)
    # The same seed picks the same questions, so a second run resumes the same sheet.
    rows = random.Random(args.seed).sample(data.rows, min(args.items, len(data.rows)))
    report = evaluate([args.model], EvalData(rows, data.source), templates=args.template,
                      samples=0, max_new_tokens=args.max_new_tokens)
    items = review_items(report, per_model=args.items, seed=args.seed)
    rated = review_in_terminal(items, args.out)
    keys = {item["key"] for item in items}
    mine = {k: r for k, r in load_ratings(args.out).items() if k in keys}
    print(f"\n{rated} rated now; {len(mine)} of {len(items)} rated in {args.out}")
    if len(mine) >= 3:
        print(metric_agreement(mine, items))
    return 0


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
        _refuse_existing_file(json_path, args.force, "--json")
    out = Path(args.out)
    _refuse_file_in_the_way(out)  # checked before minutes of training, not after
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
    return _wrote([figure], json_path, result.to_dict())


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


# Numbers a flag takes, checked when the command line is read: argparse then names the flag
# ("argument --steps: must be at least 1, not -5"). Unchecked, a negative --steps would train
# by epochs instead, silently, and --batch-size 0 would end in a traceback.
def whole(least: int, most: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `least` to `most`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least or (most is not None and value > most):
            bounds = f"from {least} to {most}" if most is not None else f"at least {least}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, not {value}")
        return value
    return parse


def above_zero(text: str) -> float:
    """An argparse type: a number above 0 (a learning rate, seconds)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be above 0, not {text}")
    return value


def temperature(text: str) -> float:
    """--temperature: above 0, and a 0 meant as "greedy" is told where greedy already is."""
    try:
        return above_zero(text)
    except argparse.ArgumentTypeError as err:
        raise argparse.ArgumentTypeError(
            f"{err} (it divides the logits); the greedy answer is always measured, and "
            f"--samples 0 turns the sampled answers off") from None


COUNT, SEED = whole(1), whole(0, 2**32 - 1)  # numpy seeds its generator with 32 bits


def _add_run_options(p: argparse.ArgumentParser, eval_default: str,
                     data_default: str | None = None) -> None:
    """What every training command shares: model, data, held-out set, seed, threads."""
    p.add_argument("--model", default="tiny", help="preset (tiny), model folder or Hub id")
    p.add_argument("--data", default=data_default,
                   help="data file (JSON Lines, JSON, CSV, TSV or Parquet, optionally .gz), a "
                        "save_to_disk folder, a Hub data set id, or an embedded set such as "
                        "course:train (default: " + (data_default or "the course's recipe, "
                                                     "course:train_varied") + ")")
    p.add_argument("--eval-data", default=eval_default,
                   help="held-out set for the response-only loss; 'none' turns it off" + (
                       "; auto (default): course:eval for the course's data, else a seeded "
                       "slice of --data" if eval_default == "auto" else ""))
    p.add_argument("--seed", type=SEED, default=0,
                   help="training seed: the order of examples and any random start "
                        "(default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--threads", type=COUNT, default=None,
                   help="CPU threads for training (default: chosen for the model and "
                        "the machine, and printed)")


def _add_format_options(p: argparse.ArgumentParser) -> None:
    """How records become tokens: the same choices for train and show-mask."""
    p.add_argument("--template", choices=list(TEMPLATES), default=DEFAULT_TEMPLATE.name,
                   help="how a record becomes text (default: %(default)s)")
    p.add_argument("--max-length", type=COUNT, default=None, metavar="N",
                   help="cut examples to N tokens (default: the model's context, at most 1024)")


def _add_train_options(p: argparse.ArgumentParser) -> None:
    _add_run_options(p, eval_default="auto")
    _add_format_options(p)
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


def _add_show_mask_options(p: argparse.ArgumentParser) -> None:
    p.set_defaults(check_arguments=_show_mask_arguments)
    p.add_argument("instruction", metavar="INSTRUCTION", nargs="?")
    p.add_argument("response", metavar="RESPONSE", nargs="?")
    p.add_argument("--input", default="", help="optional input (three-part record)")
    p.add_argument("--data", default=None, metavar="FILE",
                   help="take the record from a data file (or course:train) instead")
    # A plain int: out of range, cmd_show_mask names the file and how many rows it has.
    p.add_argument("--row", type=int, default=None, metavar="N",
                   help="which record of --data, counted from 1 as in error messages "
                        "(default: 1, said in a note)")
    _add_format_options(p)
    p.add_argument("--model", default="tiny", help="tiny (embedded), a folder, or a Hub id")
    p.add_argument("--masking", choices=list(MASKINGS), default="response",
                   help="how labels are built (default: %(default)s): " + "; ".join(
                       f"{name}: {what}" for name, what in MASKINGS.items()))
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="auto: on a terminal unless NO_COLOR is set")


def _add_ask_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default="tiny", help="preset (tiny), model folder or Hub id")
    p.add_argument("--template", choices=list(TEMPLATES), default=None,
                   help="default: the one the run in --model was trained with, else "
                        f"{DEFAULT_TEMPLATE.name}")
    p.add_argument("--json", action="store_true", help="JSON lines with instruction and response")
    p.add_argument("--max-new-tokens", type=COUNT, default=32)
    p.add_argument("instructions", nargs="+", metavar="INSTRUCTION",
                   help="the questions, each in quotes; - reads them from standard input, one "
                        "per line")


def _add_experiment_options(p: argparse.ArgumentParser) -> None:
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


def _add_demo_options(p: argparse.ArgumentParser) -> None:
    _add_run_options(p, eval_default="course:eval", data_default="course:train")
    p.add_argument("--steps", type=COUNT, default=100,
                   help="steps of each fine-tune (default: %(default)s)")
    p.add_argument("--prompts", type=COUNT, default=5,
                   help="held-out instructions to answer (default: %(default)s)")
    p.add_argument("--out", default=None, help="new folder (default: a fresh course-demo)")


def _add_eval_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="course:eval_styles",
                   help="questions with reference answers: any file `course train` reads "
                        "(JSON Lines, JSON, CSV, TSV or Parquet, optionally .gz; a save_to_disk "
                        "folder), a Hub id, or an embedded set (default: %(default)s)")
    p.add_argument("--template", choices=list(TEMPLATES), nargs="+", default=None,
                   help="prompt template(s) every model is asked in (default: each run the one "
                        f"it was trained with, else {DEFAULT_TEMPLATE.name})")
    p.add_argument("--max-new-tokens", type=COUNT, default=16,
                   help="answer length limit; an answer that reaches it did not stop")


def _note_templates(models: list[str], given: list[str] | None) -> None:
    """Which template each model is asked in, when --template does not say (stderr)."""
    if given:
        return
    asked = {model: asked_template(history_of_run(model)) for model in models}
    print("template: " + "; ".join(f"{asked[m][0]} for {m} ({asked[m][1]})" for m in models),
          file=sys.stderr)


def _add_eval_command_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("models", nargs="+", metavar="MODEL_OR_RUN",
                   help="tiny, a folder written by `course train`, or a Hub id")
    _add_eval_options(p)
    p.add_argument("--json", metavar="FILE", help="also write the summary as JSON to FILE")
    p.add_argument("--samples", type=whole(0), default=3,
                   help="sampled answers per question for consistency (0: off; default: 3)")
    p.add_argument("--temperature", type=temperature, default=0.7,
                   help="for the samples (default: %(default)s)")
    p.add_argument("--limit", type=COUNT, default=None, help="only the first N questions")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="leave out the rows of --data that cannot be used (counted and named) "
                        "instead of stopping; --limit then counts the usable ones")
    p.add_argument("--out", default=None,
                   help="folder for report.json and eval.png (default: a fresh course-eval)")
    p.add_argument("--force", action="store_true", help="replace --json and --out if they exist")


def _add_review_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="RUN_OR_MODEL", help="tiny, a run folder, or a Hub id")
    _add_eval_options(p)
    p.add_argument("--out", required=True, help="ratings file (JSONL); an existing one resumes")
    p.add_argument("--items", type=COUNT, default=20, help="answers to rate (default: 20)")
    p.add_argument("--seed", type=SEED, default=0, help="which questions are picked")


def _add_make_exercises_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solutions", default="solutions",
                   help="solution notebooks (default: %(default)s)")
    p.add_argument("--out", default="exercises", help="where exercises go (default: %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="also replace notebooks you edited (a .bak-<time> copy is kept)")


def _add_grade_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("folders", nargs="*", default=["exercises"], metavar="FOLDER",
                   help="folder of exercise notebooks (default: exercises); several, e.g. "
                        "submissions/*/, grade a class: one row per learner")
    p.add_argument("--json", metavar="REPORT", help="also write the results as JSON to REPORT")
    p.add_argument("--csv", metavar="TABLE",
                   help="also write one row per folder (learner), one column per exercise")
    p.add_argument("--exercise", "-e", action="append", metavar="ID",
                   help="grade only this exercise (repeatable), e.g. -e ex03_1, or a lesson's "
                        "exercises: -e ex03")
    p.add_argument("--timeout", type=above_zero, default=30.0,
                   help="seconds each exercise may run (default: %(default)s; one that "
                        "trains a model has a longer limit of its own)")
    p.add_argument("--workers", type=COUNT, default=None,
                   help="exercises graded at once (default: $COURSE_WORKERS, else 2)")
    p.add_argument("--force", action="store_true", help="replace --json and --csv if they exist")


def _add_compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="folders written by `course train`")
    p.add_argument("--out", required=True, help="image file to write, e.g. compare.png")
    p.add_argument("--labels", default=None, help="comma-separated names for the runs")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")


# The build commands write fixed file names (train.jsonl, config.json, README.md...).
FORCE_BUILD = ("Choose another --out, or pass --force to replace its files (as when rebuilding "
               "the embedded ones in course_lib/assets).")
FORCE_HELP = "write into a folder that already holds files, replacing those of the same name"


def _add_build_base_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder to save the model and tokenizer in")
    p.add_argument("--quick", action="store_true", help="tiny corpus, few steps (seconds)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def _add_build_tuning_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="folder for train/eval/... .jsonl files")
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--force", action="store_true", help=FORCE_HELP)


def cmd_build_base_model(args: argparse.Namespace) -> int:
    """Pretrain the embedded base model from a generated corpus and save it to --out."""
    from course_lib.world.build import FULL_BUILD, QUICK_BUILD, build_base_model

    _refuse_full_folder(Path(args.out), FORCE_BUILD, args.force)  # before minutes of work
    settings = QUICK_BUILD if args.quick else FULL_BUILD
    summary = _built_aside(Path(args.out), lambda folder: build_base_model(folder, settings))
    print(f"saved {summary['parameters']:,}-parameter model to {args.out} "
          f"({summary['size_mb']} MB) in {summary['wall_seconds']} s, "
          f"final loss {summary['final_loss']:.3f}")
    return 0


def cmd_build_tuning_data(args: argparse.Namespace) -> int:
    """Write the instruction-tuning JSONL files and their dataset card to --out."""
    from course_lib.world.tuning_data import write_tuning_data

    _refuse_full_folder(Path(args.out), FORCE_BUILD, args.force)
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


# Every command: (name, handler, options, one-line help, description for `--help`).
COMMANDS: list[tuple[str, Handler, Callable[[argparse.ArgumentParser], None], str, str]] = [
    ("doctor", cmd_doctor, lambda p: None,
     "show versions, device, dtype, cores, memory, Hub, embedded model",
     "Print what the course will run on: the versions of Python and the libraries, the device "
     "and dtype training will use, the CPU cores and memory this process may use, whether the "
     "Hugging Face Hub answers, and where the embedded model is. It writes no file."),
    ("show-mask", cmd_show_mask, _add_show_mask_options,
     "print every token of one example with its label (-100 = masked)",
     "Format one example (given, or row N of a data file), build its labels and print each "
     "token as text(label, id): grey = masked (-100), green = trained. It writes no file."),
    ("make-exercises", cmd_make_exercises, _add_make_exercises_options,
     "generate exercises/ from solutions/",
     "Write each solution notebook's exercise version: the answers between ### BEGIN SOLUTION "
     "and ### END SOLUTION become a NotImplementedError, the hints a collapsed cell. A "
     "notebook you edited is kept (see --force); learners with a clone use --out my-exercises."),
    ("grade", cmd_grade, _add_grade_options,
     "grade the exercises of a folder of notebooks, or a class: a folder per learner",
     "Run the exercise cells of the notebooks in FOLDER, each against its check, and print one "
     "row per exercise (passed, or what is wrong) and the score; the exit status is 1 unless "
     "all pass. Several folders, one per learner, give one row per learner instead. --json "
     "and --csv also write the results to a file. The cells run with your permissions, not in "
     "a sandbox: grade work you do not trust with no network (README.md, 'Grading a class')."),
    ("train", cmd_train, _add_train_options,
     "fine-tune; save model, history.json and loss.png",
     "Fine-tune a model on instruction data and save the model, history.json (the settings and "
     "the losses step by step) and loss.png in the new folder --out. Every option left out "
     "keeps the course's recipe."),
    ("ask", cmd_ask, _add_ask_options, "answer instructions with the run's template",
     "Answer each question with a model or a run folder, in the template the run was trained "
     "with, and print the answers, one per line. It writes no file."),
    ("compare", cmd_compare, _add_compare_options,
     "plot reported vs held-out response-only loss of runs",
     "Draw two or more training runs side by side, the loss each reported while training and "
     "the held-out response-only loss (the one that compares runs fairly), into the image "
     "file --out."),
    ("eval", cmd_eval, _add_eval_command_options,
     "score models on a question set: table, JSON, figure",
     "Answer every question with every model (greedy, batched), score exact match, ROUGE-L, "
     "BLEU, chrF and adherence, and break them down by task kind and phrasing style. Prints "
     "a table and writes report.json and eval.png into --out (default: a fresh course-eval)."),
    ("review", cmd_review, _add_review_options, "rate a model's answers 1-5 from the keyboard",
     "Show one answer at a time; type a rating 1-5 and flag letters, Enter. Saved after every "
     "rating; run it again to resume."),
    ("experiment", cmd_experiment, _add_experiment_options,
     "measure a common mistake or good practice, with seeds",
     "Train a baseline and variants that change one thing, for several seeds; evaluate each on "
     "the same questions; print median and spread per metric. Finished runs are kept in --out, "
     "so running it again is instant."),
    ("demo", cmd_demo, _add_demo_options, "the whole story headless, into a fresh folder",
     "Ask the base model, fine-tune it twice (labels -100 on the prompt, then on no token), "
     "compare the two runs' losses, answer held-out questions before and after, and say what "
     "the numbers show; a few minutes on a laptop CPU."),
    ("build-base-model", cmd_build_base_model, _add_build_base_model_options,
     "pretrain the embedded tiny base model (10-25 min on 2 cores)",
     "Pretrain the tiny base model the course comes with, on a generated corpus about a small "
     "world, and save the model and its tokenizer in --out: 10-25 minutes on 2 cores, seconds "
     "with --quick."),
    ("build-tuning-data", cmd_build_tuning_data, _add_build_tuning_data_options,
     "write the embedded instruction data sets",
     "Write the instruction data sets the course comes with (train, eval, eval_styles, "
     "train_varied and the rest, one .jsonl file each) and their data card, README.md, into "
     "--out; the same --seed writes the same files."),
]

# Each command's examples for `--help`: (what it does, the command). Each must parse
# (tests/test_cli_help.py parses them with build_parser).
EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "doctor": (("before the first lesson, or to report a problem", "course doctor"),),
    "show-mask": (
        ("one example typed in", 'course show-mask "What is 2+2?" "4"'),
        ("row 3 of a data set, with labels on every token",
         "course show-mask --data course:train --row 3 --masking none")),
    "make-exercises": (
        ("exercises/ from solutions/", "course make-exercises"),
        ("a copy of your own, beside exercises/", "course make-exercises --out my-exercises")),
    "grade": (
        ("every exercise in exercises/", "course grade"),
        ("one exercise of one learner", "course grade submissions/alice -e ex03_1"),
        ("a class, one folder per learner", "course grade submissions/*/ --csv class.csv")),
    "train": (
        ("100 steps of the recipe: loss on the answers only",
         "course train --steps 100 --out runs/masked"),
        ("your own data, loss on every token",
         "course train --data my.jsonl --masking none --out runs/mine")),
    "ask": (
        ("the embedded base model", 'course ask "What is 2+2?"'),
        ("a fine-tuned run, two questions", 'course ask --model runs/masked "What is 2+2?" '
                                            '"What is 5+5?"')),
    "compare": (("two runs in one figure",
                 "course compare runs/masked runs/unmasked --out compare.png"),),
    "eval": (
        ("the base model against a run", "course eval tiny runs/masked --json r.json"),
        ("50 of your own questions, greedy answers only",
         "course eval runs/masked --data my-questions.jsonl --limit 50 --samples 0")),
    "review": (("20 answers of a run, then how the metrics agree with you",
                "course review runs/masked --out ratings.jsonl"),),
    "experiment": (
        ("every experiment and its hypothesis", "course experiment --list"),
        ("one experiment, three seeds per arm", "course experiment prompt-variability --seeds 3"),
    ),
    "demo": (
        ("the whole story into a fresh course-demo folder", "course demo"),
        ("a quicker one", "course demo --steps 30 --out demo-quick")),
    "build-base-model": (("a quick smoke build", "course build-base-model --quick --out base"),),
    "build-tuning-data": (("the data sets with another seed",
                           "course build-tuning-data --seed 1 --out data-seed1"),),
}


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
        # Built aside (_built_aside): nothing of a build cut short is in --out.
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


def _wrote(written: list[Path], json_path: Path | None, data: dict) -> int:
    """Write `data` to --json's path if given, then say every file written (JSON first)."""
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(json_path) as part:
            part.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
        written.insert(0, json_path)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


if __name__ == "__main__":
    sys.exit(main())
