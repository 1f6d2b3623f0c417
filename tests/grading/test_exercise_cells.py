"""Reading notebooks: which cell is which exercise, in solutions/ and in a learner's folder."""

import shutil

import pytest
from grading_support import EXERCISES, SOLUTIONS

from course_lib.errors import CourseError
from course_lib.grading.notebook import exercise_cells, find_exercises, read_notebook


def test_every_solution_exercise_is_followed_by_its_check_cell():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        sources = ["".join(c["source"]) for c in read_notebook(path)["cells"]]
        for ex_id in exercise_cells(path):
            at = next(i for i, s in enumerate(sources) if s.startswith(f"# exercise: {ex_id}"))
            assert any(f'check("{ex_id}")' in s for s in sources[at + 1:]), f"{path}: {ex_id}"


def test_jupyter_copies_and_broken_notebooks_do_not_confuse_the_grader(tmp_path):
    shutil.copy(SOLUTIONS / "03_loss_masking.ipynb", tmp_path / "03_loss_masking-Copy1.ipynb")
    shutil.copy(EXERCISES / "03_loss_masking.ipynb", tmp_path / "03_loss_masking.ipynb")
    (tmp_path / "02_instruction_data.ipynb").write_text("{ not json")
    found = find_exercises(tmp_path)
    # the broken notebook's exercises are missing
    assert set(found) == set(exercise_cells(SOLUTIONS / "03_loss_masking.ipynb"))
    assert found["ex03_1"].notebook.name == "03_loss_masking.ipynb"  # the original, not the copy


def test_a_folder_without_notebooks_is_one_error_not_every_exercise_missing(tmp_path):
    (tmp_path / "notes.txt").write_text("not a notebook")
    with pytest.raises(CourseError, match=r"No notebooks \(\.ipynb\) in .*course grade exercises"):
        find_exercises(tmp_path)
