"""Bad rows, said all at once: one line per kind of problem naming its rows in file order,
ten kinds at most, then a count; and a table's rows read as records (pandas' float columns)."""

import json

import datasets
import pandas as pd
import pytest
from records_support import ROWS

from course_lib.errors import CourseError
from course_lib.evaluation.eval_data import eval_rows
from course_lib.formatting.records import conversion_notes, load_records
from course_lib.formatting.rows import MAX_ROW_ERRORS, RowErrors
from course_lib.formatting.stats import template_counts
from course_lib.training.data import file_notes, load_data


def test_every_bad_row_is_listed_with_its_line(tmp_path):
    good = json.dumps(ROWS[0])
    lines = [good, "{oops", good, json.dumps({"instruction": "x"}), good, good,
             json.dumps({"instruction": "x", "output": [4]})]  # a list: no text
    path = tmp_path / "three_bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CourseError) as caught:
        load_records(path)
    message = str(caught.value).splitlines()
    assert message[0] == f"{path}: 3 rows cannot be used; fix them and run again:"
    assert [m.split(":")[0].strip() for m in message[1:]] == ["line 2", "line 4", "line 7"]
    assert "invalid JSON" in message[1] and "should be text" in message[3]


def test_many_rows_with_one_problem_are_one_line_that_names_them(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(["{oops"] * 25) + "\n")
    with pytest.raises(CourseError) as caught:
        load_records(path)
    message = str(caught.value).splitlines()
    assert message[0].endswith("25 rows cannot be used; fix them and run again:")
    assert len(message) == 2 and message[1].startswith("  lines 1, 2, 3, 4, 5, 6, 7, 8 and 17 "
                                                       "more: invalid JSON")


def test_many_kinds_of_problem_show_ten_and_count_the_rest():
    errors = RowErrors("d.jsonl")
    for i in range(1, 14):  # 13 problems, each its own
        errors.add(f"d.jsonl line {i}: problem {i}")
    with pytest.raises(CourseError) as caught:
        errors.check()
    message = str(caught.value).splitlines()
    assert len(message) == 1 + MAX_ROW_ERRORS + 1 and message[1] == "  line 1: problem 1"
    assert message[-1] == "  and 3 more rows, with 3 other problems."


def test_a_note_on_rows_left_out_names_three_problems_and_counts_the_rest():
    errors = RowErrors("d.jsonl", skip=True)
    for i in range(1, 6):  # 5 problems, each its own
        errors.add(f"d.jsonl line {i}: problem {i}")
    errors.check(usable=95)  # left out, not refused, while a row is usable
    assert errors.left_out_note(usable=95).splitlines() == [
        "d.jsonl: 5 of 100 rows left out (skip_bad_rows=True):", "  line 1: problem 1",
        "  line 2: problem 2", "  line 3: problem 3", "  and 2 more rows, with 2 other problems."]
    four = RowErrors("d.jsonl", skip=True)
    for i in range(1, 5):  # one more than three: shown, not "and 1 more rows, with 1 other"
        four.add(f"d.jsonl line {i}: problem {i}")
    assert four.left_out_note(usable=96).splitlines()[1:] == [
        f"  line {i}: problem {i}" for i in range(1, 5)]
    errors.add("d.jsonl line 99: invalid JSON; nothing after it can be read.", of_the_file=True)
    with pytest.raises(CourseError, match=r"^d.jsonl: 6 rows cannot be used; fix them and run "
                                          r"again:\n"):
        errors.check(usable=95)


def test_bad_rows_are_listed_in_file_order_whenever_each_is_found(tmp_path):
    """A bad field (found after reading) on line 1 comes before bad JSON (found while
    reading) on line 3."""
    lines = [json.dumps({"instruction": "x"}), json.dumps(ROWS[0]), "{oops"]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CourseError) as caught:
        load_records(path)
    message = str(caught.value).splitlines()
    assert [m.split(":")[0].strip() for m in message[1:]] == ["line 1", "line 3"]


def test_an_int_column_with_a_missing_value_reads_4_not_4_0(tmp_path):
    # pandas stores an int column with a missing value as float64: its 4 was read as '4.0'.
    # 'Output' (a table's case) is one such column; 'input' holds real floats, kept as written.
    frame = pd.DataFrame({"instruction": ["What is 2+2?", "Say nothing.", "What is 6+6?"],
                          "input": [2.5, None, 3.0], "Output": [4, None, 12]})
    assert str(frame["Output"].dtype) == "float64"
    frame.to_parquet(tmp_path / "n.parquet")
    datasets.Dataset.from_pandas(frame).save_to_disk(str(tmp_path / "saved"))
    # Row 2's missing answer is no answer: left out (it trained "nothing" before).
    expected = [("2.5", "4"), ("3.0", "12")]
    for data in (tmp_path / "n.parquet", tmp_path / "saved", frame,
                 datasets.Dataset.from_pandas(frame)):
        loaded = load_data(data, skip_bad_rows=True)
        assert "'output' is null, a missing answer" in loaded.bad_rows.messages[0]
        assert [(r["input"], r["response"]) for r in loaded.records] == expected, data
        # Counted in the note on numbers read as text, as JSON's 4 is.
        assert conversion_notes(list(zip(loaded.where, loaded.raw, strict=True))) == [
            "2 rows hold a number where text belongs (rows 1, 3); it was read as its text "
            "(2.5 as '2.5')."]
    assert [r["reference"] for r in eval_rows(tmp_path / "n.parquet").rows] == ["4", None, "12"]
    # Whole numbers with none missing are a float column as written: 4.0 stays '4.0'.
    pd.DataFrame({"instruction": ["a", "b"], "output": [4.0, 12.0]}).to_parquet(
        tmp_path / "f.parquet")
    assert [r["response"] for r in load_records(tmp_path / "f.parquet")] == ["4.0", "12.0"]


