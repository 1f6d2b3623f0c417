"""The isolated grader (one process per exercise): scores, timeouts, crashes, huge output and
missing cells fail only their own exercise."""

import contextlib
import csv
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from grading_support import EXERCISES, SOLUTIONS

from course_lib.cli import main
from course_lib.grading.make_exercises import replace_solution
from course_lib.grading.notebook import ExerciseCell, exercise_cells, read_notebook
from course_lib.grading.registry import all_exercises
from course_lib.grading.result import FAILED, NOT_IMPLEMENTED, PASSED, TIMEOUT
from course_lib.grading.runner import grade_folder, untouched


def _learner_folder(tmp_path: Path, bodies: dict[str, str]) -> Path:
    """A copy of the solutions where some exercises' bodies are replaced (a learner's work)."""
    folder = tmp_path / "learner"
    shutil.copytree(SOLUTIONS, folder)
    for path in folder.glob("*.ipynb"):
        nb = read_notebook(path)
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            for ex_id, body in bodies.items():
                if source.startswith(f"# exercise: {ex_id}\n"):
                    cell["source"] = replace_solution(source, body)
        path.write_text(json.dumps(nb))
    return folder


@pytest.mark.slow
def test_grade_solutions_scores_100_percent(tmp_path, capsys):
    report = tmp_path / "out" / "report.json"
    assert main(["grade", str(SOLUTIONS), "--json", str(report), "--timeout", "240"]) == 0
    out, err = capsys.readouterr()
    n = len(all_exercises())
    assert f"Score: {n}/{n} (100%)" in out
    assert "grading: 100%" in err and f"| {n}/{n} [" in err  # a bar: a folder takes a minute
    data = json.loads(report.read_text())
    assert data["score"] == {"passed": n, "total": n, "percent": 100.0}
    assert all(e["status"] == PASSED and e["notebook"] for e in data["exercises"])


@pytest.mark.slow
def test_grade_untouched_exercises_scores_0_without_tracebacks(capsys):
    before = {p: p.read_bytes() for p in EXERCISES.glob("*.ipynb")}
    assert main(["grade", str(EXERCISES), "--timeout", "240"]) == 1
    out = capsys.readouterr().out
    n = len(all_exercises())
    assert f"Score: 0/{n} (0%)" in out
    assert out.count("not implemented  replace the raise NotImplementedError(...) line") == n
    assert "Traceback" not in out and "`" not in out
    assert before == {p: p.read_bytes() for p in EXERCISES.glob("*.ipynb")}, "grading wrote!"


@pytest.mark.slow
def test_an_infinite_loop_times_out_and_the_rest_still_pass(tmp_path):
    folder = _learner_folder(tmp_path, {"ex02_1": "while True:\n    pass"})
    start = time.perf_counter()
    report = grade_folder(folder, ["ex02_1", "ex02_2"], timeout=3)
    assert time.perf_counter() - start < 15
    by_id = {r.exercise: r for r in report.results}
    assert by_id["ex02_1"].status == TIMEOUT and "more than 3 s" in by_id["ex02_1"].message
    assert by_id["ex02_2"].status == PASSED


@pytest.mark.slow
def test_exit_crash_and_huge_output_fail_only_their_exercise(tmp_path):
    folder = _learner_folder(tmp_path, {
        "ex02_1": "while True:\n    print('spam ' * 1000)",   # a flood of output
        "ex02_2": "import sys\nsys.exit(0)",                   # leaves politely
        "ex03_1": "import os\nos._exit(3)",                    # kills its process
    })
    # Each exercise runs in its own process: the crashes' neighbours are all it needs.
    report = grade_folder(folder, ["ex02_1", "ex02_2", "ex03_1", "ex03_2"])
    by_id = {r.exercise: r for r in report.results}
    assert by_id["ex02_1"].status == FAILED and "printed too much" in by_id["ex02_1"].message
    assert len(by_id["ex02_1"].output) <= 2000
    assert by_id["ex02_2"].status == FAILED and "sys.exit()" in by_id["ex02_2"].message
    assert by_id["ex03_1"].status == FAILED and "exit code 3" in by_id["ex03_1"].message
    assert by_id["ex03_2"].status == PASSED
    assert not any("Traceback" in r.message for r in report.results)


