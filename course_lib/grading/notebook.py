"""Read notebooks as plain JSON (no kernel, no nbformat import: both are slow) and find cells.

Cells are recognised by their first line, which a learner sees in Jupyter and Colab alike
(cell tags work too, but Colab has no editor for them):

    # exercise: ex03_1     the learner's answer to exercise ex03_1
    # setup                imports and data every exercise of this notebook needs

    >>> exercise_id_of({"cell_type": "code", "source": "# exercise: ex03_1\\ndef f(): ..."})
    'ex03_1'
    >>> to_python("%pip install x\\nprint(1)")
    'pass  # %pip install x\\nprint(1)'
"""

from __future__ import annotations

import ast
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course_lib.errors import CourseError, shell_word

EXERCISE_LINE = re.compile(r"^#\s*exercise:\s*(?P<id>ex\d{2}_\d+)\s*$")
SETUP_LINE = re.compile(r"^#\s*setup\b")
EXERCISE_TAG = re.compile(r"^exercise:(?P<id>ex\d{2}_\d+)$")

Notebook = dict[str, Any]
Cell = dict[str, Any]


def read_notebook(path: Path) -> Notebook:
    """The notebook as a dict; a CourseError (one sentence) if it is not a notebook."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"No notebook at {path}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CourseError(f"{path} is not a readable notebook ({err}); {_restore(path)}.") \
            from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise CourseError(f"{path} is not a Jupyter notebook (no list of cells).")
    return nb


def _restore(path: Path) -> str:
    """Where a good copy of a half-saved notebook is: Jupyter's last checkpoint of it (which
    holds the learner's work, where the course's repository has a blank copy), else a backup."""
    checkpoint = Path(path).parent / ".ipynb_checkpoints" / f"{Path(path).stem}-checkpoint.ipynb"
    if checkpoint.is_file():
        return f"Jupyter's last checkpoint of it is {checkpoint}: copy that over it"
    # A teacher grading a class has neither: the learner has the work, so ask them for it.
    return ("restore it from a backup or from the course's repository (a learner's hand-in: "
            "ask them for it again)")


def cell_source(cell: Cell) -> str:
    """A cell's source as one string (the file may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _first_line(cell: Cell) -> str:
    for line in cell_source(cell).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _tags(cell: Cell) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if isinstance(t, str)]


def exercise_id_of(cell: Cell) -> str | None:
    """The exercise a code cell answers ('ex03_1'), or None."""
    if cell.get("cell_type") != "code":
        return None
    m = EXERCISE_LINE.match(_first_line(cell))
    if m:
        return m["id"]
    for tag in _tags(cell):
        m = EXERCISE_TAG.match(tag)
        if m:
            return m["id"]
    return None


def is_setup(cell: Cell) -> bool:
    """True for the code cells every exercise of the notebook runs first."""
    return cell.get("cell_type") == "code" and (
        bool(SETUP_LINE.match(_first_line(cell))) or "setup" in _tags(cell)
    )


def to_python(source: str) -> str:
    """Make cell source plain Python: IPython magics and shell lines become `pass` (same line
    count, so error line numbers still match the cell)."""
    out = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}pass  # {stripped}")
        else:
            out.append(line)
    return "\n".join(out)


@dataclass(frozen=True)
class ExerciseCell:
    """Where an exercise's answer is, and what runs before it."""

    exercise: str
    notebook: Path
    source: str
    setup: tuple[str, ...]


def exercise_cells(path: Path) -> dict[str, ExerciseCell]:
    """Every exercise cell of one notebook, with the setup cells found above it."""
    nb = read_notebook(path)
    setup: list[str] = []
    found: dict[str, ExerciseCell] = {}
    for cell in nb["cells"]:
        if is_setup(cell):
            setup.append(to_python(cell_source(cell)))
            continue
        ex_id = exercise_id_of(cell)
        if ex_id and ex_id not in found:  # a duplicated cell: the first one counts
            source = to_python(cell_source(cell))
            found[ex_id] = ExerciseCell(ex_id, Path(path), source, tuple(setup))
    return found


def notebooks_in(folder: Path) -> list[Path]:
    """The notebooks of a folder, shortest name first: an original ('03_x.ipynb') is found
    before Jupyter's copies ('03_x-Copy1.ipynb')."""
    paths = [p for p in Path(folder).glob("*.ipynb") if p.is_file()]
    return sorted(paths, key=lambda p: (len(p.name), p.name))


