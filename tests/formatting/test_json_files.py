"""JSON data files: JSON Lines or an array, told apart by content, every row named by its line
(from 1); objects one after another, wrappers, splits, tables written column by column, keys
given twice, and JSON that breaks off."""

import json
import re

import pandas as pd
import pytest
from records_support import EXPECTED, ROWS, TWO_EXPECTED, TWO_ROWS, notes

from course_lib.errors import CourseError
from course_lib.formatting.records import (
    load_raw_rows,
    load_records,
    own_held_out_split,
)


def chat(*turns, keys=("role", "content")):
    return {"messages": [dict(zip(keys, turn, strict=True)) for turn in turns]}


def test_byte_order_mark_and_arrays_in_jsonl_files(tmp_path):
    bom = "\ufeff".encode()
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS).encode()
    (tmp_path / "bom.jsonl").write_bytes(bom + lines)
    (tmp_path / "array.jsonl").write_bytes(bom + json.dumps(ROWS, indent=2).encode())
    (tmp_path / "ONE.JSON").write_text(json.dumps(ROWS[0], indent=2))  # a single record
    assert load_records(tmp_path / "bom.jsonl") == EXPECTED
    assert load_records(tmp_path / "array.jsonl") == EXPECTED
    assert load_records(tmp_path / "ONE.JSON") == EXPECTED[:1]


def test_lines_are_counted_from_one_in_json_arrays_too(tmp_path):
    rows = [ROWS[0], {"instruction": "no answer"}, ROWS[1]]
    path = tmp_path / "d.json"
    path.write_text(json.dumps(rows, indent=2))  # each record spans 5 or 4 lines
    where = [w for w, _ in load_raw_rows(path)]
    assert where == [f"{path} line 2", f"{path} line 7", f"{path} line 10"]
    with pytest.raises(CourseError, match=r"d.json line 7: record has 'instruction' but no"):
        load_records(path)
    path.write_text('[\n{"instruction": "a", "output": "b"},\n{"instruction": oops}\n]')
    with pytest.raises(CourseError, match=r"d.json line 3: invalid JSON"):
        load_records(path)
    # One line holds every row (pandas' to_json(orient="records")): the item names the row.
    path.write_text(json.dumps(rows))
    with pytest.raises(CourseError, match=r"d.json item 2: record has 'instruction' but no"):
        load_records(path)


def test_text_that_is_not_json_names_the_accepted_formats(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("instruction: say hi\nresponse: hi\n")
    with pytest.raises(CourseError, match=r"is not JSON .*accepted: \.csv.*\.parquet, JSON Lines"):
        load_records(path)


def test_jsonl_errors_name_file_and_line(tmp_path):
    path = tmp_path / "data.jsonl"
    good = json.dumps({"instruction": "What is 2+2?", "response": "4"})
    path.write_text(good + "\n" + "{not json\n")
    with pytest.raises(CourseError, match=r"data.jsonl line 2: invalid JSON"):
        load_records(path)
    path.write_text(good + "\n\n" + json.dumps({"instruction": [3], "response": "x"}) + "\n")
    with pytest.raises(CourseError, match=r"line 3: field 'instruction' should be text"):
        load_records(path)
    path.write_bytes(good.encode() + b"\n" + b'{"instruction": "caf\xe9", "response": "x"}\n')
    with pytest.raises(CourseError, match=r"line 2 column 21: not valid UTF-8"):
        load_records(path)
    path.write_text(json.dumps({"question": "x"}) + "\n")
    with pytest.raises(CourseError, match=r"line 1: record has fields \['question'\]"):
        load_records(path)


def test_blank_lines_in_json_lines_are_skipped_and_lines_still_counted(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(f"\n{json.dumps(ROWS[0])}\n\n   \n{json.dumps(ROWS[0])}\n\n")
    rows = load_raw_rows(path)
    assert [where for where, _ in rows] == [f"{path} line 2", f"{path} line 5"]
    assert len(load_records(path)) == 2


def test_a_data_wrapper_names_its_records_from_one(tmp_path):
    path = tmp_path / "d.json"
    path.write_text(json.dumps({"data": [ROWS[0], {"instruction": "x"}]}, indent=1))
    assert [w for w, _ in load_raw_rows(path)] == [f"{path} record 1", f"{path} record 2"]
    with pytest.raises(CourseError, match=r"d\.json record 2: record has 'instruction' but no"):
        load_records(path)


def test_line_separators_inside_json_strings_do_not_split_a_row(tmp_path):
    # U+2028, U+2029 and U+0085 are valid unescaped inside a JSON string (json.dumps with
    # ensure_ascii=False writes them so); str.splitlines() broke such a row in two.
    rows = [{"instruction": f"Say{sep}hi", "response": "hi"} for sep in "\u2028\u2029\x85"]
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
                    + '{"instruction": [1], "response": "x"}\n', encoding="utf-8")
    with pytest.raises(CourseError, match=r"d.jsonl line 4: field 'instruction'"):
        load_records(path)  # the 4th line, not the 7th: only line ends count
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in rows))
    assert [r["instruction"] for r in load_records(path)] == [r["instruction"] for r in rows]


