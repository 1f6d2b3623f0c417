"""What a practitioner's own files get when they are not quite right: gzipped Parquet, ragged
or headerless CSV, number columns, other chat formats, header case, system messages, splits.

Errors are checked as the `course` command prints them too: one `error:` line on stderr and
no log line of a library before it.
"""

import csv
import gzip
import json
import logging

import datasets
import pandas as pd
import pytest

from course_lib.cli import main
from course_lib.errors import CourseError
from course_lib.evaluation.eval_data import eval_rows
from course_lib.formatting.records import (
    conversion_notes,
    load_raw_rows,
    load_records,
    own_held_out_split,
)
from course_lib.formatting.schemas import normalize_record
from course_lib.training.data import load_data

ROWS = [{"instruction": "What is 2+2?", "input": "", "output": "4"},
        {"instruction": "Translate to French", "input": "coffee", "output": "café"}]
EXPECTED = [{"instruction": r["instruction"], "input": r["input"], "response": r["output"]}
            for r in ROWS]


def show_mask_error(capfd, caplog, path) -> list[str]:
    """What `course show-mask --data PATH --row 1` prints to stderr when the file is refused,
    once it is checked that no library logged a line of its own (its handler writes to the
    stderr of when it was imported, which capfd does not see; caplog sees every record)."""
    capfd.readouterr()
    caplog.clear()
    assert main(["show-mask", "--data", str(path), "--row", "1"]) == 2
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    return capfd.readouterr().err.splitlines()


def test_gzipped_parquet_loads_and_a_broken_one_is_said_once(tmp_path, capfd, caplog):
    plain = tmp_path / "p.parquet"
    pd.DataFrame(ROWS).to_parquet(plain)
    gz = tmp_path / "p.parquet.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert load_records(gz) == EXPECTED
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(plain.read_bytes()[:-20])  # cut short: no footer
    err = show_mask_error(capfd, caplog, broken)
    assert len(err) == 1 and err[0].startswith(f"error: {broken} could not be read as parquet")


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


def test_a_column_of_numbers_is_read_as_its_text_as_in_json_and_counted(tmp_path):
    # Was "column 'output' holds int64, not text", where the same rows in JSON Lines are read.
    rows = [{"instruction": f"What is {n - 2}+2?", "input": x, "output": n}
            for n, x in [(4, 2.5), (12, 0.5), (7, 10.0)]]  # int64 and float64 columns
    jsonl = tmp_path / "n.jsonl"
    jsonl.write_text("".join(json.dumps(row) + "\n" for row in rows))
    pd.DataFrame(rows).to_parquet(tmp_path / "n.parquet")
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "saved"))
    assert [(r["input"], r["response"]) for r in load_records(jsonl)] == [
        ("2.5", "4"), ("0.5", "12"), ("10.0", "7")]
    for path in (tmp_path / "n.parquet", tmp_path / "saved"):
        assert load_records(path) == load_records(jsonl)  # spelled as JSON's numbers are
        assert conversion_notes(load_raw_rows(path)) == [
            "3 rows hold a number where text belongs (rows 1, 2, 3); it was read as its text "
            "(2.5 as '2.5')."]
    # A number column no schema reads as text (an id) is no problem, and no note.
    pd.DataFrame([{**r, "id": 7} for r in ROWS]).to_parquet(tmp_path / "ids.parquet")
    assert load_records(tmp_path / "ids.parquet") == EXPECTED
    assert conversion_notes(load_raw_rows(tmp_path / "ids.parquet")) == []


@pytest.mark.parametrize("answers, dtype", [([True, False], "bool"), ([0.5, 2.0], "float32")])
def test_a_column_of_no_text_is_still_named_in_column_terms(tmp_path, answers, dtype):
    # float32: its 0.1 would read as 0.10000000149011612, a spelling no JSON file gives.
    rows = [{**r, "output": a} for r, a in zip(ROWS, answers, strict=True)]
    path = tmp_path / "n.parquet"
    pd.DataFrame(rows).astype({"output": dtype}).to_parquet(path)
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (
        f"{path}: column 'output' holds {dtype}, not text; convert the column to text "
        f"(e.g. df['output'] = df['output'].fillna('').astype(str)) and save again.")


