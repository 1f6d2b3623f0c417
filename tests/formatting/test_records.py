"""Loading a user's own data: which source a name means, every format `datasets` writes
loading as written, records in memory, and the notes on what reading changed (numbers read
as text, Windows line breaks, ShareGPT rows, system messages, fields no format reads)."""

import json
import re

import datasets
import pandas as pd
import pytest
from records_support import EXPECTED, ROWS, TWO_EXPECTED, TWO_ROWS, notes, show_mask_error

from course_lib.errors import CourseError
from course_lib.formatting.records import (
    conversion_notes,
    embedded_sets,
    load_raw_rows,
    load_records,
    own_held_out_split,
    refuse_non_records,
)
from course_lib.formatting.schemas import normalize_record
from course_lib.formatting.templates import format_text


def _notes_of_jsonl(tmp_path, rows):
    """conversion_notes on `rows` written to d.jsonl, one per line."""
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return conversion_notes(load_raw_rows(path))


def chat(*turns, keys=("role", "content")):
    return {"messages": [dict(zip(keys, turn, strict=True)) for turn in turns]}


def sharegpt(*turns):
    return {"conversations": [{"from": who, "value": text} for who, text in turns]}


@pytest.mark.parametrize("name", ["x.json", "x.jsonl", "x.JSONL", "x.csv", "x.CSV",
                                  "x.parquet", "x.data"])
def test_files_written_by_datasets_load_as_written(tmp_path, dataset, name):
    path = tmp_path / name
    # to_json writes JSON Lines whatever the extension; "x.data" is Parquet under another name.
    writer = {".csv": dataset.to_csv, ".parquet": dataset.to_parquet,
              ".data": dataset.to_parquet}.get(path.suffix.lower(), dataset.to_json)
    writer(str(path))
    assert load_records(path) == EXPECTED


def test_a_mistyped_path_is_not_taken_for_a_hub_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl").write_text(json.dumps(ROWS[0]))
    for typo in ("./data/trian.jsonl", "data/trian", "data/x.json", "x.JSONL"):
        with pytest.raises(CourseError, match=r"No such file or folder") as caught:
            load_records(typo)
        assert "Hub" not in str(caught.value).split(";")[0], typo
    with pytest.raises(CourseError, match=r"did you mean 'data/train.jsonl'"):
        load_records("data/trian.jsonl")


def test_an_unknown_embedded_set_lists_the_ones_there_are():
    # It used to say "No such file or folder: 'course:nope'", as if course: were a path.
    with pytest.raises(CourseError, match=r"^There is no embedded data set 'course:nope'; the "
                                          r"course has: .*course:eval, .*course:train, "):
        load_records("course:nope")
    with pytest.raises(CourseError, match=r"'course:trian' \(did you mean 'course:train'\?\)"):
        load_records("course:trian")


def test_jsonl_and_json_in_any_known_schema_load_the_same(tmp_path):
    rows = [
        {"instruction": "Say hi", "response": "hi"},
        {
            "instruction": "Translate this to Spanish",
            "input": "Hello world",
            "output": "Hola mundo",
        },
        {"instruction": "Summarise", "context": "Cats purr.", "response": "Cats purr."},
        {"prompt": "### Instruction: Say hi ### Response:", "completion": " hi"},
        {
            "messages": [
                {"role": "user", "content": "Say hi"},
                {"role": "assistant", "content": "hi"},
            ]
        },
    ]
    jsonl = tmp_path / "d.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in rows))
    as_json = tmp_path / "d.json"
    as_json.write_text(json.dumps(rows))
    records = load_records(jsonl)
    assert records == load_records(as_json)
    assert records[1] == {
        "instruction": "Translate this to Spanish",
        "input": "Hello world",
        "response": "Hola mundo",
    }
    assert (
        records[0]
        == records[3]
        == records[4]
        == {"instruction": "Say hi", "input": "", "response": "hi"}
    )


@pytest.mark.parametrize(("splits", "held"), [(["train", "validation", "test"], "test"),
                                              (["train", "validation"], "validation"),
                                              (["train"], None)])
