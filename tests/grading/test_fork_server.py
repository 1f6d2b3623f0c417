"""The fork server (course_lib/grading/fork_server.py): exercises forked from one already-
imported Python keep a fresh worker's isolation; without fork, a fresh Python each, said."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from grading_support import RIGHT_FORMAT_RECORD, SOLUTIONS

from course_lib.cli import main
from course_lib.grading.notebook import read_notebook
from course_lib.grading.result import FAILED, PASSED, TIMEOUT
from course_lib.grading.runner import Graders, grade_folder

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this system")



def _learner(tmp_path: Path, cells: dict[str, str], name: str = "learner") -> Path:
    """Lesson 02's solutions with some exercise cells' code put before the solution's."""
    folder = tmp_path / name
    folder.mkdir()
    nb = read_notebook(SOLUTIONS / "02_instruction_data.ipynb")
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        for ex_id, code in cells.items():
            if source.startswith(f"# exercise: {ex_id}\n"):
                cell["source"] = f"# exercise: {ex_id}\n{code}\n{source.split(chr(10), 1)[1]}"
    (folder / "02_instruction_data.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    return folder


def test_two_exercises_forked_from_one_zygote_share_no_state(tmp_path):
    folder = _learner(tmp_path, {
        "ex02_1": "import builtins, torch\nbuiltins.SHARED = 'ex02_1'\ntorch.ones = None",
        "ex02_2": "import builtins, torch\n"
                  "assert not hasattr(builtins, 'SHARED') and torch.ones is not None, 'shared'",
    })
    with Graders() as graders:
        report = grade_folder(folder, ["ex02_1", "ex02_2"], workers=1, graders=graders)
        assert len(graders.started) == 1  # both through the same zygote, one after the other
    assert [r.status for r in report.results] == [PASSED, PASSED], report.results[1].message


def test_a_cell_that_kills_its_zygote_fails_and_the_next_exercise_is_still_graded(tmp_path):
    folder = _learner(tmp_path, {"ex02_1": "import os, signal\n"
                                           "os.kill(os.getppid(), signal.SIGKILL)"})
    with Graders() as graders:
        report = grade_folder(folder, ["ex02_1", "ex02_2"], workers=1, graders=graders)
        # Graded again through a second zygote, which it killed too; the next got a third.
        assert len(graders.started) == 3
    killer, next_one = report.results
    assert killer.status == FAILED and "ended the process that started it" in killer.message
    assert next_one.status == PASSED
    assert report.notes == []  # the cell's doing, not the grader's


def _kill_the_first_zygote_while_it_grades(graders: Graders) -> None:
    """SIGKILL the first zygote once its child grades, as the out-of-memory killer would."""
    deadline = time.monotonic() + 60
    while not (graders.started and graders.started[0].child) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(graders.started[0].proc.pid, signal.SIGKILL)


def test_a_zygote_killed_from_outside_is_said_and_its_exercise_graded_again(tmp_path):
    folder = _learner(tmp_path, {
        "ex02_1": "import time\ntime.sleep(2)",  # then the solution: it passes
        "ex02_2": "import os\nos._exit(3)",  # a learner's own crashes are said as before
        "ex02_3": "import ctypes\nctypes.string_at(0)",
    })
    with Graders() as graders:
        killer = threading.Thread(target=_kill_the_first_zygote_while_it_grades, args=(graders,))
        killer.start()
        report = grade_folder(folder, ["ex02_1", "ex02_2", "ex02_3"], workers=1, graders=graders)
        killer.join()
        assert len(graders.started) == 2  # the second graded ex02_1 again, and the rest
    stopped, exited, crashed = report.results
    assert stopped.status == PASSED, stopped.message
    assert report.notes == [
        "ex02_1 (02_instruction_data.ipynb): the grader itself stopped while grading it (its "
        "fork server was killed, signal 9), not your code; the exercise was graded again from "
        "the start."]
    assert exited.message == ("your code ended the grading process (exit code 3); a function "
                              "should return, not call os._exit().")
    assert crashed.message.startswith("the grading process was killed (signal 11): your code "
                                      "may use too much memory or crash Python")


def test_a_timeout_through_the_zygote_kills_the_processes_the_cell_started(tmp_path):
    alive = tmp_path / "alive"
    child = f"import time, pathlib; time.sleep(3); pathlib.Path({str(alive)!r}).write_text('1')"
    folder = _learner(tmp_path, {"ex02_1": f"import subprocess, sys\n"
                                           f"subprocess.Popen([sys.executable, '-c', {child!r}])\n"
                                           f"while True:\n    pass"})
    start = time.perf_counter()
    (result,) = grade_folder(folder, ["ex02_1"], timeout=2).results
    assert result.status == TIMEOUT and "more than 2 s" in result.message
    time.sleep(max(0.0, start + 8 - time.perf_counter()))  # the child would have written
    assert not alive.exists(), "a process the learner's cell started outlived its timeout"


def test_no_zygote_or_child_is_left_once_a_class_is_graded(tmp_path, capsys):
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    folders = [_learner(tmp_path, {"ex02_1": RIGHT_FORMAT_RECORD}, name)
               for name in ("alice", "bob")]
    assert main(["grade", *map(str, folders), "-e", "ex02_1", "-e", "ex02_2"]) == 0
    assert "note:" not in capsys.readouterr().out  # forked: nothing to say
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert left == []


def test_without_fork_each_exercise_starts_a_fresh_python_and_the_report_says_so(
        tmp_path, monkeypatch, capsys):
    monkeypatch.delattr(os, "fork")
    folder = _learner(tmp_path, {})
    assert main(["grade", str(folder), "-e", "ex02_1"]) == 0
    out = capsys.readouterr().out
    assert "note: each exercise starts a fresh Python here (no fork on " in out
    assert " s an exercise." in out and "1/1 (100%)" in out
    other = _learner(tmp_path, {}, "bob")  # a class: said once, not once a learner
    assert main(["grade", str(folder), str(other), "-e", "ex02_1"]) == 0
    assert capsys.readouterr().out.count("each exercise starts a fresh Python here") == 1


def test_off_linux_each_exercise_starts_a_fresh_python_and_the_report_says_why(
        tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")  # fork works there, but is not trusted
    report = grade_folder(_learner(tmp_path, {}), ["ex02_1"])
    assert [r.status for r in report.results] == [PASSED]
    (note,) = report.notes
    assert note.startswith("each exercise starts a fresh Python here (the fork server is used "
                           "on Linux only, not on "), note


def test_a_zygote_that_cannot_import_torch_leaves_grading_to_a_fresh_python(
        tmp_path, monkeypatch):
    # A torch that cannot be imported, found first (lesson 02's exercises do not import it).
    (tmp_path / "broken" / "torch").mkdir(parents=True)
    (tmp_path / "broken" / "torch" / "__init__.py").write_text("raise ImportError('no torch')")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "broken"))
    report = grade_folder(_learner(tmp_path, {}), ["ex02_1", "ex02_2"])
    assert [r.status for r in report.results] == [PASSED, PASSED]
    (note,) = report.notes
    assert note.startswith("each exercise starts a fresh Python here (the fork server could "
                           "not start: ImportError: no torch): about "), note
