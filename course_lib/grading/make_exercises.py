"""Make the learner's exercise notebooks from the solution notebooks (one source of truth).

In `solutions/`, code cells mark what the learner must write, nbgrader-style:

    # exercise: ex03_1
    def build_labels(prompt, response, tokenizer):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

The generated exercise keeps the signature and replaces the region with
`raise NotImplementedError("ex03_1: write your code here")`. `### BEGIN HIDDEN TESTS` /
`### END HIDDEN TESTS` regions are removed, a hints cell follows each exercise cell, outputs
are cleared and the kernel metadata is set.

    >>> cell = "def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION"
    >>> print(strip_solution(cell, "ex01_1"))
    def f():
        raise NotImplementedError("ex01_1: write your code here")

A generated notebook records a hash of its cells, so a later run can tell whether the
learner has edited it (then it is never overwritten without --force, and a backup is kept),
and whether the course has a newer version of it to offer (else there is nothing to say).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from course_lib.errors import CourseError, with_advice
from course_lib.grading.notebook import Notebook, cell_source, exercise_id_of, read_notebook
from course_lib.grading.registry import get_exercise

BEGIN_SOLUTION = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END_SOLUTION = re.compile(r"^\s*### END SOLUTION\s*$")
BEGIN_HIDDEN = re.compile(r"^\s*### BEGIN HIDDEN TESTS\s*$")
END_HIDDEN = re.compile(r"^\s*### END HIDDEN TESTS\s*$")
LOOKS_LIKE_EXERCISE = re.compile(r"^#\s*exercises?\b", re.IGNORECASE)  # meant as one

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
GENERATED_NOTE = "Generated from solutions/ by `course make-exercises`: edit the solution instead."


def _regions(lines: list[str], begin: re.Pattern, end: re.Pattern, where: str):
    """Yield (start, stop) line indexes of each begin/end pair, checking they are balanced."""
    start = None
    for i, line in enumerate(lines):
        if begin.match(line):
            if start is not None:
                raise CourseError(f"{where}: '{line.strip()}' on line {i + 1} opens a region "
                                  f"inside another one; close the first one before.")
            start = i
        elif end.match(line):
            if start is None:
                raise CourseError(f"{where}: '{line.strip()}' on line {i + 1} closes a region "
                                  f"that was never opened.")
            yield start, i
            start = None
    if start is not None:
        raise CourseError(f"{where}: the region opened on line {start + 1} is never closed.")


def strip_solution(source: str, exercise_id: str | None, where: str = "cell") -> str:
    """Replace every solution region by a NotImplementedError line at the same indentation."""
    lines = source.split("\n")
    message = f"{exercise_id}: write your code here" if exercise_id else "write your code here"
    out, last = [], 0
    for start, stop in list(_regions(lines, BEGIN_SOLUTION, END_SOLUTION, where)):
        indent = BEGIN_SOLUTION.match(lines[start])["indent"]
        out += lines[last:start] + [f'{indent}raise NotImplementedError("{message}")']
        last = stop + 1
    return "\n".join(out + lines[last:])


def strip_hidden(source: str, where: str = "cell") -> str:
    """Remove `### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS` regions, markers included."""
    lines = source.split("\n")
    keep = [True] * len(lines)
    for start, stop in list(_regions(lines, BEGIN_HIDDEN, END_HIDDEN, where)):
        keep[start: stop + 1] = [False] * (stop + 1 - start)
    return "\n".join(line for line, k in zip(lines, keep, strict=True) if k).strip("\n")


def replace_solution(source: str, replacement: str) -> str:
    """The cell with its (single) solution region's body replaced: used to grade mutants.

        >>> cell = "def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION"
        >>> replace_solution(cell, "return 2")
        'def f():\\n    return 2'
    """
    lines = source.split("\n")
    regions = list(_regions(lines, BEGIN_SOLUTION, END_SOLUTION, "cell"))
    if len(regions) != 1:
        raise ValueError(f"expected one solution region, found {len(regions)}")
    start, stop = regions[0]
    indent = BEGIN_SOLUTION.match(lines[start])["indent"]
    body = [indent + line if line.strip() else "" for line in replacement.strip("\n").split("\n")]
    return "\n".join(lines[:start] + body + lines[stop + 1:])


def hints_markdown(exercise_id: str) -> str | None:
    """A collapsed markdown cell with the exercise's hints (None if it has none)."""
    hints = get_exercise(exercise_id).hints
    if not hints:
        return None
    items = "\n".join(f"{i}. {h}" for i, h in enumerate(hints, 1))
    return (f"<details><summary>💡 Hints for {exercise_id} (click to open; or run "
            f"<code>hint(\"{exercise_id}\")</code> for one at a time)</summary>\n\n"
            f"{items}\n\n</details>")


