"""check() and hint(): in the caller's namespace, inside the grader, and in a real kernel."""

import contextlib
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from grading_support import EXERCISES, ROOT, SOLUTIONS, solution_cell

from course_lib.grading import check, feedback, hint, run_check
from course_lib.grading.notebook import exercise_cells
from course_lib.grading.registry import all_exercises, get_exercise
from course_lib.grading.result import NOT_IMPLEMENTED


def test_check_grades_the_callers_namespace(capsys):
    namespace: dict = {}
    exec("from course_lib.grading import check\n"
         "def format_record(record):\n    return 'nope'\n"
         "check('ex02_1')", namespace)
    out = capsys.readouterr().out
    assert out.startswith("✗ ex02_1 failed:") and "the one-line template gives" in out

    exec(solution_cell("ex02_1").source + "\ncheck('ex02_1')", namespace)
    assert capsys.readouterr().out.startswith("✓ ex02_1 passed")


def test_check_agrees_with_the_grader_on_untouched_code():
    namespace: dict = {}
    untouched = exercise_cells(EXERCISES / "02_instruction_data.ipynb")["ex02_2"]
    exec(untouched.source, namespace)
    assert run_check("ex02_2", namespace).status == NOT_IMPLEMENTED


def test_check_does_nothing_inside_the_grader(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_GRADING", "1")
    check("ex02_1", namespace={})
    assert capsys.readouterr().out == ""


def test_a_mistyped_id_is_one_line_that_names_the_id_meant(capsys):
    check("ex3_1", namespace={})  # was a traceback through feedback.py and registry.py
    assert capsys.readouterr().out == (
        "✗ ex3_1 error: There is no exercise 'ex3_1'; did you mean 'ex03_1'?\n")
    hint("ex03_x")  # ex03_1 ... ex03_5 are all as close: no guess, the list instead
    out = capsys.readouterr().out
    assert "no exercise 'ex03_x'; known exercises: ex01_1" in out and "did you" not in out


def test_hint_reveals_one_more_hint_each_call(capsys):
    feedback._hints_shown.clear()
    hints = get_exercise("ex03_2").hints
    for n in range(1, len(hints) + 2):
        hint("ex03_2")
        out = capsys.readouterr().out
        assert out.count("Hint ") == min(n, len(hints))
    assert "last hint" in out


def test_hint_of_an_exercise_without_hints_says_so(capsys, monkeypatch):
    from course_lib.grading import registry

    registry.load_checks()
    monkeypatch.setitem(registry._REGISTRY, "ex99_1", registry.Exercise("ex99_1"))
    feedback._hints_shown.clear()
    hint("ex99_1")
    assert capsys.readouterr().out == ("ex99_1 has no hints: reread the exercise's "
                                       "description.\n")


def _run_in_kernel(path: Path, monkeypatch) -> list[str]:
    """Execute a notebook in a real Jupyter kernel; the HTML verdicts check() displayed."""
    import nbclient
    import nbformat

    pythonpath = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", pythonpath)
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    return [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code"
            for o in c.get("outputs", []) if "text/html" in o.get("data", {})]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in SOLUTIONS.glob("*.ipynb")))
def test_in_a_kernel_check_shows_green_for_solutions_and_red_for_exercises(name, monkeypatch):
    solved = _run_in_kernel(SOLUTIONS / name, monkeypatch)
    n = len(exercise_cells(SOLUTIONS / name))
    assert len(solved) == n and all("✓" in v and "passed" in v for v in solved), solved
    untouched = _run_in_kernel(EXERCISES / name, monkeypatch)
    assert len(untouched) == n and all("✗" in v and "not implemented" in v for v in untouched)
    assert all("<code" in v and "`" not in v for v in untouched), untouched


