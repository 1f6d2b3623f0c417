"""The grade report: a table for the terminal, a JSON file for teachers' scripts.

    >>> from course_lib.grading.result import ExerciseResult
    >>> print(format_table([ExerciseResult("ex02_1", "passed", title="Format a record")]))
    exercise  result  message
    ex02_1    passed  Format a record
"""

from __future__ import annotations

import csv
import json
import re
import textwrap
from pathlib import Path

from course_lib.grading.result import ExerciseResult, plain, printable
from course_lib.grading.runner import GradeReport

MESSAGE_WIDTH = 72


def format_table(results: list[ExerciseResult]) -> str:
    """One row per exercise; long messages wrap under the message column (plain text: code
    is shown without its backticks). The grader made the messages safe to print already
    (runner._read_verdict: control characters as their escapes)."""
    rows = [("exercise", "result", "message")]
    for r in results:
        rows.append((r.exercise, r.status, r.title if r.passed else plain(r.message)))
    w0 = max(len(row[0]) for row in rows)
    w1 = max(len(row[1]) for row in rows)
    lines = []
    for ex, status, message in rows:
        wrapped = textwrap.wrap(message, MESSAGE_WIDTH) or [""]
        lines.append(f"{ex:<{w0}}  {status:<{w1}}  {wrapped[0]}".rstrip())
        lines += [f"{'':<{w0}}  {'':<{w1}}  {more}" for more in wrapped[1:]]
    return "\n".join(lines)


def score_line(passed: int, total: int, seconds: float | None = None) -> str:
    """'Score: 3/4 (75%)', with the time taken if given."""
    percent = round(100 * passed / total) if total else 0
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    return f"Score: {passed}/{total} ({percent}%){took}"


def write_json(report: dict, path: Path) -> None:
    """Write the report where asked (creating folders), never into a notebook."""
    path = Path(path)
    if path.suffix == ".ipynb":
        raise ValueError("the report must not overwrite a notebook")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def class_table(reports: list[GradeReport], problems: dict[str, str]) -> str:
    """A class at a glance: each learner's score (and the folders that could not be graded),
    then each exercise with how many learners passed it, the hardest first."""
    names = [_name(r.folder) for r in reports] + [_name(f) for f in problems]
    width = max([len("learner"), *map(len, names)])
    lines = [f"{'learner':<{width}}  score"]
    lines += [f"{_name(r.folder):<{width}}  {r.passed}/{r.total} ({round(r.percent)}%)"
              for r in reports]
    lines += [f"{_name(f):<{width}}  not graded: {printable(plain(why))}"
              for f, why in problems.items()]
    if reports:
        ids = [r.exercise for r in reports[0].results]
        passed = {ex: sum(r.results[i].passed for r in reports) for i, ex in enumerate(ids)}
        lines += ["", f"passed by (of {len(reports)} learners), hardest first:"]
        lines += [f"{ex}  {passed[ex]}" for ex in sorted(ids, key=lambda ex: passed[ex])]
        mistakes = common_mistakes(reports)
        if mistakes:
            lines += ["", "the mistake most learners who missed it made, by exercise:", *mistakes]
    return "\n".join(lines)


def common_mistakes(reports: list[GradeReport], width: int = 100) -> list[str]:
    """For each exercise some learners missed: what most of them were told, how many, and one
    of those messages as it was said. Messages that differ only in their numbers
    ("labels[3] should be -100", "labels[7] ...") are one mistake.

        >>> from course_lib.grading.result import ExerciseResult as R
        >>> said = ["labels[3] should be -100", "labels[7] should be -100", "loss is 0.2"]
        >>> common_mistakes([GradeReport(str(i), [R("ex03_1", "failed", m)])
        ...                  for i, m in enumerate(said)])
        ['ex03_1  2 of 3 who missed it: failed, labels[3] should be -100']
    """
    lines = []
    for i, exercise in enumerate(r.exercise for r in reports[0].results):
        missed = [r.results[i] for r in reports if not r.results[i].passed]
        if not missed:
            continue
        groups: dict[tuple[str, str], list[ExerciseResult]] = {}
        for result in missed:  # the numbers taken out: one mistake, whichever row it hit
            key = (result.status, re.sub(r"\d+(\.\d+)?", "#", plain(result.message)))
            groups.setdefault(key, []).append(result)
        most = max(groups.values(), key=len)  # the first of the largest, in the learners' order
        said = " ".join(f"{most[0].status}, {plain(most[0].message)}".split())
        line = f"{exercise}  {len(most)} of {len(missed)} who missed it: {said}"
        lines.append(line if len(line) <= width else line[:width - 1] + "…")
    return lines


def _name(folder: str) -> str:
    """A learner's folder name (from their archive), its control characters written out."""
    return printable(Path(folder).name)


def write_class_csv(reports: list[GradeReport], problems: dict[str, str], path: Path) -> None:
    """One row per learner (folder), one column per exercise holding its status."""
    ids = [r.exercise for r in reports[0].results] if reports else []
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["learner", "folder", "passed", "total", "note", *ids])
        for r in reports:
            out.writerow([_cell(Path(r.folder).name), _cell(r.folder), r.passed, r.total, "",
                          *(x.status for x in r.results)])
        for folder, why in problems.items():  # its own column: no exercise's status moves
            out.writerow([_cell(Path(folder).name), _cell(folder), "", "",
                          f"not graded: {plain(why)}"])


def _cell(text: str) -> str:
    """A folder name as text a spreadsheet shows, not a formula it runs: learners name their
    archives, and "=HYPERLINK(...)" would be a live link in the teacher's sheet (OWASP's fix)."""
    return f"'{text}" if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