@dataclass(frozen=True)
class FolderExercises:
    """What a folder's notebooks hold: every cell of each exercise (a Jupyter copy holds the
    same ones; shortest notebook name first) and the notebooks that could not be read."""

    cells: dict[str, list[ExerciseCell]]
    unreadable: dict[str, str]  # notebook file name -> why, in one sentence
    # function name -> the notebook whose cell defines it without an `# exercise:` first line
    unmarked: dict[str, str] = field(default_factory=dict)


class NoNotebooks(CourseError):
    """A folder without notebooks. `in_class` says it as a class's table does: there the
    folder is a learner's hand-in, so the teacher hears what it holds, not to give another."""

    def __init__(self, message: str, in_class: str):
        super().__init__(message)
        self.in_class = in_class


def _no_notebooks(folder: Path) -> NoNotebooks:
    """Why `folder` holds no notebook, and what to do: the folder they are in, if one down
    (a learner's zip often unpacks so), else where to put them."""
    inside = sorted({p.parent for p in folder.glob("*/*.ipynb")
                     if not p.parent.name.startswith(".")})  # not .ipynb_checkpoints
    if inside:
        where = f"notebooks (.ipynb) in {folder}; they are one folder down, in {inside[0]}"
        return NoNotebooks(f"No {where}: give that folder.",
                           f"no {where}: move them up into {folder} and grade again.")
    # What is there instead (a zip not unpacked, a notebook exported as .py), else nothing.
    files = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    more = f" and {len(files) - 3} more" if len(files) > 3 else ""
    held = f", only {', '.join(files[:3])}{more}: put" if files else ": nothing handed in? Put"
    return NoNotebooks(f"No notebooks (.ipynb) in {folder}; give the folder of exercise "
                       f"notebooks, e.g. `course grade exercises`.",
                       f"no notebooks (.ipynb) in {folder}{held} this learner's notebooks "
                       f"there and grade again.")


def _not_a_folder(path: Path) -> CourseError:
    """What to give instead of `path`: a learner's hand-in is often still a zip file."""
    if zipfile.is_zipfile(path):
        return CourseError(f"{path} is a zip file, not a folder; unpack it into a folder of its "
                           f"own (e.g. unzip {shell_word(str(path))} -d "
                           f"{shell_word(str(path.with_suffix('')))}) and grade that.")
    said = f"No folder {path}; give a folder of exercise notebooks, e.g. `course grade exercises`."
    if path.is_file():  # a class named by submissions/*: a stray file is no learner
        return NoNotebooks(said, f"{path} is a file, not a learner's folder; name the folders "
                                 f"only (`submissions/*/`, with its last /).")
    return CourseError(said)


def notebooks_to_grade(folder: Path) -> list[Path]:
    """The notebooks of `folder`, or the error that says what to give instead."""
    if not Path(folder).is_dir():
        raise _not_a_folder(Path(folder))
    notebooks = notebooks_in(folder)
    if not notebooks:  # else every exercise would be reported missing, one by one
        raise _no_notebooks(Path(folder))
    return notebooks


def find_exercises(folder: Path) -> FolderExercises:
    """Every exercise cell in a folder's notebooks, and why any notebook could not be read."""
    found = FolderExercises({}, {})
    for path in notebooks_to_grade(folder):
        try:
            cells = exercise_cells(path)
        except CourseError as err:  # said in the report; its exercises are then missing
            found.unreadable[path.name] = str(err)
            continue
        for ex_id, cell in cells.items():
            found.cells.setdefault(ex_id, []).append(cell)
        for name in unmarked_functions(read_notebook(path)):
            found.unmarked.setdefault(name, path.name)
    return found


def unmarked_functions(nb: Notebook) -> list[str]:
    """The functions defined at the top of code cells that are neither exercise nor setup
    cells: an answer whose `# exercise:` line was deleted, or moved below an import or a
    `%%time`, is not graded, and the missing exercise's message says where it is."""
    names = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code" or exercise_id_of(cell) or is_setup(cell):
            continue
        try:
            tree = ast.parse(to_python(cell_source(cell)))
        except SyntaxError:
            continue
        names += [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    return names
