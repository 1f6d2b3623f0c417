"""The grade report: a table for the terminal, a JSON file for teachers' scripts.

    >>> from course_lib.grading.result import ExerciseResult
    >>> print(format_table([ExerciseResult("ex02_1", "passed", title="Format a record")]))
    exercise  result  message
    ex02_1    passed  Format a record
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from course_lib.grading.result import ExerciseResult, plain

MESSAGE_WIDTH = 72


def format_table(results: list[ExerciseResult]) -> str:
    """One row per exercise; long messages wrap under the message column (plain text: code
    is shown without its backticks)."""
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
