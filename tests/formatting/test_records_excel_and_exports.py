"""A practitioner's own file as Excel, pandas and chat tools export it: a ';'- or
tab-separated CSV, 'a, b' spacing, pandas' index and column-by-column JSON, Excel's trailing
empty columns and Windows line breaks, files joined with cat, Windows-1252 text, a workbook or
another file that is no text, ShareGPT rows, numbers as answers. Each is read with a note, or
refused in one sentence."""

import gzip
import io
import json
import re
import zipfile

import pandas as pd
import pytest
from datasets import Dataset

from course_lib.errors import CourseError
from course_lib.formatting.records import conversion_notes, load_raw_rows, load_records
from course_lib.formatting.schemas import normalize_record


def notes(path) -> list[str]:
    return conversion_notes(load_raw_rows(path))


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


def test_windows_line_breaks_inside_cells_become_newlines_and_are_counted(tmp_path):
    # Excel writes a line break inside a cell as \r\n: it was trained as a '\r' token.
    path = tmp_path / "excel.csv"
    path.write_bytes(b'instruction,input,output\r\n"Write a haiku\r\nabout cats",,"line one'
                     b'\r\nline two"\r\nSay hi,,hi\r\n"One\rtwo",,x\r\n')
    records = load_records(path)
    assert [r["instruction"] for r in records] == ["Write a haiku\nabout cats", "Say hi",
                                                   "One\ntwo"]
    assert records[0]["response"] == "line one\nline two"
    assert notes(path) == ["2 rows hold Windows line breaks, \\r\\n or \\r (rows 1, 3); they "
                           "were read as \\n, so no '\\r' reaches the model."]


def test_a_table_pandas_wrote_column_by_column_is_read_row_by_row_with_a_note(tmp_path):
    # df.to_json(path) writes {"instruction": {"0": ..., "1": ...}, "output": {...}}: was
    # "line 1: field 'instruction' should be text but is an object; make it a JSON string".
    path = tmp_path / "pandas.json"
    pd.DataFrame({"instruction": ["What is 2+2?", "Say hi"], "output": ["4", "hi"]}
                 ).to_json(path)
    assert load_records(path) == [
        {"instruction": "What is 2+2?", "input": "", "response": "4"},
        {"instruction": "Say hi", "input": "", "response": "hi"}]
    assert [where for where, _ in load_raw_rows(path)] == [f"{path} item 1", f"{path} item 2"]
    assert notes(path) == [
        "The file holds a table written column by column, as pandas' df.to_json(path) writes "
        "it, so it was read row by row, by its index; df.to_json(path, orient=\"records\", "
        "lines=True) writes one row a line."]
    # Objects under other keys than an index are no columns: one record, refused as before.
    path.write_text(json.dumps({"instruction": {"text": "Say hi"}, "output": {"text": "hi"}}))
    with pytest.raises(CourseError, match="field 'instruction' should be text but is an object"):
        load_records(path)
    # An index key given twice in a column: named, not one of its two rows dropped unsaid.
    path.write_text('{"instruction": {"0": "Say hi", "0": "Say bye"}, "output": {"0": "hi"}}')
    with pytest.raises(CourseError, match="the key '0' is given twice, with different values"):
        load_records(path)


def test_a_byte_order_mark_in_the_middle_of_json_lines_is_named(tmp_path):
    # Two files that each start with a BOM, joined with cat: was "invalid JSON (Expecting value".
    row = json.dumps({"instruction": "What is 2+2?", "output": "4"})
    path = tmp_path / "joined.jsonl"
    path.write_text("\ufeff" + row + "\n" + row + "\n\ufeff" + row + "\n", encoding="utf-8")
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (f"{path} line 3 starts with a byte order mark (U+FEFF), "
                                 f"probably from joining files; remove it.")


def test_windows_1252_text_is_named_by_line_and_column_with_the_fix(tmp_path):
    # Was "line 2: not valid UTF-8 (byte 36)": a file offset that reads like a column.
    path = tmp_path / "latin1.csv"
    path.write_bytes("instruction,output\r\nWhat is 2+2? café,4\r\n".encode("cp1252"))
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path} line 2 column 17: not valid UTF-8, and the file reads as Windows-1252 "
        f"(Latin-1) text; re-save it as UTF-8 (Excel: Save As \"CSV UTF-8\"; or `iconv -f "
        f"cp1252 -t utf-8 FILE > NEW`).")


def test_windows_1252_json_is_told_a_fix_for_json_not_excels(tmp_path):
    # Was Excel's Save As "CSV UTF-8", of a file that never came from Excel.
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"instruction": "What is 2+2? café", "output": "4"}\n'.encode("cp1252"))
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path} line 1 column 34: not valid UTF-8, and the file reads as Windows-1252 "
        f"(Latin-1) text; re-save it as UTF-8 (e.g. `iconv -f cp1252 -t utf-8 FILE > NEW`).")


def zipped(*entries: str) -> bytes:
    """A zip archive holding `entries` (an .xlsx is one, with xl/workbook.xml in it)."""
    with zipfile.ZipFile(buffer := io.BytesIO(), "w") as archive:
        for entry in entries:  # a fixed date: the same bytes in every pytest worker
            archive.writestr(zipfile.ZipInfo(entry, (2026, 1, 1, 0, 0, 0)),
                             "instruction,output\nSay hi,hi\n")
    return buffer.getvalue()


SHEET = "save the sheet as CSV UTF-8 (Excel: File > Save As > CSV UTF-8) and pass that file"


