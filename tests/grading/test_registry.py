"""The registry: every registered exercise has a solution cell, a title, hints and a check."""

import subprocess
import sys

import pytest
from grading_support import SOLUTIONS

from course_lib.cli import main
from course_lib.errors import CourseError
from course_lib.grading.checks import lesson03, lesson04, lesson05
from course_lib.grading.notebook import find_exercises
from course_lib.grading.registry import all_exercises
from course_lib.masking.labels import IGNORE_INDEX


def test_registry_and_solutions_agree():
    registered = {ex.id for ex in all_exercises()}
    in_solutions = set(find_exercises(SOLUTIONS).cells)
    assert not registered - in_solutions, (
        f"{sorted(registered - in_solutions)} have a check but no '# exercise: ID' cell in "
        f"solutions/ (CONTRIBUTING.md, 'Add an exercise')")
    assert not in_solutions - registered, (
        f"{sorted(in_solutions - registered)} have a cell in solutions/ but no check in "
        f"course_lib/grading/checks/")
    for ex in all_exercises():
        assert ex.title and len(ex.hints) >= 1, f"{ex.id} needs a title and hints"
        assert ex.checks and ex.needs, f"{ex.id} needs a check that takes the learner's names"


def test_unknown_exercise_is_a_one_line_error(capsys):
    assert main(["grade", str(SOLUTIONS), "-e", "ex99_9"]) == 2
    assert "There is no exercise 'ex99_9'" in capsys.readouterr().err


def test_grade_refuses_a_notebook_where_a_folder_or_report_goes_before_any_work(capsys, tmp_path):
    report = tmp_path / "report.ipynb"  # the table used to print, then a traceback
    assert main(["grade", str(SOLUTIONS), "--json", str(report)]) == 2
    assert "would overwrite a notebook; give a .json file" in capsys.readouterr().err
    assert main(["grade", str(SOLUTIONS / "02_instruction_data.ipynb")]) == 2
    assert f"is a notebook; give its folder: course grade {SOLUTIONS}" in capsys.readouterr().err


def test_the_checks_load_without_torch_so_they_repeat_its_constants():
    """Every grading process imports every check module: no torch, no matplotlib."""
    code = ("import sys; from course_lib.grading.registry import all_exercises; all_exercises(); "
            "print([m for m in ('torch', 'matplotlib') if m in sys.modules])")
    assert subprocess.check_output([sys.executable, "-c", code], text=True).strip() == "[]"
    assert lesson03.IGNORE == lesson04.IGNORE == lesson05.IGNORE == IGNORE_INDEX


def _only_these_exercises(monkeypatch, *ids):
    from course_lib.grading import registry

    monkeypatch.setattr(registry, "_REGISTRY", {i: registry.Exercise(i) for i in ids})
    monkeypatch.setattr(registry, "_LOADED", True)
    return registry


def test_an_unknown_id_suggests_one_id_only_when_it_is_close_and_alone(monkeypatch):
    registry = _only_these_exercises(monkeypatch, "ex03_1", "ex03_2", "ex12_2")
    with pytest.raises(CourseError, match=r"did you mean 'ex03_1'\?$"):
        registry.get_exercise("ex3_1")  # the lesson without its 0: 10 of 11 characters match
    # As close to ex03_1 as to ex03_2: naming one would be a guess; ab03_1x is close to
    # nothing (ratio < 0.75).
    with pytest.raises(CourseError) as raised:
        registry.get_exercise("ab03_1x")
    assert str(raised.value) == ("There is no exercise 'ab03_1x'; known exercises: ex03_1, "
                                 "ex03_2, ex12_2.")
    # A well-formed id: maybe a notebook of another course version (renamed or removed since).
    with pytest.raises(CourseError) as raised:
        registry.get_exercise("ex03_9")
    assert str(raised.value) == (
        "There is no exercise 'ex03_9' in this version of the course (a notebook of another "
        "version may name one renamed or removed since; a fresh copy of the notebook, from the "
        "course's repository or `course make-exercises --out fresh` in a clone, has this "
        "version's); known exercises: ex03_1, ex03_2, ex12_2.")


def test_exercise_ids_must_name_a_two_digit_lesson(monkeypatch):
    registry = _only_these_exercises(monkeypatch)
    for bad in ("ex3_1", "ex03-1", "lesson03_1", "ex03_"):
        with pytest.raises(ValueError, match="exercise ids look like 'ex03_1'"):
            registry.exercise(bad)
    assert registry._REGISTRY == {}


def test_exercises_are_listed_by_lesson_then_number_as_numbers(monkeypatch):
    registry = _only_these_exercises(monkeypatch, "ex10_1", "ex02_10", "ex02_2")
    assert [ex.id for ex in registry.all_exercises()] == ["ex02_2", "ex02_10", "ex10_1"]


def test_registering_a_check_twice_keeps_one_copy(monkeypatch):
    registry = _only_these_exercises(monkeypatch)

    def check_add(add):
        assert add(2, 3) == 5

    for _ in range(2):  # e.g. a notebook cell that defines the checks, run twice
        registry.exercise("ex99_1", title="Add")(check_add)
    assert registry.get_exercise("ex99_1").checks == [check_add]


def test_a_check_is_registered_in_its_own_lessons_module(monkeypatch):
    """A decorator copied from lesson03.py into lesson02.py, its id left as it was, added the
    new check to ex03_1 and replaced ex03_1's title and hints, without a word."""
    registry = _only_these_exercises(monkeypatch)

    def check_find_repeats(find_repeats):
        assert find_repeats([]) == []

    check_find_repeats.__module__ = "course_lib.grading.checks.lesson02"
    with pytest.raises(ValueError, match=r"register ex03_1's check in lesson03\.py, not in "
                                         r"course_lib\.grading\.checks\.lesson02"):
        registry.exercise("ex03_1", title="Find repeats")(check_find_repeats)
    assert registry._REGISTRY == {}
    registry.exercise("ex02_4", title="Find repeats")(check_find_repeats)
    assert registry.get_exercise("ex02_4").checks == [check_find_repeats]


def test_hints_given_as_one_string_are_refused(monkeypatch):
    """hints="Keep a set." gave eleven hints, one letter each, in the notebook and in hint()."""
    registry = _only_these_exercises(monkeypatch)
    with pytest.raises(ValueError, match=r"hints is a list of sentences, e\.g\. hints=\["):
        registry.exercise("ex02_4", hints="Keep a set.")
    registry.exercise("ex02_4", hints=("Keep a set.",))(lambda find_repeats: None)
    assert registry.get_exercise("ex02_4").hints == ["Keep a set."]
