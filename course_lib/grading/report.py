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

from course_lib.grading.result import (
    FAILED,
    MISSING,
    NOT_IMPLEMENTED,
    ExerciseResult,
    plain,
    printable,
)
from course_lib.grading.runner import GradeReport

MESSAGE_WIDTH = 72
# Not a mistake to go over: an exercise not begun (still raising) or with no cell handed in.
NOT_STARTED = (NOT_IMPLEMENTED, MISSING)


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
    then each exercise with how many passed, got it wrong, and did not start it, the hardest
    first, then the mistake most of those who got it wrong made."""
    name = learner_names([r.folder for r in reports] + list(problems))
    width = max([len("learner"), *map(len, name.values())])
    lines = [f"{'learner':<{width}}  score"]
    lines += [f"{name[r.folder]:<{width}}  {r.passed}/{r.total} ({round(r.percent)}%)"
              for r in reports]
    lines += [f"{name[f]:<{width}}  not graded: {printable(plain(why))}"
              for f, why in problems.items()]
    if reports:
        unseen = f"; {len(problems)} not graded, above" if problems else ""
        graded = f"{len(reports)} learner" + ("s" if len(reports) != 1 else "")
        lines += ["", f"by exercise, hardest first (of {graded} graded{unseen}):",
                  *exercise_counts(reports)]
        mistakes = common_mistakes(reports)
        if mistakes:
            lines += ["", "the mistake most learners who got it wrong made, by exercise:",
                      *mistakes]
    return "\n".join(lines)


def exercise_counts(reports: list[GradeReport]) -> list[str]:
    """Per exercise, how many learners passed it, got it wrong, and did not start it (not
    implemented, or no cell), the hardest first: the fewest passes of those who tried it (a
    share, so one pass of one try is easy and one of three is hard), then the most wrong, then
    the fewest passes; an exercise nobody tried is last, since nothing says it is hard.

        >>> from course_lib.grading.result import ExerciseResult as R
        >>> print("\\n".join(exercise_counts([GradeReport("a", [R("ex03_1", "failed")]),
        ...                                    GradeReport("b", [R("ex03_1", "missing")])])))
        exercise  passed  wrong  not started
        ex03_1    0       1      1
    """
    rows = []
    for i, exercise in enumerate(r.exercise for r in reports[0].results):
        statuses = [r.results[i].status for r in reports]
        passed = sum(r.results[i].passed for r in reports)
        not_started = sum(status in NOT_STARTED for status in statuses)
        rows.append((exercise, passed, len(reports) - passed - not_started, not_started))
    rows.sort(key=lambda row: (row[1] + row[2] == 0,  # tried by nobody: last
                               row[1] / max(row[1] + row[2], 1), -row[2], row[1]))
    return ["exercise  passed  wrong  not started",
            *(f"{ex:<8}  {p:<6}  {w:<5}  {n}" for ex, p, w, n in rows)]


def common_mistakes(reports: list[GradeReport], width: int = 100) -> list[str]:
    """For each exercise some learners got wrong: what most of them were told, how many, and
    one of those messages as it was said. Messages that differ only in their numbers
    ("labels[3] should be -100", "labels[7] ...") are one mistake; of mistakes made as often,
    the check's own message (what is wrong with the answer) is named before an error of
    Python's. An exercise not started is no mistake to go over: else one unstarted folder would
    hide what the others got wrong. A message too long for a line goes on in the next ones.

        >>> from course_lib.grading.result import ExerciseResult as R
        >>> said = ["labels[3] should be -100", "labels[7] should be -100", "loss is 0.2"]
        >>> common_mistakes([GradeReport(str(i), [R("ex03_1", "failed", m)])
        ...                  for i, m in enumerate(said)])
        ['ex03_1  2 of 3 who got it wrong: failed, labels[3] should be -100']
    """
    # Matched by position: every folder's report lists the same exercises in the same order.
    lines = []
    for i, exercise in enumerate(r.exercise for r in reports[0].results):
        wrong = [r.results[i] for r in reports
                 if not r.results[i].passed and r.results[i].status not in NOT_STARTED]
        if not wrong:
            continue
        groups: dict[tuple[str, str], list[ExerciseResult]] = {}
        for result in wrong:  # the numbers taken out: one mistake, whichever row it hit
            key = (result.status, re.sub(r"\d+(\.\d+)?", "#", plain(result.message)))
            groups.setdefault(key, []).append(result)
        # The largest group, the check's verdict before Python's; of equals, the first learner's.
        most = max(groups.values(), key=lambda group: (len(group), _about_the_answer(group[0])))
        said = " ".join(f"{most[0].status}, {plain(most[0].message)}".split())
        count = (f"{len(most)} of {len(wrong)} who got it wrong" if len(most) > 1 or len(wrong) == 1
                 else f"{len(wrong)} who got it wrong, each differently; one")
        lines += textwrap.wrap(f"{exercise}  {count}: {said}", width, subsequent_indent=" " * 8,
                               max_lines=4, placeholder=" …")
    return lines


def _about_the_answer(result: ExerciseResult) -> bool:
    """Whether a message is the check's own verdict on the answer, not Python's error in it."""
    return result.status == FAILED and not plain(result.message).startswith(
        ("your code", f"the {result.exercise} cell has a syntax error"))


def learner_names(folders: list[str]) -> dict[str, str]:
    """Each learner's folder name (from their archive), its control characters written out;
    with its parent where two share a name (group1/alice, group2/alice), else they read alike."""
    short = {f: Path(f).name for f in folders}
    twice = {n for n in short.values() if list(short.values()).count(n) > 1}
    return {f: printable(str(Path(Path(f).parent.name, n)) if n in twice else n)
            for f, n in short.items()}


def write_class_csv(reports: list[GradeReport], problems: dict[str, str], path: Path) -> None:
    """One row per learner (folder), one column per exercise holding its status; the note
    column says what the table's notes said of that learner (an unreadable notebook, which
    copy was graded). UTF-8 with a byte-order mark: without it, Excel reads the file in the
    system's code page and shows a learner named Zoë as ZoÃ«."""
    ids = [r.exercise for r in reports[0].results] if reports else []
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        out = csv.writer(f)
        out.writerow(["learner", "folder", "passed", "total", "note", *ids])
        for r in reports:
            out.writerow([_cell(Path(r.folder).name), _cell(r.folder), r.passed, r.total,
                          _cell(plain(" ".join(r.notes))), *(x.status for x in r.results)])
        for folder, why in problems.items():  # its own column: no exercise's status moves
            out.writerow([_cell(Path(folder).name), _cell(folder), "", "",
                          f"not graded: {plain(why)}"])


def _cell(text: str) -> str:
    """A folder name (or a note, which starts with a notebook's name) as text a spreadsheet
    shows, not a formula it runs: learners name their archives and notebooks, and
    "=HYPERLINK(...)" would be a live link in the teacher's sheet (OWASP's fix)."""
    return f"'{text}" if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text
