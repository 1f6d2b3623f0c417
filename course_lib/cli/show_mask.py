"""`course show-mask`: one example token by token with its labels, cut as `course train` cuts
it: lesson 03's mask explorer, headless."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from typing import Any

from course_lib.cli.options import add_format_options
from course_lib.errors import CourseError
from course_lib.masking import MASKINGS


def add_show_mask_options(p: argparse.ArgumentParser) -> None:
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
    add_format_options(p)
    p.add_argument("--model", default="tiny", help="tiny (embedded), a folder, or a Hub id")
    p.add_argument("--masking", choices=list(MASKINGS), default="response",
                   help="how labels are built (default: %(default)s): " + "; ".join(
                       f"{name}: {what}" for name, what in MASKINGS.items()))
    p.add_argument("--color", choices=["auto", "always", "never"], default="auto",
                   help="auto: on a terminal unless NO_COLOR is set")


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


def _use_color(choice: str) -> bool:
    """--color auto: colour on a terminal unless NO_COLOR is set (https://no-color.org)."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


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