def test_nested_values_and_a_null_instruction_in_a_number_column_are_still_refused(tmp_path):
    lists = tmp_path / "lists.parquet"
    pd.DataFrame([{**r, "output": [r["output"]]} for r in ROWS]).to_parquet(lists)
    with pytest.raises(CourseError, match=r"rows 1, 2: field 'output' should be text but is "
                                          r"a list"):
        load_records(lists)
    nulls = tmp_path / "nulls.parquet"  # pandas stores [4, None] as float64 with a null
    pd.DataFrame({"instruction": [4, None], "output": ["a", "b"]}).to_parquet(nulls)
    with pytest.raises(CourseError, match=r"row 2: 'instruction' is empty or null"):
        load_records(nulls)


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


def test_column_names_match_the_known_fields_whatever_their_case(tmp_path, capfd, caplog):
    path = tmp_path / "case.csv"
    path.write_text("Instruction, Input, Output\nWhat is 2+2?,,4\nTranslate to French,"
                    "coffee,café\n")
    assert load_records(path) == EXPECTED
    pd.DataFrame(ROWS).rename(columns=str.upper).to_parquet(tmp_path / "case.parquet")
    assert load_records(tmp_path / "case.parquet") == EXPECTED
    # Columns the course does not read at all: said once for the file, not once per row.
    pd.DataFrame([{"q": "What is 2+2?", "a": "4"}] * 30).to_parquet(tmp_path / "qa.parquet")
    err = show_mask_error(capfd, caplog, tmp_path / "qa.parquet")
    assert err == [f"error: {tmp_path / 'qa.parquet'}: its columns (q, a) match none the course "
                   f"reads; rename them, e.g. to instruction, input, output or prompt, "
                   f"completion."]
    datasets.Dataset.from_list([{"question": "What is 2+2?", "answer": "4"}]).save_to_disk(
        str(tmp_path / "gsm"))  # as a Hub data set is read: GSM8K's columns get their renames
    assert show_mask_error(capfd, caplog, tmp_path / "gsm") == [
        f"error: {tmp_path / 'gsm'}: its columns (question, answer) match none the course reads; "
        f"rename 'question' to 'instruction' and 'answer' to 'response' (datasets: "
        f"ds.rename_columns({{'question': 'instruction', 'answer': 'response'}}))."]


def chat(*turns, keys=("role", "content")):
    return {"messages": [dict(zip(keys, turn, strict=True)) for turn in turns]}


@pytest.mark.parametrize("record, message", [
    (chat(("human", "What is 2+2?"), ("gpt", "4")),
     "roles must be user and assistant (system allowed), but the row has ['human', 'gpt']; "
     "rename "
     "'human' to 'user' and 'gpt' to 'assistant'."),
    (chat(("human", "What is 2+2?"), ("gpt", "4"), keys=("from", "value")),
     "messages need 'role' and 'content' keys; this looks like ShareGPT ('from'/'value'): "
     "rename them to 'role'/'content', and 'human' to 'user' and 'gpt' to 'assistant'."),
    (chat(("user", "What is 2+2?")),
     "the course's templates take one user turn then one assistant turn; got roles ['user']; "
     "add the assistant's answer after the user turn."),
    (chat(("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d")),
     "the course's templates take one user turn then one assistant turn; got roles ['user', "
     "'assistant', 'user', 'assistant']: a conversation. Split it into rows of one user turn "
     "and its answer, or train it with TRL's SFTTrainer and assistant_only_loss=True "
     "(lesson 05)."),
])
def test_chat_rows_are_told_what_to_rename(record, message):
    with pytest.raises(CourseError) as caught:
        normalize_record(record, "d.jsonl line 1")
    assert str(caught.value) == f"d.jsonl line 1: {message}"


def test_a_system_message_made_the_input_is_reported(tmp_path):
    from course_lib.formatting.records import conversion_notes

    system = chat(("system", "Be brief."), ("user", "What is 2+2?"), ("assistant", "4"))
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [system, chat(("user", "Hi"),
                                                                    ("assistant", "Hi!")),
                                                       system]))
    rows = load_raw_rows(path)
    assert normalize_record(*rows[0][::-1])["input"] == "Be brief."  # as before, but said:
    assert conversion_notes(rows) == [
        "2 chat rows have a system message (lines 1, 3); the templates have no system part, so "
        "it became the 'input' ('### Input:' in one_line and alpaca) and is part of the "
        "prompt; put it in the user message, or remove it, if that is not what you want."]
    assert conversion_notes(rows[1:2]) == []


