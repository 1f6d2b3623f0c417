"""`course make-exercises` and `course grade`: every lesson's exercises made from its solutions,
and graded, for one learner or a class."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib.cli.options import COUNT, above_zero
from course_lib.cli.outputs import refuse_existing_file
from course_lib.errors import CourseError, shell_word


def add_make_exercises_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solutions", default="solutions",
                   help="solution notebooks (default: %(default)s)")
    p.add_argument("--out", default="exercises", help="where exercises go (default: %(default)s)")
    p.add_argument("--force", action="store_true",
                   help="also replace notebooks you edited (a .bak-<time> copy is kept)")


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


def add_grade_options(p: argparse.ArgumentParser) -> None:
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
            refuse_existing_file(Path(path), args.force, flag)
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
