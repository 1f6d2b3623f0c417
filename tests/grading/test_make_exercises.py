"""One source of truth: exercises/ is generated from solutions/ and never overwrites edits."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from grading_support import EXERCISES, SOLUTIONS, solution_cell

from course_lib.cli import main
from course_lib.errors import CourseError
from course_lib.grading.make_exercises import (
    generated_texts,
    strip_hidden,
    strip_solution,
    write_exercises,
)
from course_lib.grading.notebook import exercise_cells, read_notebook


def test_exercises_folder_is_up_to_date():
    expected = generated_texts(SOLUTIONS)
    for name, text in expected.items():
        path = EXERCISES / name
        assert path.exists(), f"{path} is missing: run `course make-exercises`"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is out of date with solutions/{name}: run `course make-exercises`")


def test_exercise_notebooks_hide_solutions_and_keep_signatures():
    for path in sorted(EXERCISES.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
        assert "HIDDEN TESTS" not in text
        for ex_id, cell in exercise_cells(path).items():
            solution = solution_cell(ex_id).source
            signature = next(line for line in solution.splitlines() if line.startswith("def "))
            assert signature in cell.source, f"{ex_id}: the signature line must stay"
            assert f'raise NotImplementedError("{ex_id}: write your code here")' in cell.source
            assert f"hints-{ex_id}" in text, f"{ex_id}: a hints cell follows the exercise"


def test_strip_solution_keeps_indentation_and_removes_hidden_tests():
    source = ("# exercise: ex03_1\ndef f(x):\n    y = 1\n"
              "    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
              "### BEGIN HIDDEN TESTS\nassert f(1) == 2\n### END HIDDEN TESTS")
    out = strip_solution(strip_hidden(source), "ex03_1")
    assert out == ('# exercise: ex03_1\ndef f(x):\n    y = 1\n'
                   '    raise NotImplementedError("ex03_1: write your code here")')


def test_the_stub_takes_the_indentation_of_its_solution_marker():
    source = ("# exercise: ex03_1\nclass A:\n    def f(self):\n        ### BEGIN SOLUTION\n"
              "        return 1\n        ### END SOLUTION\n### BEGIN SOLUTION\nx = 2\n"
              "### END SOLUTION")
    assert strip_solution(source, "ex03_1").split("\n")[3:] == [
        '        raise NotImplementedError("ex03_1: write your code here")',
        'raise NotImplementedError("ex03_1: write your code here")']


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",                                   # never closed
    "x = 1\n### END SOLUTION",                                     # never opened
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",    # nested
])
def test_unbalanced_markers_are_a_one_line_error(source):
    with pytest.raises(CourseError, match="region"):
        strip_solution(source, "ex01_1", where="03_x.ipynb, cell 4")


def test_make_exercises_keeps_edits_unless_forced_then_backs_up(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    args = ["make-exercises", "--solutions", str(solutions), "--out", str(exercises)]
    assert main(args) == 0
    n_notebooks = len(list(SOLUTIONS.glob("*.ipynb")))
    assert [o.action for o in write_exercises(solutions, exercises)] == ["unchanged"] * n_notebooks

    target = exercises / "03_loss_masking.ipynb"
    nb = read_notebook(target)
    cell = next(c for c in nb["cells"] if "# exercise: ex03_1" in "".join(c["source"]))
    cell["source"] = "# exercise: ex03_1\ndef build_labels(p, r, t):\n    return {}  # mine\n"
    edited = json.dumps(nb)
    target.write_text(edited)

    # The course has nothing newer for it: said in its row, not an error on every run.
    capsys.readouterr()
    assert main(args) == 0
    assert "03_loss_masking.ipynb          edited by you, nothing newer\n" in (
        capsys.readouterr().out)
    sol = solutions / "03_loss_masking.ipynb"
    sol.write_text(sol.read_text().replace("Exercises 03: loss", "Exercises 03: the loss"))
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert "03_loss_masking.ipynb          kept (edited; the newer version is not written)" in out
    assert "has edits of your own" in err  # and the command to copy names the same folder
    assert f"course make-exercises --out {exercises} --force" in err
    assert target.read_text() == edited, "an edited notebook must never be overwritten"

    assert main([*args, "--force"]) == 0
    backups = list(exercises.glob("03_loss_masking.ipynb.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == edited
    assert target.read_text() == generated_texts(solutions)["03_loss_masking.ipynb"]


def test_make_exercises_updates_an_unedited_notebook_when_the_solution_changes(tmp_path):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    write_exercises(solutions, exercises)
    # A learner who only ran the notebook (outputs, no source change) has not edited it.
    target = exercises / "02_instruction_data.ipynb"
    nb = read_notebook(target)
    nb["cells"][1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]
    target.write_text(json.dumps(nb))

    sol = solutions / "02_instruction_data.ipynb"
    sol.write_text(sol.read_text().replace("Turn raw records", "Turn raw JSON records"))
    actions = {o.name: o.action for o in write_exercises(solutions, exercises)}
    assert actions["02_instruction_data.ipynb"] == "updated"
    assert "Turn raw JSON records" in target.read_text()
    assert not list(exercises.glob("*.bak-*"))


def test_exercise_notebooks_load_their_model_on_the_cpu_on_any_runtime():
    """Learners make their tensors on the CPU (tokenizer(..., return_tensors="pt")); on a Colab
    GPU a model loaded on the default device would be on cuda, and their cells would fail."""
    loads = 0
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        for cell in read_notebook(path)["cells"]:
            for line in "".join(cell["source"]).splitlines():
                if "load_model_and_tokenizer(" in line and "import" not in line:
                    loads += 1
                    assert 'device="cpu"' in line, f"{path.name}: {line.strip()}"
    assert loads >= 1  # lesson 01's exercises load the embedded model


def test_forcing_again_in_the_same_second_keeps_every_earlier_backup(tmp_path, monkeypatch):
    from datetime import datetime

    from course_lib.grading import make_exercises

    class SameSecond(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5, tzinfo=tz)

    monkeypatch.setattr(make_exercises, "datetime", SameSecond)
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    write_exercises(solutions, exercises)
    target, edits = exercises / "03_loss_masking.ipynb", []
    for i in range(3):
        nb = read_notebook(target)
        nb["cells"][0]["source"] = f"my edit {i}"
        edits.append(json.dumps(nb))
        target.write_text(edits[-1])
        write_exercises(solutions, exercises, force=True)
    backups = sorted(exercises.glob("03_loss_masking.ipynb.bak-20260102-030405*"))
    assert sorted(b.read_text() for b in backups) == edits  # none written over another


def test_the_learners_own_copy_that_the_readmes_advise_is_ignored_by_git():
    """A pull stops at a tracked exercise with changes; the READMEs' way out is a copy of the
    learner's own that git ignores, made by the command they quote."""
    root = Path(__file__).resolve().parents[2]
    command = "course make-exercises --out my-exercises"
    for readme in ("README.md", "exercises/README.md"):
        assert command in (root / readme).read_text(encoding="utf-8"), readme
    ignored = subprocess.run(["git", "check-ignore", "-q", "my-exercises/03_loss_masking.ipynb"],
                             cwd=root, check=False)
    assert ignored.returncode == 0  # 1: git would track the learner's copy too


