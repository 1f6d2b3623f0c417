"""Reading notebooks: which cell is which exercise, in solutions/ and in a learner's folder."""

import os
import shutil
import zipfile

import pytest
from grading_support import EXERCISES, SOLUTIONS

from course_lib.errors import CourseError
from course_lib.grading.notebook import NoNotebooks, exercise_cells, find_exercises, read_notebook
from course_lib.grading.runner import _missing_message, choose_cells


def test_every_solution_exercise_is_followed_by_its_check_cell():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        sources = ["".join(c["source"]) for c in read_notebook(path)["cells"]]
        for ex_id in exercise_cells(path):
            at = next(i for i, s in enumerate(sources) if s.startswith(f"# exercise: {ex_id}"))
            assert any(f'check("{ex_id}")' in s for s in sources[at + 1:]), f"{path}: {ex_id}"


def _copies(tmp_path, original, copy):
    """03_loss_masking.ipynb from `original`, its Jupyter copy from `copy` (folders)."""
    shutil.copy(original / "03_loss_masking.ipynb", tmp_path / "03_loss_masking.ipynb")
    shutil.copy(copy / "03_loss_masking.ipynb", tmp_path / "03_loss_masking-Copy1.ipynb")


def test_the_copy_a_learner_worked_in_is_graded_and_the_report_says_so(tmp_path):
    _copies(tmp_path, EXERCISES, SOLUTIONS)  # the work is in Jupyter's Duplicate
    (tmp_path / "02_instruction_data.ipynb").write_text("{ not json")
    found = find_exercises(tmp_path)
    chosen, notes = choose_cells(found, ["ex03_1", "ex02_1"])
    assert chosen["ex03_1"].notebook.name == "03_loss_masking-Copy1.ipynb"
    assert "ex03_1 is in 2 notebooks: graded 03_loss_masking-Copy1.ipynb (the one you edited), " \
           "not 03_loss_masking.ipynb." in notes
    # the broken notebook is named, and so is why its exercises are missing
    assert "ex02_1" not in chosen and list(found.unreadable) == ["02_instruction_data.ipynb"]
    assert any(n.startswith("02_instruction_data.ipynb: ") and "not a readable notebook" in n
               for n in notes)
    assert "(02_instruction_data.ipynb could not)" in _missing_message("ex02_1", tmp_path, found)


def test_a_half_saved_notebook_is_sent_to_jupyters_checkpoint_of_it_when_there_is_one(tmp_path):
    # The course's repository holds a blank copy: the learner's work is in the checkpoint.
    broken = tmp_path / "03_loss_masking.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(CourseError, match=r"repository \(a learner's hand-in: ask them for it"):
        read_notebook(broken)
    checkpoint = tmp_path / ".ipynb_checkpoints" / "03_loss_masking-checkpoint.ipynb"
    checkpoint.parent.mkdir()
    shutil.copy(EXERCISES / "03_loss_masking.ipynb", checkpoint)
    with pytest.raises(CourseError) as err:
        read_notebook(broken)
    assert str(err.value).endswith(f"; Jupyter's last checkpoint of it is {checkpoint}: copy "
                                   f"that over it.")


def test_the_exercises_of_one_copy_are_one_note_not_one_each(tmp_path):
    # A class of learners who each duplicated lesson 03 got six notes each above the table.
    _copies(tmp_path, EXERCISES, SOLUTIONS)
    ids = list(exercise_cells(SOLUTIONS / "03_loss_masking.ipynb"))
    _, notes = choose_cells(find_exercises(tmp_path), ids)
    assert len(ids) > 2 and notes == [
        f"{', '.join(ids[:-1])} and {ids[-1]} are each in 2 notebooks: graded "
        f"03_loss_masking-Copy1.ipynb (the one you edited), not 03_loss_masking.ipynb."]


def test_a_hand_in_still_zipped_is_said_to_be_unpacked_not_missing(tmp_path):
    # `course grade submissions/*` takes frank.zip too: it said "No folder ...".
    hand_in = tmp_path / "frank.zip"
    with zipfile.ZipFile(hand_in, "w") as z:
        z.write(EXERCISES / "03_loss_masking.ipynb", "03_loss_masking.ipynb")
    with pytest.raises(CourseError) as err:
        find_exercises(hand_in)
    assert str(err.value) == (f"{hand_in} is a zip file, not a folder; unpack it into a folder "
                              f"of its own (e.g. unzip {hand_in} -d {tmp_path / 'frank'}) and "
                              f"grade that.")
    with pytest.raises(CourseError, match="^No folder "):
        find_exercises(tmp_path / "gone")


def test_copies_nobody_edited_grade_the_original_and_of_two_edited_the_last_saved(tmp_path):
    _copies(tmp_path, EXERCISES, EXERCISES)
    chosen, _ = choose_cells(find_exercises(tmp_path), ["ex03_1"])
    assert chosen["ex03_1"].notebook.name == "03_loss_masking.ipynb"
    _copies(tmp_path, SOLUTIONS, SOLUTIONS)
    os.utime(tmp_path / "03_loss_masking.ipynb", (2e9, 2e9))  # saved after the copy
    chosen, notes = choose_cells(find_exercises(tmp_path), ["ex03_1"])
    assert chosen["ex03_1"].notebook.name == "03_loss_masking.ipynb"
    assert "(the one saved last of those you edited)" in notes[0]


def test_a_folder_without_notebooks_is_one_error_not_every_exercise_missing(tmp_path):
    (tmp_path / "notes.txt").write_text("not a notebook")
    with pytest.raises(CourseError, match=r"No notebooks \(\.ipynb\) in .*course grade exercises"):
        find_exercises(tmp_path)
    (tmp_path / "work").mkdir()  # a learner's zip often unpacks one folder down
    shutil.copy(EXERCISES / "02_instruction_data.ipynb", tmp_path / "work")
    with pytest.raises(CourseError, match=r"one folder down, in .*work: give that folder"):
        find_exercises(tmp_path)


def test_a_learners_folder_without_notebooks_is_said_to_the_teacher_as_a_hand_in(tmp_path):
    with pytest.raises(NoNotebooks) as empty:
        find_exercises(tmp_path)
    assert empty.value.in_class == (f"no notebooks (.ipynb) in {tmp_path}: nothing handed in? "
                                    f"Put this learner's notebooks there and grade again.")
    for name in ("work.zip", "ex03.py", "a.txt", "b.txt"):  # handed in, but not as notebooks
        (tmp_path / name).write_text("")
    with pytest.raises(NoNotebooks) as others:
        find_exercises(tmp_path)
    assert others.value.in_class.endswith(f"in {tmp_path}, only a.txt, b.txt, ex03.py and 1 "
                                          f"more: put this learner's notebooks there and grade "
                                          f"again.")
    (tmp_path / "alice-work").mkdir()  # the learner's zip, unpacked one folder down
    shutil.copy(EXERCISES / "02_instruction_data.ipynb", tmp_path / "alice-work")
    with pytest.raises(NoNotebooks) as nested:
        find_exercises(tmp_path)
    assert nested.value.in_class == (f"no notebooks (.ipynb) in {tmp_path}; they are one "
                                     f"folder down, in {tmp_path / 'alice-work'}: move them up "
                                     f"into {tmp_path} and grade again.")