def test_a_split_can_be_several_names_in_order_of_preference(tmp_path, monkeypatch):
    data = datasets.Dataset.from_list(ROWS)
    folder = tmp_path / "dd"
    datasets.DatasetDict({"train": data, "validation": data.select([1])}).save_to_disk(
        str(folder))
    assert load_records(folder, split=("test", "validation")) == EXPECTED[1:]
    assert load_records(folder) == EXPECTED  # "train", as always
    with pytest.raises(CourseError) as caught:
        load_records(folder, split=("test", "eval"))
    assert str(caught.value) == (f"{folder} holds the splits train, validation but no 'test' or "
                                 f"'eval' split; give the folder of one split, e.g. "
                                 f"{folder}/train.")
    data.to_json(str(tmp_path / "d.jsonl"))  # a file has no splits: split does not apply
    assert load_records(tmp_path / "d.jsonl", split=("test", "validation")) == EXPECTED
    # A Hub id: each name is asked for in turn until the data set has one.
    asked = []

    def load_dataset(hub_id, split):
        asked.append(split)
        if split != "validation":
            raise ValueError(f'Unknown split "{split}". Should be one of [\'train\', '
                             f'\'validation\'].')
        return data

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    monkeypatch.chdir(tmp_path)
    assert load_records("owner/set", split=("test", "validation")) == EXPECTED
    assert asked == ["test", "validation"]


def test_a_tsv_reads_as_a_csv_does_gzipped_or_not(tmp_path, capfd, caplog):
    path = tmp_path / "d.tsv"
    # A comma is no delimiter here; a tab inside a field is quoted, as pandas writes it.
    rows = ROWS + [{"instruction": "Say hi, then\tbye", "input": "", "output": "hi, bye"}]
    pd.DataFrame(rows).to_csv(path, sep="\t", index=False)
    expected = EXPECTED + [{"instruction": "Say hi, then\tbye", "input": "",
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


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_files_read_with_or_without_a_byte_order_mark(tmp_path, encoding):
    # Windows PowerShell 5's `python make.py > d.jsonl` writes UTF-16 with a byte order mark;
    # Excel's "Unicode Text" a UTF-16 TSV with one.
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS)
                      .encode(encoding))
    assert load_records(jsonl) == EXPECTED
    tsv = tmp_path / "d.tsv"
    tsv.write_bytes(pd.DataFrame(ROWS).to_csv(sep="\t", index=False).encode(encoding))
    assert load_records(tsv) == EXPECTED
    gz = tmp_path / "d.csv.gz"
    gz.write_bytes(gzip.compress(pd.DataFrame(ROWS).to_csv(index=False).encode(encoding)))
    assert load_records(gz) == EXPECTED


def test_a_table_saved_as_txt_is_told_its_extension(tmp_path):
    path = tmp_path / "Unicode Text.txt"  # Excel's "Unicode Text": tab-separated UTF-16
    path.write_bytes(pd.DataFrame(ROWS).to_csv(sep="\t", index=False).encode("utf-16"))
    with pytest.raises(CourseError) as caught:
        load_records(path)
    assert str(caught.value) == (f"{path} is not JSON but a table of tab-separated columns; "
                                 f"rename it to end in .tsv (e.g. Unicode Text.tsv).")


def test_a_json_object_of_splits_gives_the_split_asked_for(tmp_path):
    path = tmp_path / "splits.json"
    path.write_text(json.dumps({"train": ROWS, "test": ROWS[1:]}))
    assert load_records(path) == EXPECTED
    assert load_records(path, split=("test", "validation")) == EXPECTED[1:]
    assert own_held_out_split(path) == "test"  # `course train` scores on it, as on a folder's
    # Two "train" lists, as two files pasted into one: json alone would keep the second only.
    first, second = map(json.dumps, ROWS)
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
    path.write_text(json.dumps({"train": [ROWS[0], {"instruction": "Hi"}, 7]}))
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