def test_the_not_implemented_verdict_is_one_sentence_with_code_shown_as_code(monkeypatch, capsys):
    namespace: dict = {}
    exec(exercise_cells(EXERCISES / "02_instruction_data.ipynb")["ex02_1"].source, namespace)
    result = run_check("ex02_1", namespace)
    feedback.show(result)  # in a terminal: plain text, no Markdown backticks
    assert capsys.readouterr().out == (
        "✗ ex02_1 not implemented: replace the raise NotImplementedError(...) line in the "
        "ex02_1 cell with your code.\n")
    shown = []
    monkeypatch.setattr("course_lib.display.in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    feedback.show(result)  # in a notebook: an HTML box, the code in <code>
    box = shown[0].data
    assert ">raise NotImplementedError(...)</code> line in the ex02_1 cell" in box
    assert "`" not in box and box.count("not implemented") == 1


def test_check_gives_an_exercise_that_trains_its_own_time_limit(monkeypatch):
    limits = []

    def record(seconds):
        limits.append(seconds)
        return contextlib.nullcontext()

    monkeypatch.setattr(feedback, "time_limit", record)
    run_check("ex04_3", namespace={})  # nothing defined: only the limit matters here
    run_check("ex02_1", namespace={})
    assert limits == [get_exercise("ex04_3").timeout, feedback.CHECK_TIMEOUT]
    assert limits[0] > feedback.CHECK_TIMEOUT


@pytest.mark.parametrize("exercise", [e.id for e in all_exercises()])
def test_check_leaves_the_learners_random_numbers_alone(exercise):
    # check() runs in the learner's kernel: a check that seeded torch's global generator made
    # every torch.randn after it (a demo cell run again, sampling) repeat the same numbers.
    def not_yet(*args, **kwargs):
        raise NotImplementedError

    torch.manual_seed(12345)
    before = torch.get_rng_state()
    run_check(exercise, {name: not_yet for name in get_exercise(exercise).needs})
    assert torch.equal(torch.get_rng_state(), before)


def test_in_a_kernel_a_name_the_cell_never_had_is_said_to_come_from_a_newer_course(
        monkeypatch):
    """Colab installs the newest course each session; a notebook saved last week ran its old
    cell: 'run the cell, and keep the name it defines' had it run the same cell again."""
    from course_lib.grading import registry

    def check_two(format_record, format_all):
        pass

    cell = solution_cell("ex02_1").source
    shell = SimpleNamespace(user_ns={}, history_manager=SimpleNamespace(
        input_hist_raw=["", cell, 'check("ex02_1")']))
    exec(cell, shell.user_ns)
    monkeypatch.setattr(feedback, "_shell", lambda: shell)
    monkeypatch.setitem(registry._REGISTRY, "ex02_1", registry.Exercise("ex02_1",
                                                                        checks=[check_two]))
    message = run_check("ex02_1", shell.user_ns).message
    assert message.startswith("`format_all` is not defined: the ex02_1 cell must define it, as "
                              "the cell handed out does (a notebook from an older version")


@pytest.mark.slow
def test_in_a_kernel_a_helper_from_another_cell_fails_on_the_second_run_all(tmp_path,
                                                                           monkeypatch):
    # Run All twice: the helper defined in a cell below the check was in the kernel the
    # second time, so check() turned green where `course grade` (setup + that cell) fails.
    import nbformat

    solution = solution_cell("ex06_2")
    cells = [solution.setup[0],
             "# exercise: ex06_1\ndef exact_match(prediction, reference):\n"
             "    return helper(prediction) == helper(reference)",
             'check("ex06_1")', solution.source, 'check("ex06_2")',
             "def helper(text):\n    text = ' '.join(text.lower().split()).strip(' .,!?;:\\'\"')\n"
             "    return NUMBER_WORDS.get(text, text)"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells * 2])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "twice.ipynb")
    verdicts = _run_in_kernel(tmp_path / "twice.ipynb", monkeypatch)
    assert len(verdicts) == 4
    first, helped, solved = verdicts[0], verdicts[2], [verdicts[1], verdicts[3]]
    for verdict in (first, helped):  # the grader's verdict, both times
        assert "✗" in verdict and "helper" in verdict and "inside the exercise cell" in verdict
    assert all("✓" in v for v in solved), solved