def _code_cell(cell_id: str, source: str, metadata: dict) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id,
            "metadata": metadata, "outputs": [], "source": _lines(source)}


def _lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def _clean_metadata(cell: dict) -> dict:
    """Keep only tags: execution timings, collapsed/scrolled states and Colab ids go."""
    tags = cell.get("metadata", {}).get("tags")
    return {"tags": list(tags)} if tags else {}


def _checked_exercise_id(cell: dict, where: str) -> str | None:
    """The exercise a solution cell answers, for an author: a line that means to name one
    must, and the exercise it names must have a check (else the error is a learner's)."""
    ex_id = exercise_id_of(cell)
    first = cell_source(cell).strip().split("\n", 1)[0].strip()
    if ex_id is None and cell.get("cell_type") == "code" and LOOKS_LIKE_EXERCISE.match(first):
        raise CourseError(f"{where}: {first!r} is not an exercise line; write it as "
                          f"'# exercise: ex03_1' (the lesson in two digits, then the number).")
    if ex_id is None:
        return None
    checks = Path("course_lib", "grading", "checks", f"lesson{ex_id[2:4]}.py")
    try:
        exercise = get_exercise(ex_id)
    except CourseError:
        raise CourseError(
            f"{where}: exercise {ex_id} has no check; register one in {checks} with "
            f"@exercise(\"{ex_id}\", title=..., hints=[...]), as course_lib/grading/"
            f"__init__.py shows.") from None
    # The grader passes the check what the cell defines, by the check's parameter names: a
    # name the cell never mentions would fail every learner (and the solution) when graded.
    unnamed = [n for n in exercise.needs if not re.search(rf"\b{n}\b", cell_source(cell))]
    if unnamed:
        raise CourseError(
            f"{where}: the check of {ex_id} in {checks} takes {', '.join(unnamed)}, "
            f"which the cell never defines; rename the check's parameters to the names the "
            f"cell defines (the grader passes the learner's objects by those names).")
    return ex_id


def make_exercise_notebook(solution: Notebook, name: str = "notebook") -> Notebook:
    """The exercise version of a solution notebook (a new dict; `solution` is untouched)."""
    cells = []
    for index, cell in enumerate(solution["cells"]):
        # nbformat 4.5 wants an id on every cell; the solution's own is kept when it has one.
        cell_id = str(cell.get("id") or f"cell-{index}")
        where = f"{name}, cell {index + 1}"
        source = cell_source(cell)
        if cell.get("cell_type") != "code":
            cells.append({"cell_type": cell["cell_type"], "id": cell_id,
                          "metadata": _clean_metadata(cell), "source": _lines(source),
                          **({"attachments": copy.deepcopy(cell["attachments"])}
                             if cell.get("attachments") else {})})
            continue
        ex_id = _checked_exercise_id(cell, where)
        source = strip_solution(strip_hidden(source, where), ex_id, where)
        if not source.strip():
            continue  # the cell held only hidden tests
        cells.append(_code_cell(cell_id, source, _clean_metadata(cell)))
        # The hints in a cell of their own, right under the exercise they help with.
        hints = hints_markdown(ex_id) if ex_id else None
        if hints:
            cells.append({"cell_type": "markdown", "id": f"hints-{ex_id}", "metadata": {},
                          "source": _lines(hints)})
    metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "course": {"generated": GENERATED_NOTE},
    }
    nb = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    # Hashed as written, so make-exercises can tell later whether a learner edited it.
    metadata["course"]["generated_sha256"] = content_hash(nb)
    return nb


