"""The registry: every registered exercise has a solution cell, a title, hints and a check."""

from grading_support import SOLUTIONS

from course_lib.cli import main
from course_lib.grading.notebook import find_exercises
from course_lib.grading.registry import all_exercises


def test_registry_and_solutions_agree():
    registered = {ex.id for ex in all_exercises()}
    in_solutions = set(find_exercises(SOLUTIONS))
    assert registered == in_solutions, "every check needs a solution cell, and vice versa"
    for ex in all_exercises():
        assert ex.title and len(ex.hints) >= 1, f"{ex.id} needs a title and hints"
        assert ex.checks and ex.needs, f"{ex.id} needs a check that takes the learner's names"


def test_unknown_exercise_is_a_one_line_error(capsys):
    assert main(["grade", str(SOLUTIONS), "-e", "ex99_9"]) == 2
    assert "There is no exercise 'ex99_9'" in capsys.readouterr().err
