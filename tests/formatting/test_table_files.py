"""CSV and TSV files: every bad line named at once with the quoting that fixes it, every cell
read as text, and Excel's and pandas' quirks (';', tabs, 'a, b' spacing, the index column,
trailing empty columns) read with a note.

Errors are checked as the `course` command prints them too: one `error:` line on stderr and
no log line of a library before it."""

import csv
import gzip
import json

import datasets
import pandas as pd
import pytest
from records_support import TWO_EXPECTED, TWO_ROWS, notes, show_mask_error

from course_lib.errors import CourseError
from course_lib.formatting.records import load_raw_rows, load_records


def test_bad_rows_of_a_csv_are_named_by_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("instruction,output\nWhat is 1+1?,2\n,3\nWhat is 2+2?,4\n")
    with pytest.raises(CourseError, match=r"d.csv row 2: 'instruction' is empty or null"):
        load_records(path)


def test_a_csv_with_only_its_header_holds_no_rows(tmp_path):
    # Was "could not be read as csv (ValueError: Instruction "train" corresponds to no data!)".
    path = tmp_path / "d.csv"
    path.write_text("instruction,output\n\n")
    assert load_raw_rows(path) == []


def test_a_ragged_csv_names_each_line_and_says_to_quote(tmp_path, capfd, caplog):
    path = tmp_path / "ragged.csv"
    path.write_text("instruction,input,output\nWhat is 2+2?,,4\nWhat, is 3+5?,,8\n"
                    "Say hi,,hi\nAdd 1, 2, 3,,6\n")
    err = show_mask_error(capfd, caplog, path)
    assert err == [
        f"error: {path}: 2 rows cannot be used; fix them and run again:",
        '  line 3: 4 fields but the header names 3 (instruction, input, output); put double '
        'quotes around a field that holds a comma, e.g. "What, is 3+5?".',
        "  line 5: 5 fields but the header names 3 (instruction, input, output); put double "
        'quotes around a field that holds a comma, e.g. "What, is 3+5?".']
    path.write_text('instruction,input,output\n"What, is 3+5?",,8\n')  # quoted: read as one
    assert load_records(path)[0]["instruction"] == "What, is 3+5?"


@pytest.mark.parametrize("text, message", [
    ("What is 2+2?,,4\nWhat is 3+5?,,8\n",
     "line 1 must be a header naming the columns (e.g. instruction,input,output or "
     "prompt,completion), but it reads 'What is 2+2?,,4'; add a header line, or rename the "
     "columns to ones the course reads."),
    ("Question,Answer\nWhat is 2+2?,4\n",  # GSM8K's columns: the first line is a header
     "line 1 names the columns 'Question,Answer', which the course does not read; rename "
     "'Question' to 'instruction' and 'Answer' to 'response'."),
    ("instruction,,output\nWhat is 2+2?,x,4\n",  # left out only when empty in every row
     "line 1: column 2 of the header has no name, but line 2 holds text in it; name every "
     "column (e.g. instruction,input,output), or remove that text."),
    ("instruction,output,output\nWhat is 2+2?,4,5\n",  # pandas kept one 'output' of the two
     "line 1 names the column 'output' twice; give each column its own name, or remove one of "
     "them."),
    ('instruction,input,output\nWhat is 2+2?,,4\n"Say ""hi"",,hi\nSay bye,,bye\n',
     'line 3: a double quote opens a field that never closes; close it, or write a quote '
     'inside a field as two ("").'),
])
def test_a_csv_header_or_quote_that_cannot_be_read_is_named(tmp_path, capfd, caplog, text,
                                                            message):
    path = tmp_path / "d.csv"
    path.write_text(text)
    assert show_mask_error(capfd, caplog, path) == [f"error: {path} {message}"]


def test_a_csv_is_read_as_written_with_no_copy_cached(tmp_path, monkeypatch):
    # datasets' CSV reader kept an Arrow copy of every file it read in its cache (91 MB for a
    # 100k-row CSV, again for each edit of it); the csv module that checks the lines reads them.
    cache = tmp_path / "cache"
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", cache)
    path = tmp_path / "d.csv"
    path.write_text('Instruction,input,output,kind\n"Add 2, then 2",,4,add\n\n'
                    '"Two\nlines",007,"say ""hi""",\n', encoding="utf-8")
    assert [row for _, row in load_raw_rows(path)] == [
        {"instruction": "Add 2, then 2", "input": "", "output": "4", "kind": "add"},
        {"instruction": "Two\nlines", "input": "007", "output": 'say "hi"', "kind": ""}]
    assert [where for where, _ in load_raw_rows(path)] == [f"{path} row 1", f"{path} row 2"]
    assert not cache.exists() or not any(cache.rglob("*.arrow"))