def test_a_split_folder_is_scored_on_test_else_validation(tmp_path, splits, held):

    (tmp_path / "dataset_dict.json").write_text(json.dumps({"splits": splits}))
    assert own_held_out_split(tmp_path) == held
    assert own_held_out_split(tmp_path / "nowhere") is None


def test_a_file_that_cannot_be_read_is_one_sentence(tmp_path, monkeypatch):
    # chmod 000 does not stop root (CI), so the refusal is simulated where the file is opened.
    import pathlib

    path = tmp_path / "locked.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n")
    opened = pathlib.Path.open

    def deny(self, *args, **kwargs):
        if self.name == path.name:
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", deny)
    with pytest.raises(CourseError, match=rf"^{path} cannot be read \(Permission denied\); "):
        load_records(path)  # was a PermissionError traceback


def test_a_path_that_is_there_but_no_file_is_not_called_missing(tmp_path):
    # Each was "No such file or folder: 'X' (did you mean 'X'?)", offering the same name.
    link = tmp_path / "d.jsonl"
    link.symlink_to(tmp_path / "moved.jsonl")
    with pytest.raises(CourseError, match=r"d.jsonl' is a link to '.*moved.jsonl', which does "
                                          r"not exist; "):
        load_records(link)
    with pytest.raises(CourseError, match=r"^'/dev/null' is not a regular file \("):
        load_records("/dev/null")
    with pytest.raises(CourseError, match=r"^The data source is an empty name; give a data "):
        load_records("")  # was "'' is a folder ... such as /constraints.txt"


@pytest.mark.parametrize("loaded", [[{"instruction": "Hi", "response": "hi"}],
                                    {"instruction": "Hi", "response": "hi"}])
def test_data_already_in_memory_is_not_looked_for_as_a_file(loaded):
    # Was "No such file or folder: '[{'instruction': 'Hi', ...}]'".
    with pytest.raises(CourseError, match=rf"^source must name data to load .*, not a "
                                          rf"{type(loaded).__name__}: data already in memory "
                                          rf"needs no loading; pass it on as it is\.$"):
        load_records(loaded)


def test_a_field_the_rows_format_does_not_read_is_named_not_dropped(tmp_path):
    # The passage under a misspelt 'inputs', a second answer, dolly's 'context' in an alpaca
    # row: each trained without it and without a word. An id, a category or a formatted copy
    # under 'text' beside the fields is not content that was meant to train.
    rows = [{"instruction": "Sum up", "inputs": "The cat sat on the mat.", "response": "A cat."},
            {"prompt": "p", "completion": "c", "response": "r"},
            {"instruction": "x", "input": "y", "output": "z", "context": "w", "id": 7},
            {"instruction": "x", "input": "", "output": "z", "text": "### Instruction: x",
             "category": "qa"},
            {"instruction": "Sum up", "inputs": "A dog ran.", "response": "A dog."},
            {"instruction": "2+2?", "response": "4", "answer": "four", "source": "web"}]
    assert _notes_of_jsonl(tmp_path, rows) == [
        "5 rows hold a field its format does not read, so it was left out of training: 'inputs' "
        "(lines 1, 5), 'response' (line 2), 'context' (line 3), 'answer' (line 6); rename it to "
        "a field the row's format reads, or remove it."]


@pytest.mark.parametrize("name", sorted(embedded_sets()))
def test_the_courses_own_sets_hold_no_field_left_unread(name):
    assert not any("does not read" in note for note in conversion_notes(load_raw_rows(name)))


def test_a_text_laid_out_otherwise_than_its_template_writes_it_is_named(tmp_path):
    # '### Response:' on a line of its own reads as the one-line template and trains inline:
    # the layout changed without a word (show-mask even said "as the row is written").
    record = {"instruction": "What is 2+2?", "response": "4"}
    rows = [{"text": "### Instruction:\nWhat is 2+2?\n### Response:\n4"},
            {"text": format_text(record)}, {"text": format_text(record, "alpaca")},
            {"text": format_text(record, "alpaca").split("\n\n", 1)[1]},  # no preamble
            {"text": format_text(record, "qa") + "\n"}]  # a final newline is not a layout
    assert _notes_of_jsonl(tmp_path, rows) == [
        "2 rows hold a formatted text laid out otherwise than its template writes it (lines 1, "
        "4), e.g. '### Response:' on a line of its own; it was read into its parts and trains "
        "as the template writes them, so ask the tuned model that way too (course ask does)."]


