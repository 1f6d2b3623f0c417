"""Verdicts in one process: solutions pass, untouched exercises are "not implemented",
and a crash, a missing name, a syntax error or a broken setup cell is named in the learner's
terms (the cell's line, never a traceback)."""

import io
import signal
import time
from pathlib import Path

import pytest
from grading_support import EXERCISES, grade_source, solution_cell

import course_lib
from course_lib.grading.evaluate import CheckTimeout, grade_cells, time_limit
from course_lib.grading.make_exercises import replace_solution
from course_lib.grading.notebook import exercise_cells, to_python
from course_lib.grading.registry import Exercise, all_exercises, get_exercise
from course_lib.grading.result import FAILED, NOT_IMPLEMENTED, PASSED


@pytest.mark.parametrize("exercise_id", [ex.id for ex in all_exercises()])
def test_solution_passes_and_untouched_exercise_is_not_implemented(exercise_id):
    assert grade_source(exercise_id, solution_cell(exercise_id).source).status == PASSED
    untouched = exercise_cells(EXERCISES / solution_cell(exercise_id).notebook.name)[exercise_id]
    result = grade_cells(get_exercise(exercise_id), list(untouched.setup), untouched.source)
    assert result.status == NOT_IMPLEMENTED
    assert result.message == (f"replace the `raise NotImplementedError(...)` line in the "
                              f"{exercise_id} cell with your code.")


def test_a_crash_in_learner_code_names_the_line_of_the_cell():
    source = replace_solution(solution_cell("ex03_1").source, "ratio = 1 / 0\nreturn ratio")
    result = grade_source("ex03_1", source)
    assert result.status == FAILED
    assert "ZeroDivisionError" in result.message
    assert "line 4 of the ex03_1 cell: `ratio = 1 / 0`" in result.message


def test_input_in_an_answer_is_told_that_nothing_can_type_while_it_is_graded(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # as in a grading process: no one types
    source = replace_solution(solution_cell("ex03_1").source, "n = int(input('n? '))\nreturn n")
    result = grade_source("ex03_1", source)
    assert result.status == FAILED and result.message == (
        "your code raised EOFError (line 4 of the ex03_1 cell: `n = int(input('n? '))`): input() "
        "has nothing to read while it is graded; take the value as a parameter instead.")


@pytest.mark.parametrize("body, suggestion", [
    ("return record['instruction'].uper()", "Did you mean: 'upper'?"),
    ("text = record['instruction']\nreturn txt", "Did you mean: 'text'?"),
])
def test_a_misspelt_name_keeps_pythons_own_suggestion(body, suggestion):
    """str(err) lacks Python's "Did you mean: 'eval_steps'?" (3.11 prints it only with the
    traceback): a learner with a typo was told the name is missing, not which one was meant."""
    result = grade_source("ex02_1", replace_solution(solution_cell("ex02_1").source, body))
    assert result.status == FAILED and result.message.endswith(f". {suggestion}"), result.message
    assert f"cell: `{body.split(chr(10))[-1]}`)" in result.message


def test_a_renamed_function_is_reported_as_missing():
    result = grade_source("ex02_1", "def format_text(record):\n    return ''")
    assert result.status == FAILED and "`format_record` is not defined" in result.message


def test_a_cell_from_an_older_version_of_the_exercise_is_told_where_the_new_one_is():
    """A newer course's check needs a name the learner's older cell never had: "run the cell,
    and keep the name it defines" sent them looking for a mistake of their own."""
    def check_two(format_record, format_all):
        pass

    newer = Exercise("ex02_1", checks=[check_two])
    cell = solution_cell("ex02_1")
    result = grade_cells(newer, list(cell.setup), cell.source)
    assert result.status == FAILED and result.message == (
        "`format_all` is not defined: the ex02_1 cell must define it, as the cell handed out "
        "does (a notebook from an older version of the course may not: copy the cell from a "
        "fresh copy of the notebook, from the course's repository or `course make-exercises "
        "--out fresh` in a clone, and move your code into it).")


def test_a_broken_setup_cell_is_an_error_not_the_learners_fault():
    result = grade_cells(get_exercise("ex02_1"), ["import course_lib.no_such_module"], "")
    assert result.status == "error" and "setup cell #1 failed" in result.message


def test_a_bug_in_the_check_itself_is_an_error_not_the_learners_fault():
    """A check with a name it never defined (a contributor's slip) told every learner "the
    check could not use what your code returned": each went looking for a mistake of theirs."""
    source = ("def check_buggy(format_record):\n"
              "    format_record({'instruction': 'Say hi', 'response': 'hi'})\n"
              "    return undefined_helper()\n")  # the bug
    checks = Path(course_lib.__file__).parent / "grading" / "checks" / "lesson02.py"
    namespace: dict = {}
    exec(compile(source, str(checks), "exec"), namespace)  # as if it were in the checks file
    check_buggy = namespace["check_buggy"]
    cell = solution_cell("ex02_1")
    result = grade_cells(Exercise("ex02_1", checks=[check_buggy]), list(cell.setup), cell.source)
    assert result.status == "error"
    assert result.message.startswith("the check of ex02_1 could not run its own code (NameError")
    assert "not a fault of your answer" in result.message


def test_a_syntax_error_is_reported_with_its_line():
    result = grade_source("ex02_1", "# exercise: ex02_1\ndef format_record(record)\n    return 1")
    assert result.status == FAILED and "syntax error on line 2" in result.message


def test_magics_do_not_break_grading_and_keep_line_numbers():
    source = replace_solution(solution_cell("ex02_1").source, "%time x = 1\nreturn undefined_name")
    result = grade_source("ex02_1", to_python("!pip list\n" + source))
    assert result.status == FAILED and "NameError" in result.message
    assert "line 6 of the ex02_1 cell: `return undefined_name`" in result.message
    # a helper left in another cell passes check() in the notebook but not `course grade`
    assert "`undefined_name` is not defined" in result.message
    assert "define it inside the exercise cell: the grader runs only" in result.message


def _loop(start: float, seconds: float) -> None:
    """A loop that never ends on its own (a learner's bug), in its own function as an exercise
    cell's code is: Python 3.13 lets an exception raised by a signal handler in a tight `while`
    condition pass every handler of that same function (CPython issue 130279)."""
    while time.perf_counter() - start < seconds:
        pass


def _spin(seconds: float) -> float:
    """How long _loop ran before the time limit stopped it."""
    start = time.perf_counter()
    with pytest.raises(CheckTimeout, match="more than 0.2 s"):
        with time_limit(0.2):
            _loop(start, seconds)
    return time.perf_counter() - start


def test_time_limit_stops_a_loop_that_never_ends():
    assert _spin(10) < 5


def test_time_limit_stops_it_where_there_is_no_sigalrm_too(monkeypatch):
    # Windows has no SIGALRM: check() there had no time limit at all, and hung in the loop.
    monkeypatch.delattr(signal, "SIGALRM")
    monkeypatch.delattr(signal, "setitimer")
    before = signal.getsignal(signal.SIGINT)
    assert _spin(10) < 5
    with time_limit(0.2):  # a block that ends in time leaves no interrupt behind it
        pass
    time.sleep(0.4)
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):  # the learner's own interrupt is still theirs
        with time_limit(5):
            signal.raise_signal(signal.SIGINT)