def test_a_csv_field_longer_than_the_csv_modules_limit_reads_whole(tmp_path):
    long = "word " * 40_000  # 200,000 characters: past the csv module's default 131,072
    path = tmp_path / "long.csv"
    pd.DataFrame([{"instruction": "Summarise.", "output": long}]).to_csv(path, index=False)
    limit = csv.field_size_limit()
    assert load_records(path)[0]["response"] == long
    assert csv.field_size_limit() == limit  # put back for the rest of the process


def test_a_tsv_reads_as_a_csv_does_gzipped_or_not(tmp_path, capfd, caplog):
    path = tmp_path / "d.tsv"
    # A comma is no delimiter here; a tab inside a field is quoted, as pandas writes it.
    rows = TWO_ROWS + [{"instruction": "Say hi, then\tbye", "input": "", "output": "hi, bye"}]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    expected = TWO_EXPECTED + [{"instruction": "Say hi, then\tbye", "input": "",
                            "response": "hi, bye"}]
    assert load_records(path) == expected
    gz = tmp_path / "d.tsv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    assert load_records(gz) == expected
    # Its lines are checked as a CSV's are, with the tab named where a CSV names the comma.
    path.write_text("instruction\tinput\toutput\nWhat is 2+2?\t\t4\nSay\thi\t\thi\n")
    assert show_mask_error(capfd, caplog, path) == [
        f"error: {path} line 3: 4 fields but the header names 3 (instruction, input, output); "
        f"put double quotes around a field that holds a tab."]
    path.write_text("quest\treply\nWhat is 2+2?\t4\n")  # shown as written: with its tab
    assert show_mask_error(capfd, caplog, path)[0].endswith(
        "but it reads 'quest\\treply'; add a header line, or rename the columns to ones the "
        "course reads.")


@pytest.mark.parametrize("kind", ["csv", "tsv"])
def test_a_line_with_fewer_fields_than_the_header_is_named(tmp_path, capfd, caplog, kind):
    # A line break inside an unquoted answer: pandas read "violets are blue" as an instruction
    # with an empty answer, and the poem cut short, both trained on without a word.
    mark = {"csv": ",", "tsv": "\t"}[kind]
    path = tmp_path / f"poem.{kind}"
    path.write_text(mark.join(["instruction", "input", "output"]) + "\n"
                    + mark.join(["Write a poem", "", "Roses are red"]) + "\nviolets are blue\n"
                    + "\n   \n" + mark.join(["What is 2+2?", "", "4"]) + "\n")  # blank: skipped
    assert show_mask_error(capfd, caplog, path) == [
        f"error: {path} line 3: 1 field but the header names 3 (instruction, input, output); "
        f"put double quotes around a field that holds a line break, and write every column, "
        f"an empty one as nothing between two {'commas' if kind == 'csv' else 'tabs'}."]
    path.write_text(mark.join(["instruction", "input", "output"]) + '\n'
                    + mark.join(["Write a poem", "", '"Roses are red\nviolets are blue"']) + "\n")
    assert load_records(path)[0]["response"] == "Roses are red\nviolets are blue"


def test_a_semicolon_separated_csv_from_excel_is_read_with_a_note(tmp_path):
    # Was "line 1 must be a header ..., but it reads 'instruction;input;output'; add a header".
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffinstruction;input;output\r\nWhat is 2+2?;;4\r\n"
                     "Add 2, then 2;;4\r\n".encode())
    assert load_records(path) == [
        {"instruction": "What is 2+2?", "input": "", "response": "4"},
        {"instruction": "Add 2, then 2", "input": "", "response": "4"}]
    assert notes(path) == [
        "The columns are separated by ';' (as Excel saves CSV in many locales), so the file "
        "was read that way; save it as \"CSV UTF-8 (comma delimited)\" if that is not meant."]


def test_a_tab_separated_csv_from_pandas_is_read_with_a_note(tmp_path):
    # df.to_csv(path, sep='\t'): was "line 1 must be a header ..., but it reads
    # 'instruction\toutput'; add a header line", of a header that names its columns.
    path = tmp_path / "pandas.csv"
    pd.DataFrame({"instruction": ["What is 2+2?", "Add 2, then 2"], "output": ["4", "4"]}
                 ).to_csv(path, sep="\t", index=False)
    assert load_records(path) == [
        {"instruction": "What is 2+2?", "input": "", "response": "4"},
        {"instruction": "Add 2, then 2", "input": "", "response": "4"}]
    assert notes(path) == [
        "The columns are separated by tabs, not commas (as df.to_csv(path, sep='\\t') writes "
        "them), so the file was read as tab-separated, as a .tsv file is."]
    # A stray tab after a lone 'text' column: one column still, read as it was before.
    path.write_text("text\t\n### Instruction: Say hi ### Response: hi\n")
    assert load_records(path)[0]["response"] == "hi" and notes(path) == []