@pytest.mark.slow
def test_a_missing_exercise_cell_fails_only_that_exercise(tmp_path):
    folder = tmp_path / "learner"
    folder.mkdir()
    shutil.copy(SOLUTIONS / "02_instruction_data.ipynb", folder)
    report = grade_folder(folder)
    by_id = {r.exercise: r for r in report.results}
    assert by_id["ex02_1"].passed and by_id["ex02_2"].passed
    assert "no cell starting with `# exercise: ex03_1`" in by_id["ex03_1"].message
    assert by_id["ex03_1"].status == "missing"  # not "error": nothing was wrong with a cell
    in_02 = len(exercise_cells(SOLUTIONS / "02_instruction_data.ipynb"))
    assert report.passed == in_02 and report.total == len(all_exercises())


@pytest.mark.parametrize("above", ["", "import math\n", "%%time\n"])
def test_an_answer_whose_exercise_line_was_deleted_or_moved_down_is_found_and_said(tmp_path,
                                                                                    above):
    """It was said "missing" with "copy it from a fresh set": the teacher's table counted a
    learner who wrote the answer as one who did not start it."""
    folder = tmp_path / "learner"
    folder.mkdir()
    nb = read_notebook(SOLUTIONS / "03_loss_masking.ipynb")
    for cell in nb["cells"]:
        if "".join(cell["source"]).startswith("# exercise: ex03_2\n"):
            cell["source"] = above + "".join(cell["source"]).split("\n", 1)[1]
    (folder / "03_loss_masking.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    report = grade_folder(folder, ["ex03_2"], workers=1)
    assert report.results[0].status == "missing"
    assert report.results[0].message == (
        f"no cell starting with `# exercise: ex03_2` in the notebooks of {folder}, but a cell of "
        f"03_loss_masking.ipynb defines `masked_loss`: make `# exercise: ex03_2` that cell's "
        f"first line.")
    assert report.notes == [
        "ex03_2 was not graded: a cell of 03_loss_masking.ipynb defines `masked_loss`, but that "
        "cell does not start with `# exercise: ex03_2`; make that its first line and grade again."]
    other = grade_folder(folder, ["ex02_1"], workers=1)  # no lesson 02: truly missing
    assert other.results[0].message.endswith("copy it from a fresh set: `course make-exercises "
                                             "--out fresh`.") and other.notes == []


def test_a_notebook_whose_setup_cell_was_deleted_is_named_in_a_note(tmp_path):
    """Its exercises ran without torch: a NameError that told the learner to define torch in
    the exercise cell, and nothing that told the teacher the setup cell was gone."""
    folder = tmp_path / "learner"
    folder.mkdir()
    nb = read_notebook(SOLUTIONS / "03_loss_masking.ipynb")
    nb["cells"] = [c for c in nb["cells"] if not "".join(c["source"]).startswith("# setup")]
    (folder / "03_loss_masking.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    report = grade_folder(folder, ["ex03_5"], workers=1)
    assert "`torch` is not defined" in report.results[0].message
    assert report.notes == [
        "03_loss_masking.ipynb has no cell starting with `# setup` above its exercise cells, so "
        "they ran without it (its imports and data): copy it back from a fresh set (`course "
        "make-exercises --out fresh`) as the notebook's first code cell."]
    kept = _learner_folder(tmp_path / "kept", {})  # its setup cell where it was
    assert grade_folder(kept, ["ex03_5"], workers=1).notes == []


def test_a_cell_of_an_exercise_this_course_no_longer_has_is_said_not_graded(tmp_path):
    """A notebook of an older course names an exercise renamed or removed since: its cell was
    passed over without a word, while the new id was only said to be missing."""
    folder = tmp_path / "learner"
    folder.mkdir()
    text = (EXERCISES / "03_loss_masking.ipynb").read_text(encoding="utf-8")
    (folder / "03_loss_masking.ipynb").write_text(
        text.replace("# exercise: ex03_2", "# exercise: ex03_9"), encoding="utf-8")
    report = grade_folder(folder, workers=1)
    assert report.notes == [
        "03_loss_masking.ipynb has a cell for ex03_9, which is not an exercise of this version "
        "of the course (renamed or removed since): not graded; `course make-exercises --out "
        "fresh` writes this version's notebooks."]
    assert grade_folder(folder, ["ex03_1"]).notes == []  # asked for one: the rest is not said


STUB = 'raise NotImplementedError("ex02_1: write your code here")'


@pytest.mark.parametrize("cell, shortcut", [
    (f"def format_record(record):\n    {STUB}", True),
    (f'def format_record(record):\n    """Doc."""\n    {STUB}', True),
    ("import os\ndef format_record(record):\n    raise NotImplementedError", True),
    (f"def format_record(record):\n    text = 'started'\n    {STUB}", False),  # begun
    (f"def format_record(record):\n    return 'x'\n    {STUB}", False),
    (f"def format_record(record):\n    {STUB}\nformat_record = str", False),  # rebound
    (f"def format_record(record):\n    {STUB}\nif True:\n    def format_record(r): ...", False),
    (f"@decorate\ndef format_record(record):\n    {STUB}", False),
    (f"def format_record(record)\n    {STUB}", False),  # a syntax error: the worker says where
])
def test_only_an_exercise_as_handed_out_is_graded_without_running(cell, shortcut):
    assert untouched(ExerciseCell("ex02_1", Path("02.ipynb"), cell, ())) is shortcut


@pytest.mark.slow
def test_a_begun_exercise_that_still_raises_is_run_and_said_not_implemented(tmp_path):
    folder = _learner_folder(tmp_path, {"ex02_1": "text = 'begun'\n" + STUB})
    start = time.perf_counter()
    result = grade_folder(folder, ["ex02_1"]).results[0]
    assert result.status == NOT_IMPLEMENTED and result.seconds > 0  # a worker ran it
    assert "replace the `raise NotImplementedError(...)` line" in result.message
    assert time.perf_counter() - start < 30


def test_a_class_is_graded_one_folder_per_learner_into_one_table_and_csv(tmp_path, capsys):
    for learner, folder_03 in (("alice", SOLUTIONS), ("bob", EXERCISES)):
        (tmp_path / learner).mkdir()
        shutil.copy(SOLUTIONS / "02_instruction_data.ipynb", tmp_path / learner)
        shutil.copy(folder_03 / "03_loss_masking.ipynb", tmp_path / learner)
    (tmp_path / "carol" / "work").mkdir(parents=True)  # unzipped one folder too deep
    table = tmp_path / "class.csv"
    folders = [str(tmp_path / name) for name in ("alice", "bob", "carol")]
    assert main(["grade", *folders, "-e", "ex02_1", "-e", "ex03_1", "--csv", str(table)]) == 1
    out, err = capsys.readouterr()
    assert "alice (1/3): 100%" in err and "bob (2/3): 100%" in err  # each learner's bar
    assert re.search(r"^alice +2/2 \(100%\)$", out, re.M) and re.search(r"^bob +1/2 ", out, re.M)
    assert re.search(r"^carol +not graded: no notebooks \(\.ipynb\) in .*carol, only work: "
                     r"put this learner's notebooks there", out, re.M)
    assert "hardest first (of 2 learners graded; 1 not graded, above):\n" in out
    assert "\nex03_1    1       0      1\nex02_1    2       0      0\n" in out
    assert "who got it wrong" not in out  # bob's ex03_1 is not started: no mistake to go over
    rows = list(csv.reader(table.open(encoding="utf-8-sig")))
    assert rows[0] == ["learner", "folder", "passed", "total", "note", "ex02_1", "ex03_1"]
    assert rows[1][:5] == ["alice", folders[0], "2", "2", ""] and rows[1][5:] == ["passed"] * 2
    assert rows[2][5:] == ["passed", "not implemented"]
    # Carol's reason sits in the note column, under no exercise.
    assert rows[3][4].startswith("not graded: ") and rows[3][5:] == []
    # Grading again does not replace the table without --force.
    assert main(["grade", *folders, "-e", "ex02_1", "--csv", str(table)]) == 2
    assert "Choose another --csv, or pass --force" in capsys.readouterr().err
    assert list(csv.reader(table.open(encoding="utf-8-sig"))) == rows
    # A class folder pattern the shell matched to nothing arrives as it was typed.
    assert main(["grade", str(tmp_path / "submissions" / "*"), "--csv", "x.csv"]) == 2
    assert "no folder matches" in capsys.readouterr().err and not Path("x.csv").exists()


def test_grading_a_class_again_names_both_reports_in_the_way_at_once(tmp_path, capsys):
    """It named class.json alone; once that was moved, a second run named class.csv."""
    reports = [tmp_path / "class.json", tmp_path / "class.csv"]
    for report in reports:
        report.write_text("kept", encoding="utf-8")
    argv = ["grade", str(tmp_path), "--json", str(reports[0]), "--csv", str(reports[1])]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: --json {reports[0]} and --csv {reports[1]} already exist; the course never "
        f"overwrites your files. Choose others, or pass --force to replace both.")
    reports[1].unlink()  # one in the way: said as before
    assert main(argv) == 2 and "Choose another --json" in capsys.readouterr().err
    assert reports[0].read_text(encoding="utf-8") == "kept"


def test_a_class_with_a_folder_that_cannot_be_graded_exits_1_even_if_the_others_pass(
        tmp_path, capsys):
    (tmp_path / "alice").mkdir()
    shutil.copy(SOLUTIONS / "02_instruction_data.ipynb", tmp_path / "alice")
    (tmp_path / "carol").mkdir()  # nothing handed in
    folders = [str(tmp_path / "alice"), str(tmp_path / "carol")]
    assert main(["grade", *folders, "-e", "ex02_1"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"^alice +1/1 \(100%\)$", out, re.M)
    assert re.search(r"^carol +not graded: no notebooks \(\.ipynb\) in .*carol: nothing "
                     r"handed in\? Put this learner's notebooks there and grade again\.$",
                     out, re.M)


def test_a_folder_that_cannot_be_graded_is_said_alone_without_a_grading_line(tmp_path,
                                                                           capsys):
    (tmp_path / "empty").mkdir()
    for folder, said in ((tmp_path / "gone", "No folder "),
                         (tmp_path / "empty", "No notebooks (.ipynb) in ")):
        assert main(["grade", str(folder)]) == 2
        err = capsys.readouterr().err
        # One line, the error: no "grading ... (2 at a time, ...)..." before it.
        assert err.startswith(f"error: {said}{folder}") and err.count("\n") == 1, err


def test_an_exercise_that_trains_gets_its_own_longer_time_limit(tmp_path):
    from course_lib.grading.registry import get_exercise

    # The learner's function fails at once; only the limit the worker runs under matters:
    # 1 s would stop the worker while it still imports torch.
    folder = _learner_folder(tmp_path, {"ex04_3": "raise ValueError('mine')"})
    assert get_exercise("ex04_3").timeout > 1
    result = grade_folder(folder, ["ex04_3"], timeout=1).results[0]
    assert result.status == FAILED and "more than" not in result.message


def test_the_score_line_rounds_the_percentage_to_the_nearest_whole(tmp_path):
    # (grading/report.py's own file is test_grading_report.py: a tests/grading/test_report.py
    # would share its module name with tests/evaluation/test_report.py)
    from course_lib.grading.report import score_line

    assert score_line(2, 3) == "Score: 2/3 (67%)"  # 66.7 %, not cut to 66
    assert score_line(1, 3, 4.0) == "Score: 1/3 (33%) in 4.0 s"
    assert score_line(0, 0) == "Score: 0/0 (0%)"


def test_the_json_report_is_never_written_over_a_notebook(tmp_path):
    from course_lib.grading.report import write_json

    notebook = tmp_path / "03_loss_masking.ipynb"
    notebook.write_text('{"cells": []}')
    with pytest.raises(ValueError, match="must not overwrite a notebook"):
        write_json({"score": 1}, notebook)
    assert notebook.read_text() == '{"cells": []}'
    write_json({"score": 1}, tmp_path / "sub" / "report.json")  # its folders are made
    assert json.loads((tmp_path / "sub" / "report.json").read_text()) == {"score": 1}


def test_an_exercise_whose_check_names_nothing_is_always_run(monkeypatch):
    # No name to look for: the shortcut cannot tell a stub from work, so the worker grades it.
    from course_lib.grading import registry

    def check_nothing():
        pass

    ex = registry.Exercise("ex99_1", checks=[check_nothing])
    monkeypatch.setitem(registry._REGISTRY, "ex99_1", ex)
    cell = ExerciseCell("ex99_1", Path("99.ipynb"), "def f():\n    raise NotImplementedError", ())
    assert ex.needs == () and untouched(cell) is False


def test_a_worker_that_exits_0_without_a_verdict_is_said_to_have_exited_not_been_killed():
    from collections import deque

    from course_lib.grading.runner import _crash_message

    assert _crash_message(0, deque([b"bye\n"])) == (
        "your code ended the grading process (exit code 0): bye; a function should return, "
        "not call os._exit().")
    assert _crash_message(-9, deque()) == (
        "the grading process was killed (signal 9): your code may use too much memory or "
        "crash Python.")


def test_a_worker_that_crashed_on_windows_is_said_to_have_crashed():
    # Windows gives no signal: a crash in C code ends the process with an NTSTATUS code.
    from collections import deque

    from course_lib.grading.runner import _crash_message

    assert _crash_message(0xC0000005, deque()) == (  # STATUS_ACCESS_VIOLATION
        "the grading process was killed (Windows status 0xC0000005): your code may use too "
        "much memory or crash Python.")


def test_course_grade_grades_as_many_at_once_as_course_workers_says(monkeypatch, capsys):
    # Exercises as handed out: said at once, without a process; only the count is looked at.
    grade = ["grade", str(EXERCISES), "-e", "ex02_1"]
    for env, flags, said in (("1", [], "1 at a time"), ("3", ["--workers", "2"], "2 at a time"),
                             ("", [], "2 at a time")):  # the flag wins; unset, 2
        monkeypatch.setenv("COURSE_WORKERS", env)
        assert main(grade + flags) == 1
        assert f"({said}, " in capsys.readouterr().err
    monkeypatch.setenv("COURSE_WORKERS", "two")
    assert main(grade) == 2
    assert capsys.readouterr().err.strip() == (
        "error: COURSE_WORKERS='two' is not a number of processes; set it to 1 or more, or "
        "unset it for 2 exercises graded at once.")
    with pytest.raises(SystemExit):
        main(["grade", "--help"])
    assert "$COURSE_WORKERS, else 2" in " ".join(capsys.readouterr().out.split())


def test_an_exercise_asked_for_twice_is_graded_once_without_an_empty_bar(capsys):
    # Was: two rows and "Score: 0/2", under a bar with no total: "grading: 0exercise [00:00,
    # ?exercise/s]" (the exercise as handed out is said at once, without a process).
    assert main(["grade", str(EXERCISES), "-e", "ex02_1", "-e", "ex02_1", "--workers", "1"]) == 1
    out, err = capsys.readouterr()
    assert "Score: 0/1 (0%)" in out and len(re.findall(r"^ex02_1 ", out, re.MULTILINE)) == 1
    assert err == f"grading {EXERCISES} (1 at a time, 30 s each at most)...\n"


def test_grade_folder_in_python_grades_as_many_at_once_as_course_workers_says(monkeypatch,
                                                                              tmp_path):
    # A teacher's script calls grade_folder: it read only its own default, 2, before.
    from course_lib.grading import runner

    folder = _learner_folder(tmp_path, {"ex02_1": "pass"})  # started: it is graded
    asked = []
    monkeypatch.setattr(runner, "_grade_all", lambda _g, _todo, workers, *_: asked.append(
        workers) or {})
    for env, given in (("1", {}), ("3", {}), ("", {}), ("3", {"workers": 2})):
        monkeypatch.setenv("COURSE_WORKERS", env)
        with contextlib.suppress(KeyError):  # no verdict from the stand-in: only the count
            grade_folder(folder, ["ex02_1"], **given)
    assert asked == [1, 3, 2, 2]


def test_a_lesson_named_with_e_grades_each_of_its_exercises(capsys):
    # A teacher grading the lesson handed out typed one -e per exercise: -e ex03 was refused.
    from course_lib.grading.registry import all_exercises

    lesson03 = [ex.id for ex in all_exercises() if ex.id.startswith("ex03_")]
    assert main(["grade", str(EXERCISES), "-e", "ex03", "-e", "ex03_1", "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert re.findall(r"^(ex\d\d_\d+) ", out, re.MULTILINE) == lesson03  # each once, in order
    assert f"Score: 0/{len(lesson03)} (0%)" in out
    assert main(["grade", str(EXERCISES), "-e", "ex09"]) == 2
    assert capsys.readouterr().err.startswith(
        "error: Lesson 09 has no exercises; the lessons with exercises are ex01, ex02, ")


def test_a_class_given_one_lesson_is_told_how_to_score_only_that_lesson(tmp_path, capsys):
    # Each learner was scored out of the whole course (19% for all of lesson 03), unexplained.
    for learner in ("alice", "bob"):
        (tmp_path / learner).mkdir()
        shutil.copy(EXERCISES / "03_loss_masking.ipynb", tmp_path / learner)
    assert main(["grade", str(tmp_path / "alice"), str(tmp_path / "bob")]) == 1
    others = ", ".join(f"ex0{k}" for k in (1, 2, 4, 5, 6, 7, 8))
    assert (f"note: no learner handed in the exercises of {others}, and each score counts "
            f"them; to score only what was handed in, grade again with -e ex03.\n"
            ) in capsys.readouterr().out
    assert main(["grade", str(tmp_path / "alice"), str(tmp_path / "bob"), "-e", "ex03"]) == 1
    assert "handed in" not in capsys.readouterr().out


def test_a_folder_named_twice_is_one_learner(tmp_path, capsys):
    # Was: two rows for alice, and the class's counts out of 2 learners.
    (tmp_path / "alice").mkdir()
    shutil.copy(EXERCISES / "02_instruction_data.ipynb", tmp_path / "alice")
    alice = str(tmp_path / "alice")
    assert main(["grade", alice, alice + "/", alice, "-e", "ex02_1"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith(f"note: {alice}/ is {alice}, named before it; it is graded once.\n"
                          f"note: {alice} is {alice}, named before it; it is graded once.\n")
    assert "Score: 0/1 (0%)" in out and "learner" not in out  # one folder: one learner's table


def test_a_class_stopped_with_ctrl_c_keeps_the_learners_graded_before(tmp_path, monkeypatch,
                                                                      capsys):
    # Was: 'interrupted: run the same command again.' and no file: 9 of 17 learners' work lost.
    from course_lib.grading import runner

    for learner in ("alice", "bob", "carol"):
        (tmp_path / learner).mkdir()
        shutil.copy(EXERCISES / "02_instruction_data.ipynb", tmp_path / learner)
    graded = runner.grade_folder

    def stopped_at_bob(folder, *args, **kwargs):
        if folder.name == "bob":
            raise KeyboardInterrupt
        return graded(folder, *args, **kwargs)

    monkeypatch.setattr(runner, "grade_folder", stopped_at_bob)
    table = tmp_path / "class.csv"
    folders = [str(tmp_path / name) for name in ("alice", "bob", "carol")]
    assert main(["grade", *folders, "-e", "ex02_1", "--csv", str(table)]) == 130
    out, err = capsys.readouterr()
    assert re.search(r"^alice +0/1 \(0%\)$", out, re.M)
    assert re.search(r"^carol +not graded: the grading was stopped \(Ctrl-C\) before", out, re.M)
    assert err.endswith("interrupted: the learners graded before the stop are in the table "
                        "above and its files; run the same command again with --force to grade "
                        "them all.\n")
    rows = list(csv.reader(table.open(encoding="utf-8-sig")))
    assert [row[0] for row in rows[1:]] == ["alice", "bob", "carol"]
    assert rows[1][5:] == ["not implemented"] and rows[2][4].startswith("not graded: the grading")


def test_a_class_says_its_limit_names_a_stray_file_and_shows_notes_without_backticks(
        tmp_path, capsys):
    folder = tmp_path / "mallory"
    folder.mkdir()
    nb = read_notebook(SOLUTIONS / "03_loss_masking.ipynb")
    nb["cells"] = [c for c in nb["cells"] if not "".join(c["source"]).startswith("# setup")]
    (folder / "03_loss_masking.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    stray = tmp_path / "grades.txt"  # matched by submissions/*, no learner
    stray.write_text("alice 10\n", encoding="utf-8")
    table = tmp_path / "class.csv"
    assert main(["grade", str(folder), str(stray), "-e", "ex03_5", "--workers", "1",
                 "--csv", str(table)]) == 1
    out, err = capsys.readouterr()
    assert f"grading {folder} (1/2, 30 s each at most)...\n" in err
    assert re.search(rf"^grades.txt +not graded: {re.escape(str(stray))} is a file, not a "
                     r"learner's folder; name the folders only \(submissions/\*/, with its last",
                     out, re.M)
    assert "note: mallory: 03_loss_masking.ipynb has no cell starting with # setup above" in out
    note = list(csv.reader(table.open(encoding="utf-8-sig")))[1][4]
    assert note.startswith("03_loss_masking.ipynb has no cell starting with # setup above")


def test_the_bar_names_the_exercise_that_runs_while_it_runs(capsys):
    # An endless loop held the bar still for its whole limit, with nothing that said which.
    from course_lib.grading import runner
    from course_lib.grading.result import ExerciseResult

    class Slow:  # a grader whose exercise takes a moment, as a loop until its limit does
        def grade(self, cell, timeout):
            time.sleep(0.2)
            return ExerciseResult(cell.exercise, TIMEOUT, "stopped")

    todo = [ExerciseCell("ex02_1", Path("02.ipynb"), "", ())]
    results = runner._grade_all(Slow(), todo, 1, 30.0, "alice")
    assert results["ex02_1"].status == TIMEOUT
    err = capsys.readouterr().err
    assert "alice:   0%" in err and "0/1 [" in err and ", running ex02_1]" in err
    assert "1/1 [" in err and ", ex02_1 timeout]" in err
