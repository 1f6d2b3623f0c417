"""What the grading tests share: the course's folders and grading one cell in this process."""

from __future__ import annotations

from pathlib import Path

from course_lib.grading.evaluate import grade_cells
from course_lib.grading.notebook import ExerciseCell, find_exercises
from course_lib.grading.registry import get_exercise
from course_lib.grading.result import ExerciseResult

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

# A format_record that passes ex02_1.
RIGHT_FORMAT_RECORD = '''
def format_record(record):
    text = f"### Instruction: {record['instruction']}"
    if record.get("input"):
        text += f" ### Input: {record['input']}"
    return text + f" ### Response: {record['response']}"
'''


def solution_cell(exercise_id: str) -> ExerciseCell:
    """The exercise's cell in solutions/, with its notebook's setup cells."""
    return find_exercises(SOLUTIONS).cells[exercise_id][0]


def grade_source(exercise_id: str, source: str) -> ExerciseResult:
    """Grade a cell's source in this process, with the solution notebook's setup cells."""
    cell = solution_cell(exercise_id)
    return grade_cells(get_exercise(exercise_id), list(cell.setup), source)