def test_a_dataset_dict_is_told_to_give_one_split():
    # Was "one record (a dict with fields ['validation']) ...; wrap it in a list: [record]."
    splits = datasets.DatasetDict({"validation": datasets.Dataset.from_list(
        [{"instruction": "a", "response": "b"}])})
    with pytest.raises(CourseError) as err:
        refuse_non_records(splits, what="eval_data")
    assert str(err.value) == ("eval_data is a DatasetDict of splits ('validation'), not one set "
                              "of records; give one split, e.g. "
                              "eval_data=dataset_dict['validation'].")


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
    pd.DataFrame([{**r, "id": 7} for r in TWO_ROWS]).to_parquet(tmp_path / "ids.parquet")
    assert load_records(tmp_path / "ids.parquet") == TWO_EXPECTED
    assert conversion_notes(load_raw_rows(tmp_path / "ids.parquet")) == []


def test_nested_values_and_a_null_instruction_in_a_number_column_are_still_refused(tmp_path):
    lists = tmp_path / "lists.parquet"
    pd.DataFrame([{**r, "output": [r["output"]]} for r in TWO_ROWS]).to_parquet(lists)
    with pytest.raises(CourseError, match=r"rows 1, 2: field 'output' should be text but is "
                                          r"a list"):
        load_records(lists)
    nulls = tmp_path / "nulls.parquet"  # pandas stores [4, None] as float64 with a null
    pd.DataFrame({"instruction": [4, None], "output": ["a", "b"]}).to_parquet(nulls)
    with pytest.raises(CourseError, match=r"row 2: 'instruction' is empty or null"):
        load_records(nulls)


def test_column_names_match_the_known_fields_whatever_their_case(tmp_path, capfd, caplog):
    path = tmp_path / "case.csv"
    path.write_text("Instruction, Input, Output\nWhat is 2+2?,,4\nTranslate to French,"
                    "coffee,café\n")
    assert load_records(path) == TWO_EXPECTED
    pd.DataFrame(TWO_ROWS).rename(columns=str.upper).to_parquet(tmp_path / "case.parquet")
    assert load_records(tmp_path / "case.parquet") == TWO_EXPECTED
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
    data = datasets.Dataset.from_list(TWO_ROWS)
    folder = tmp_path / "dd"
    datasets.DatasetDict({"train": data, "validation": data.select([1])}).save_to_disk(
        str(folder))
    assert load_records(folder, split=("test", "validation")) == TWO_EXPECTED[1:]
    assert load_records(folder) == TWO_EXPECTED  # "train", as always
    with pytest.raises(CourseError) as caught:
        load_records(folder, split=("test", "eval"))
    assert str(caught.value) == (f"{folder} holds the splits train, validation but no 'test' or "
                                 f"'eval' split; give the folder of one split, e.g. "
                                 f"{folder}/validation.")  # held out: not its train split
    data.to_json(str(tmp_path / "d.jsonl"))  # a file has no splits: split does not apply
    assert load_records(tmp_path / "d.jsonl", split=("test", "validation")) == TWO_EXPECTED
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
    assert load_records("owner/set", split=("test", "validation")) == TWO_EXPECTED
    assert asked == ["test", "validation"]


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


def test_one_row_of_a_table_is_told_to_give_a_table_of_that_row():
    """show_mask(df.iloc[0], tok) and prepare_examples(df.iloc[0], tok) read the row's cells
    as records: "example 0: expected a JSON object, got a string"."""
    table = pd.DataFrame([{"instruction": "What is 2+2?", "response": "4"}])
    with pytest.raises(CourseError) as err:
        refuse_non_records(table.iloc[0], what="records")
    assert str(err.value) == ("records is one row of a table (a pandas Series), not a list of "
                              "records; give a table of that row instead: df.iloc[[0]].")
    refuse_non_records(table.iloc[[0]], what="records")  # the advice, followed
