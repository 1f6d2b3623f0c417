"""`course eval` and `course review`: every model's answers to a question set, scored by the
metrics or rated by you (lesson 06, headless)."""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

from course_lib.cli.options import COUNT, SEED, temperature, whole
from course_lib.cli.outputs import (
    fresh_dir,
    refuse_existing_file,
    refuse_file_in_the_way,
    refuse_full_folder,
    refuse_twice,
    wrote,
)
from course_lib.files import written_whole
from course_lib.formatting.templates import DEFAULT_TEMPLATE, TEMPLATES
from course_lib.training.history import asked_template, history_of_run


def add_eval_command_options(p: argparse.ArgumentParser) -> None:
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


def add_review_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="RUN_OR_MODEL", help="tiny, a run folder, or a Hub id")
    _add_eval_options(p)
    p.add_argument("--out", required=True, help="ratings file (JSONL); an existing one resumes")
    p.add_argument("--items", type=COUNT, default=20, help="answers to rate (default: 20)")
    p.add_argument("--seed", type=SEED, default=0, help="which questions are picked")


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


def cmd_eval(args: argparse.Namespace) -> int:
    """Answer a data set with every model; print one table; write the JSON and the figure."""
    from course_lib.loading import resolve_model_name

    for model in args.models:
        resolve_model_name(model)  # a typo fails at once, before any model is loaded
    refuse_twice(args.models, "give each model once")
    json_path = Path(args.json) if args.json else None
    if json_path is not None:
        refuse_existing_file(json_path, args.force, "--json")
    out = Path(args.out) if args.out else fresh_dir(Path("course-eval"))
    refuse_full_folder(out, "Choose another --out, or pass --force.", args.force)
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
    return wrote([out / "report.json", out / "eval.png"], json_path, report.to_dict())


def cmd_review(args: argparse.Namespace) -> int:
    """Rate a model's answers 1-5 from the keyboard, saved after each one; then agreement."""
    from course_lib.loading import resolve_model_name

    resolve_model_name(args.model)
    out = Path(args.out)
    refuse_file_in_the_way(out)
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


def _note_templates(models: list[str], given: list[str] | None) -> None:
    """Which template each model is asked in, when --template does not say (stderr)."""
    if given:
        return
    asked = {model: asked_template(history_of_run(model)) for model in models}
    print("template: " + "; ".join(f"{asked[m][0]} for {m} ({asked[m][1]})" for m in models),
          file=sys.stderr)
