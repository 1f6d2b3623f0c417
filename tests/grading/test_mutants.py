"""Every check catches plausible wrong answers, and says what is wrong in the learner's terms;
and it passes right answers written another way than the solution.

The answers are functions in mutants/lessonNN.py; each one's body replaces the solution
region of its exercise's cell in solutions/ and is graded with the notebook's setup cells.
"""

import ast

import pytest
from grading_support import grade_source, solution_cell
from mutants import Mutant, all_mutants, all_right_answers

from course_lib.grading.make_exercises import replace_solution
from course_lib.grading.registry import all_exercises
from course_lib.grading.result import FAILED, PASSED

MUTANTS = all_mutants()
RIGHT = all_right_answers()


def signature(fn: ast.FunctionDef) -> tuple[str, str, str | None]:
    """Name, parameters (with annotations and defaults) and return annotation, as source."""
    return fn.name, ast.unparse(fn.args), fn.returns and ast.unparse(fn.returns)


def test_every_exercise_has_a_mutant():
    assert {ex.id for ex in all_exercises()} <= {m.exercise for m in MUTANTS}


def test_every_exercise_has_a_right_answer_written_another_way():
    assert {ex.id for ex in all_exercises()} <= {r.exercise for r in RIGHT}


def test_every_mutant_has_the_signature_of_its_solution():
    wrong = []
    for m in MUTANTS + RIGHT:
        cell = ast.parse(solution_cell(m.exercise).source)
        solution = next(n for n in cell.body if isinstance(n, ast.FunctionDef))
        mine = (m.name, *signature(m.definition())[1:])  # the name up to `__`
        if mine != signature(solution):
            wrong.append(f"{m.function.__name__} ({m.exercise}): {mine} != {signature(solution)}")
    assert not wrong, "a mutant must have its exercise's signature:\n" + "\n".join(wrong)


@pytest.mark.parametrize("m", MUTANTS, ids=[f"{m.exercise}-{m.what}" for m in MUTANTS])
def test_mutant_fails_with_a_message_in_the_learners_terms(m: Mutant):
    source = replace_solution(solution_cell(m.exercise).source, m.body())
    result = grade_source(m.exercise, source)
    assert result.status == FAILED, f"the check for {m.exercise} let '{m.what}' pass"
    assert m.phrase in result.message, result.message
    assert "Traceback" not in result.message


@pytest.mark.parametrize("r", RIGHT, ids=[f"{r.exercise}-{r.what}" for r in RIGHT])
def test_a_right_answer_written_another_way_passes(r: Mutant):
    source = replace_solution(solution_cell(r.exercise).source, r.body())
    result = grade_source(r.exercise, source)
    assert result.status == PASSED, f"{r.exercise}: '{r.what}' is right, but: {result.message}"