def _one_solution(tmp_path, first_line: str) -> list[str]:
    """make-exercises' arguments for a solutions folder whose one notebook has one exercise
    cell, headed by `first_line`."""
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    cell = {"cell_type": "code", "execution_count": None, "id": "c", "metadata": {},
            "outputs": [], "source": f"{first_line}\ndef f():\n    ### BEGIN SOLUTION\n"
                                     f"    return 1\n    ### END SOLUTION"}
    intro = {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# Exercises 02"}
    nb = {"cells": [intro, cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (solutions / "02_mine.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return ["make-exercises", "--solutions", str(solutions), "--out", str(tmp_path / "ex")]


def test_a_new_exercise_without_a_check_is_told_where_its_check_goes(tmp_path, capsys):
    """An author's new cell was told, as a learner would be, to fetch a fresh notebook, by
    `course make-exercises --out fresh`: the command that had just failed."""
    assert main(_one_solution(tmp_path, "# exercise: ex02_99")) == 2
    err = capsys.readouterr().err
    assert "02_mine.ipynb, cell 2: exercise ex02_99 has no check" in err
    assert str(Path("course_lib", "grading", "checks", "lesson02.py")) in err
    assert "fresh" not in err


def test_a_misspelt_exercise_line_is_an_error_not_a_plain_cell(tmp_path, capsys):
    """'# exercise: ex2_4' made a stub that no check, hint or grader ever found."""
    assert main(_one_solution(tmp_path, "# exercise: ex2_4")) == 2
    err = capsys.readouterr().err
    assert "02_mine.ipynb, cell 2: '# exercise: ex2_4' is not an exercise line" in err
    assert not (tmp_path / "ex").exists()


def test_a_check_that_takes_a_name_the_cell_never_defines_is_told_to_rename_it(tmp_path, capsys):
    """A check parameter named unlike the cell's function passed make-exercises; then grading
    the solutions said the cell was 'from an older version of the course'."""
    assert main(_one_solution(tmp_path, "# exercise: ex02_1")) == 2  # defines f, not format_record
    err = capsys.readouterr().err
    assert "02_mine.ipynb, cell 2: the check of ex02_1 in " in err
    assert "takes format_record, which the cell never defines; rename the check's" in err
    assert not (tmp_path / "ex").exists()