def test_a_dataframe_pandas_read_from_parquet_holds_chat_as_lists(tmp_path):
    # pd.read_parquet gives a list column as numpy arrays: the same file loaded fine by name,
    # but as a DataFrame every row was "'messages' must be a list of {role, content} objects"
    # (and TRL's conversational prompt "should be text but is ndarray").
    chat = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
    conversational = {"prompt": [{"role": "user", "content": "Hi"}],
                      "completion": [{"role": "assistant", "content": "Hello"}]}
    for rows in ([{"messages": chat}] * 2, [conversational] * 2):
        path = tmp_path / "data.parquet"
        datasets.Dataset.from_list(rows).to_parquet(path)
        frame = pd.read_parquet(path)
        assert type(frame.iloc[0, 0]).__name__ == "ndarray"  # what pandas hands over
        assert load_data(frame).records == load_records(str(path))
        assert [r["reference"] for r in eval_rows(frame).rows] == [
            r["response"] for r in load_records(str(path))]


MIXED = [{"instruction": "What is 2+2?", "input": "", "output": "4"},
         {"text": "Q: What is 3+3? A: 6"},
         {"messages": [{"role": "user", "content": "Hi"},
                       {"role": "assistant", "content": "Hello"}]},
         {"prompt": "Say yes.", "completion": "yes"}]


def test_a_table_of_rows_in_several_formats_reads_as_its_file_does(tmp_path):
    """pandas and datasets give every row every column, None where a row had no such field:
    the text row was read as an alpaca row with an empty 'instruction', and refused."""
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in MIXED))
    table = pd.read_json(path, lines=True)
    table.to_parquet(tmp_path / "mixed.parquet")
    from_file = load_data(path).records
    assert [r.get("template") for r in from_file] == [None, "qa", None, None]
    for read in (table, datasets.Dataset.from_pandas(table), tmp_path / "mixed.parquet"):
        assert load_data(read).records == from_file
    assert template_counts(table) == template_counts(MIXED) == {"structured": 3, "qa": 1}


def test_a_row_that_fills_some_of_its_formats_fields_is_read_as_that_format():
    """A row with a question and no answer is an alpaca row missing its answer, not a text
    row: it is refused as before, though its text column would make another format."""
    table = pd.DataFrame([{"instruction": "a", "output": "b", "text": None},
                          {"instruction": "c", "output": None, "text": "Q: x A: y"}])
    with pytest.raises(CourseError, match="row 2: .*'output'"):
        load_data(table)


def test_a_tables_empty_cells_are_not_fields_left_out_of_training(tmp_path):
    """A table gives its chat row every other format's column, empty: they were named as
    fields 'left out of training' ('prompt', 'instruction', ...), which its file never said."""
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in MIXED))
    table = pd.DataFrame(MIXED)
    for read in (table, datasets.Dataset.from_pandas(table)):
        assert file_notes(load_data(read)) == file_notes(load_data(path)) == []
        assert eval_rows(read).notes == ()


def test_a_csv_or_column_json_of_rows_in_several_formats_reads_as_its_jsonl_does(tmp_path):
    """A spreadsheet of alpaca and text rows gives each row every column, "" where it had
    none (df.to_json(path) writes null): the text row was "'instruction' is empty"."""
    rows = [MIXED[0], MIXED[1], {"instruction": "Name a colour.", "input": "", "output": "red"}]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    table = pd.DataFrame(rows)
    table.to_csv(tmp_path / "mixed.csv", index=False)
    table.to_json(tmp_path / "mixed.json")  # column by column, pandas' default
    from_file = load_data(path).records
    for other in ("mixed.csv", "mixed.json"):
        assert load_data(tmp_path / other).records == from_file
    # A row that fills its format's question but not its answer stays that format's row (the
    # data report flags its empty answer), not a text row.
    (tmp_path / "half.csv").write_text("instruction,output,text\na,,Q: x A: y\nb,c,\n")
    assert load_data(tmp_path / "half.csv").records[0] == {"instruction": "a", "input": "",
                                                          "response": ""}


def test_an_empty_csv_cell_is_no_field_left_out_as_its_dataframes_is_not(tmp_path):
    """A CSV's empty cell ("") in a column no format reads was named as left out of training,
    where the same file as a DataFrame (NaN) said only the row that holds text there."""
    path = tmp_path / "unread.csv"
    path.write_text("instruction,output,inputs\na,b,\nc,d,x\n")
    notes = file_notes(load_data(path))
    assert notes == file_notes(load_data(pd.read_csv(path)))
    assert "(row 2)" in notes[0] and "rows 1" not in notes[0]