@pytest.mark.parametrize("value, problem", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("9" * 5000, "a number too long to read"),
], ids=["deep", "long-number"])
def test_json_python_cannot_decode_is_a_row_error(tmp_path, value, problem):
    # json raises RecursionError and ValueError here, not JSONDecodeError: were tracebacks.
    good = json.dumps({"instruction": "Say hi", "response": "hi"})
    bad = '{"instruction": "Say hi", "response": ' + value + "}"
    for name, text, where in [("d.jsonl", f"{good}\n{bad}\n", "line 2"),
                              ("one.json", bad, "line 1"),
                              ("a.json", f"[{good},\n{bad}]", "line 2")]:
        path = tmp_path / name
        path.write_text(text)
        with pytest.raises(CourseError, match=rf"{name} {where}: invalid JSON \({problem}"):
            load_records(path)


def test_text_after_a_json_array_is_named_on_its_own_line(tmp_path):
    # Two arrays, e.g. appended with >>: the line was the first one's, and the message asked
    # for the ']' that is there.
    path = tmp_path / "d.json"
    array = json.dumps(ROWS[:2], indent=1)
    path.write_text(f"{array}\n{array}\n")
    line = array.count("\n") + 2
    with pytest.raises(CourseError, match=rf"^{re.escape(str(path))} line {line}: invalid JSON "
                                          r"\(text after the closing '\]' of the array\); "):
        load_records(path)


def test_pretty_printed_objects_one_after_another_load_by_their_first_line(tmp_path):
    # `jq . data.json > out.jsonl` writes each object over several lines: every line was an
    # "invalid JSON" row before (8 errors for 2 records).
    path = tmp_path / "pretty.jsonl"
    rows = [{"instruction": "What is 2+2?", "output": "4"},
            {"instruction": "What is 3+3?", "input": "", "output": "6"}]
    path.write_text("".join(json.dumps(r, indent=2) + "\n" for r in rows))
    assert load_raw_rows(path) == [(f"{path} line 1", rows[0]), (f"{path} line 5", rows[1])]
    # One broken object: still read line by line, so the lines at fault are named.
    path.write_text(json.dumps(rows[0], indent=2) + '\n{\n  "instruction": \n}\n')
    with pytest.raises(CourseError, match="lines 4, 7: invalid JSON"):  # one problem, one line
        load_records(path)


def test_a_table_saved_as_txt_is_told_its_extension(tmp_path):
    path = tmp_path / "Unicode Text.txt"  # Excel's "Unicode Text": tab-separated UTF-16
    path.write_bytes(pd.DataFrame(TWO_ROWS).to_csv(sep="\t", index=False).encode("utf-16"))
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (f"{path} is not JSON but a table of tab-separated columns; "
                                 f"rename it to end in .tsv (e.g. Unicode Text.tsv).")