def content_hash(nb: Notebook) -> str:
    """A hash of what a learner edits (cell types and sources), not outputs or metadata:
    running cells does not count as editing, changing a line does."""
    parts = [[c.get("cell_type"), cell_source(c)] for c in nb.get("cells", [])]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def dumps(nb: Notebook) -> str:
    """Serialise the way Jupyter does (indent 1, sorted keys), so saving causes no diff."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generated_texts(solutions: Path) -> dict[str, str]:
    """{notebook file name: exercise notebook text} for every solution notebook."""
    if not Path(solutions).is_dir():
        raise with_advice(f"No solutions folder at {solutions}; run this from the course's "
                          f"root folder, or {{fix}}.", "give the folder of the solution notebooks",
                          "pass --solutions FOLDER")
    paths = sorted(Path(solutions).glob("*.ipynb"))
    return {p.name: dumps(make_exercise_notebook(read_notebook(p), p.name)) for p in paths}


def edit_state(path: Path, text: str) -> str:
    """Whether the notebook at `path` still has the cells `make-exercises` wrote there
    ("unedited"), was edited but handed out with the same cells as the new `text` (edited,
    "nothing newer" to offer), or was edited and the course has newer cells ("edited"; an
    unreadable notebook too). The notebook is read once."""
    try:
        nb = read_notebook(path)
    except CourseError:
        return "edited"
    stored = handed_out(nb)
    if stored is not None and stored == content_hash(nb):
        return "unedited"
    return "nothing newer" if stored == handed_out(json.loads(text)) else "edited"


def handed_out(nb: Notebook) -> str | None:
    """The hash of the cells `make-exercises` wrote in this notebook (None if it says none)."""
    return nb.get("metadata", {}).get("course", {}).get("generated_sha256")


@dataclass
class WriteOutcome:
    """What `write_exercises` did to one notebook."""

    name: str
    # 'created', 'updated', 'unchanged', 'edited by you, nothing newer', 'kept (edited; ...)',
    # 'replaced (backup: ...)'
    action: str
    backup: Path | None = None


def write_exercises(solutions: Path, exercises: Path, force: bool = False) -> list[WriteOutcome]:
    """Generate every exercise notebook; never overwrite a learner's edits unless `force`
    (and then keep a backup `name.ipynb.bak-<timestamp>` first)."""
    texts = generated_texts(solutions)
    Path(exercises).mkdir(parents=True, exist_ok=True)
    outcomes = []
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for name, text in texts.items():
        target = Path(exercises) / name
        if not target.exists():
            target.write_text(text, encoding="utf-8")
            outcomes.append(WriteOutcome(name, "created"))
        elif target.read_text(encoding="utf-8", errors="replace") == text:
            outcomes.append(WriteOutcome(name, "unchanged"))
        elif (state := edit_state(target, text)) == "unedited":
            target.write_text(text, encoding="utf-8")
            outcomes.append(WriteOutcome(name, "updated"))
        elif not force and state == "nothing newer":  # not said as kept on every run
            outcomes.append(WriteOutcome(name, "edited by you, nothing newer"))
        elif not force:
            outcomes.append(WriteOutcome(name, "kept (edited; the newer version is not written)"))
        else:
            backup = _free_path(target.with_name(f"{name}.bak-{stamp}"))
            shutil.copy2(target, backup)
            target.write_text(text, encoding="utf-8")
            outcomes.append(WriteOutcome(name, f"replaced (backup: {backup.name})", backup))
    return outcomes


def _free_path(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}-{n}"), n + 1
    return candidate