@pytest.mark.parametrize("name, data, said", [
    # Was "not valid UTF-8, and the file reads as Windows-1252 ...; iconv -f cp1252".
    ("data.xlsx", zipped("[Content_Types].xml", "xl/workbook.xml"),
     f"is an Excel workbook (a zip archive), which the course does not read; {SHEET}."),
    ("data.zip", zipped("notes/readme.md", "data/train.csv"),  # was "save the file as UTF-8"
     "is a zip archive, which the course does not read; unzip it and pass the data file inside "
     "(data/train.csv)."),
    ("data.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
     f"is an Excel 97-2003 workbook (.xls) or another old Office file, which the course does "
     f"not read; {SHEET}."),
    ("data.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
     "is a PDF document, which the course does not read; put the examples in a CSV or JSON "
     "Lines file, one a row, and pass that file."),
    ("data.pkl", pd.DataFrame({"instruction": ["Say hi"], "output": ["hi"]}).to_pickle,
     "is a Python pickle (as df.to_pickle writes one), which the course does not read; write it "
     "with df.to_json(path, orient=\"records\", lines=True) and pass that file."),
    ("data.jsonl.gz", gzip.compress(zipped("xl/workbook.xml"), mtime=0),  # gzipped too
     f"is an Excel workbook (a zip archive), which the course does not read; {SHEET}."),
], ids=["xlsx", "zip", "xls", "pdf", "pickle", "gzipped-xlsx"])  # bytes make no good name
def test_a_file_that_is_no_text_is_named_for_what_it_is(tmp_path, name, data, said):
    path = tmp_path / name
    data(path) if callable(data) else path.write_bytes(data)
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == f"{path} {said}"


def test_an_arrow_file_of_a_saved_folder_is_told_the_folder(tmp_path):
    # A data-00000-of-00001.arrow given on its own was told to re-save it with iconv.
    Dataset.from_list([{"instruction": "Say hi", "output": "hi"}]).save_to_disk(tmp_path / "ds")
    shard = next((tmp_path / "ds").glob("*.arrow"))
    with pytest.raises(CourseError) as caught:
        load_records(shard)
    assert str(caught.value) == (f"{shard} is one Arrow file of a Dataset.save_to_disk folder, "
                                 f"which the course does not read; pass the folder itself "
                                 f"({tmp_path / 'ds'}).")


def test_parquet_under_any_name_is_read_gzipped_or_not(tmp_path):
    frame = pd.DataFrame({"instruction": ["Say hi"], "output": ["hi"]})
    (tmp_path / "data.jsonl").write_bytes(frame.to_parquet())
    (tmp_path / "data.gz").write_bytes(gzip.compress(frame.to_parquet()))
    for name in ("data.jsonl", "data.gz"):  # the gzipped one was "not valid UTF-8"
        assert load_records(tmp_path / name) == [
            {"instruction": "Say hi", "input": "", "response": "hi"}]


def sharegpt(*turns):
    return {"conversations": [{"from": who, "value": text} for who, text in turns]}


def test_sharegpt_rows_are_read_and_counted(tmp_path):
    rows = [sharegpt(("human", "What is 2+2?"), ("gpt", "4")),
            sharegpt(("system", "Be brief."), ("human", "Say hi"), ("gpt", "hi"))]
    path = tmp_path / "sharegpt.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert load_records(path) == [
        {"instruction": "What is 2+2?", "input": "", "response": "4"},
        {"instruction": "Say hi", "input": "Be brief.", "response": "hi"}]
    found = notes(path)
    assert found[0] == ("2 rows read as ShareGPT (lines 1, 2): from/value renamed to "
                        "role/content, 'human' to 'user' and 'gpt' to 'assistant'.")
    assert found[1].startswith("1 chat row has a system message (line 2)")


@pytest.mark.parametrize("row, message", [
    (sharegpt(("human", "a"), ("gpt", "b"), ("human", "c"), ("gpt", "d")),
     "got roles ['user', 'assistant', 'user', 'assistant']: a conversation. Split it"),
    (sharegpt(("human", "a"), ("function_call", "{}"), ("observation", "4"), ("gpt", "4")),
     "the row has 'function_call' and 'observation' messages (tool calls)"),
    ({"conversations": [{"speaker": "human", "text": "a"}]},
     "this looks like ShareGPT ('conversations'): rename it to 'messages'"),
])
def test_sharegpt_conversations_and_tool_calls_are_still_refused(row, message):
    with pytest.raises(CourseError, match=r"^d.jsonl line 2: .*" + re.escape(message)):
        normalize_record(row, "d.jsonl line 2")


def test_numbers_in_text_fields_are_read_as_their_text_and_counted(tmp_path):
    # Was "field 'output' should be text but is int; make it a JSON string".
    rows = [{"instruction": "What is 2+2?", "output": 4},
            {"instruction": "Halve 3.", "output": 1.5},
            {"instruction": "Say hi", "output": "hi", "id": 7}]  # an id is not read: no note
    path = tmp_path / "numbers.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert [r["response"] for r in load_records(path)] == ["4", "1.5", "hi"]
    assert notes(path) == ["2 rows hold a number where text belongs (lines 1, 2); it was "
                           "read as its text (4 as '4')."]


@pytest.mark.parametrize("value, kind", [(True, "true"), (["a"], "a list"), ({"a": 1}, "an object"),
                                         (float("nan"), "NaN")])  # as the file writes them
def test_bools_lists_dicts_and_nan_are_still_not_text(value, kind):
    with pytest.raises(CourseError, match=f"field 'output' should be text but is {kind}"):
        normalize_record({"instruction": "x", "output": value}, "d.jsonl line 1")