def test_a_json_object_of_splits_gives_the_split_asked_for(tmp_path):
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"train": TWO_ROWS, "test": TWO_ROWS[1:]}))
    assert load_records(path) == TWO_EXPECTED
    assert load_records(path, split=("test", "validation")) == TWO_EXPECTED[1:]
    assert own_held_out_split(path) == "test"  # `course train` scores on it, as on a folder's
    # Two "train" lists, as two files pasted into one: json alone would keep the second only.
    first, second = map(json.dumps, TWO_ROWS)
    path.write_text(f'{{"train": [{first}],\n "train": [{second}]}}')
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (f"{path}: the key 'train' is given twice in the object that "
                                 f"holds the records, with different values; keep one 'train' "
                                 f"(with the records of both, if both hold records).")
    # One chat record holds a list of objects too: its "messages" are no split.
    chat = {"messages": [{"role": "user", "content": "Hi"},
                         {"role": "assistant", "content": "Hello"}]}
    path.write_text(json.dumps(chat, indent=2))
    assert load_records(path) == [{"instruction": "Hi", "input": "", "response": "Hello"}]
    path.write_text(json.dumps({"train": [TWO_ROWS[0], {"instruction": "Hi"}, 7]}))
    with pytest.raises(CourseError) as caught:
        load_records(path, split=("test", "validation"))
    assert str(caught.value) == (f"{path} holds the splits train but no 'test' or 'validation' "
                                 f"split; add one to the file (\"test\": [...]), or give a file "
                                 f"holding only the records to use.")
    assert own_held_out_split(path) is None
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value).splitlines()[1:] == [  # the bad ones named by split and record
        "  train record 2: record has 'instruction' but no 'response' or 'output'; add the "
        "answer under 'response'.",
        "  train record 3: expected a JSON object, got a number."]


@pytest.mark.parametrize("text, where, key", [
    ('{"instruction": "a", "output": "b"}\n{"instruction": "a", "output": "b", "output": "c"}\n',
     "line 2", "output"),
    ('[{"instruction": "a", "output": "b"},\n {"instruction": "a", "output": "b", '
     '"output": "c"}]', "line 2", "output"),
    ('{"data": [{"instruction": "a", "output": "b"}, {"instruction": "a", "output": "b", '
     '"output": "c"}]}', "record 2", "output"),
    ('{"instruction": "a", "output": "b"}\n{"messages": [{"role": "user", "content": "a"}, '
     '{"role": "assistant", "content": "b", "content": "c"}]}\n', "line 2", "content"),
    ('{\n "instruction": "a",\n "output": "b"\n}\n{\n "instruction": "a",\n "output": "b",\n'
     ' "output": "c"\n}\n', "line 5", "output"),
])
def test_a_key_given_twice_with_different_values_is_a_row_error(tmp_path, text, where, key):
    path = tmp_path / "d.json"
    path.write_text(text)
    with pytest.raises(CourseError) as caught:
        load_records(path)  # json alone keeps "c" and drops "b" without a word
    assert str(caught.value) == (f"{path} {where}: the key '{key}' is given twice, with "
                                 f"different values; keep the one you mean and remove the "
                                 f"other.")
    path.write_text(text.replace('"c"', '"b"'))  # the same value twice: nothing is lost
    assert load_records(path)[-1]["response"] == "b"


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


def test_a_json_of_empty_splits_holds_no_rows_as_such_a_folder_does(tmp_path):
    # Was "line 1: record has fields ['test', 'train'] which match no known schema".
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"train": [], "test": []}))
    assert load_records(path) == load_records(path, split="test") == []
    assert own_held_out_split(path) == "test"
    path.write_text(json.dumps({"tags": []}))  # no split's name: still one record, refused
    with pytest.raises(CourseError, match=r"line 1: record has fields \['tags'\]"):
        load_records(path)
