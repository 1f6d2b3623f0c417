"""The grade report's table stays readable in a terminal."""

from course_lib.grading.report import format_table
from course_lib.grading.result import FAILED, ExerciseResult


def test_table_wraps_long_messages():
    table = format_table([ExerciseResult("ex03_1", FAILED, "word " * 40)])
    lines = table.splitlines()
    assert len(lines) > 2 and all(len(line) <= 100 for line in lines)


def test_table_shows_code_without_backticks():
    table = format_table([ExerciseResult("ex02_1", FAILED, "`format_record` is not defined.")])
    assert table.splitlines()[1].endswith("failed  format_record is not defined.")