def test_spaces_after_the_commas_of_a_csv_written_so_do_not_reach_the_model(tmp_path):
    # The header was trimmed but the values were not: ' 8' was trained, a space token more.
    path = tmp_path / "spaced.csv"
    path.write_text('instruction, input, output\nWhat is 4+4?, , 8\n'
                    '"Add 1, 2 and 3", "", "6, or six"\n"Say ""hi""",,  hi\n')
    assert [(r["instruction"], r["input"], r["response"]) for r in load_records(path)] == [
        ("What is 4+4?", "", "8"), ("Add 1, 2 and 3", "", "6, or six"), ('Say "hi"', "", "hi")]
    assert notes(path) == [
        "The header puts a space after each comma, so the spaces after each comma in the rows "
        "were skipped, not read as the start of a value; put double quotes around a value that "
        "starts with a space you mean to keep."]
    # A header without the spaces: the rows are read as written, as before.
    path.write_text("instruction,output\nWhat is 4+4?, 8\n")
    assert load_records(path)[0]["response"] == " 8" and notes(path) == []


def test_the_index_pandas_writes_first_is_left_out_with_a_note(tmp_path):
    # df.to_csv(path): was "column 1 of the header has no name, but line 2 holds text in it".
    path = tmp_path / "pandas.csv"
    frame = pd.DataFrame({"instruction": ["What is 2+2?", "Say hi", "Add 3"],
                          "output": ["4", "hi", "7"]})
    frame.sample(frac=1, random_state=0).to_csv(path)  # shuffled: the index is 2, 0, 1 or so
    assert sorted(r["response"] for r in load_records(path)) == ["4", "7", "hi"]
    assert notes(path) == [
        "The first column has no name and a whole number in every row: pandas' index, as "
        "df.to_csv(path) writes it, so it was left out (df.to_csv(path, index=False) writes "
        "the file without it)."]
    # A word among the numbers: no index, so the column is refused as before.
    path.write_text(",instruction,output\n0,What is 2+2?,4\nfirst,Say hi,hi\n")
    with pytest.raises(CourseError, match="column 1 of the header has no name, but line 2 "):
        load_records(path)


def test_excel_trailing_empty_columns_are_dropped_with_a_note(tmp_path):
    # Was "column 4 of the header has no name": Excel leaves such columns after the last one.
    path = tmp_path / "excel.csv"
    path.write_text("instruction,input,output,,\nWhat is 2+2?,,4,,\nSay hi,,hi,,\n")
    assert [r["response"] for r in load_records(path)] == ["4", "hi"]
    assert notes(path) == ["2 columns with no name in the header (columns 4, 5) are empty in "
                           "every row, so they were left out."]
    path.write_text("instruction,input,output,,\nWhat is 2+2?,,4,,\nSay hi,,hi,,oops\n")
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (f"{path} line 1: column 5 of the header has no name, but line 3 "
                                 f"holds text in it; name every column (e.g. "
                                 f"instruction,input,output), or remove that text.")


@pytest.mark.parametrize(("name", "text", "told"), [
    ("d.csv", "".join(json.dumps(row) + "\n" for row in TWO_ROWS), "JSON Lines; rename it to "
     "end in .jsonl (e.g. d.jsonl)"),
    ("d.tsv", json.dumps(TWO_ROWS, indent=1), "a JSON array; rename it to end in .json (e.g. "
     "d.json)"),
])
def test_json_under_a_tables_extension_is_told_its_own(tmp_path, name, text, told):
    # Was "2 rows cannot be used: rows 1, 2: record has fields ['input: \"\"', ...]": its
    # JSON split at the commas, and its first line read as the header.
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == f"{path} is not a table but {told}."


def test_chat_messages_in_a_csv_cell_say_to_write_chat_as_json_lines(tmp_path):
    # Was "'messages' must be a list of {role, content} objects": true, but no way out.
    path = tmp_path / "chat.csv"
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    pd.DataFrame({"messages": [messages]}).to_csv(path, index=False)
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path} row 1: 'messages' is text, not a list of {{role, content}} objects, as a CSV "
        f"or TSV cell holds text only; write chat rows to a JSON Lines or Parquet file "
        f"instead.")
