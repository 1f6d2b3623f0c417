"""Loading a user's own data: every format `datasets` writes, BOMs, gzip, and row errors."""

import gzip
import json
import re

import datasets
import pytest

from course_lib.errors import CourseError
from course_lib.formatting.records import (
    MAX_ROW_ERRORS,
    RowErrors,
    conversion_notes,
    embedded_sets,
    load_raw_rows,
    load_records,
    refuse_non_records,
)
from course_lib.formatting.templates import format_text

ROWS = [
    {"instruction": "What is 2+2?", "input": "", "output": "4"},
    {"instruction": "Translate to French", "input": "coffee", "output": "café"},
    {"instruction": "日本の首都は?", "input": "", "output": "東京"},
    {"instruction": "Give the code", "input": "", "output": "007"},  # text, not the number 7
]
EXPECTED = [{"instruction": r["instruction"], "input": r["input"], "response": r["output"]}
            for r in ROWS]


@pytest.fixture(scope="module")
def dataset():
    datasets.disable_progress_bars()
    return datasets.Dataset.from_list(ROWS)


@pytest.mark.parametrize("name", ["x.json", "x.jsonl", "x.JSONL", "x.csv", "x.CSV",
                                  "x.parquet", "x.data"])
def test_files_written_by_datasets_load_as_written(tmp_path, dataset, name):
    path = tmp_path / name
    # to_json writes JSON Lines whatever the extension; "x.data" is Parquet under another name.
    writer = {".csv": dataset.to_csv, ".parquet": dataset.to_parquet,
              ".data": dataset.to_parquet}.get(path.suffix.lower(), dataset.to_json)
    writer(str(path))
    assert load_records(path) == EXPECTED


def test_gzipped_json_lines_and_csv_load(tmp_path, dataset):
    dataset.to_json(str(tmp_path / "x.jsonl"))
    dataset.to_csv(str(tmp_path / "x.csv"))
    for name in ("x.jsonl", "x.csv"):
        gz = tmp_path / f"{name}.gz"
        gz.write_bytes(gzip.compress((tmp_path / name).read_bytes()))
        assert load_records(gz) == EXPECTED, name


def test_save_to_disk_folders_load_their_split(tmp_path, dataset):
    dataset.save_to_disk(str(tmp_path / "one"))
    assert load_records(tmp_path / "one") == EXPECTED
    datasets.DatasetDict({"train": dataset, "test": dataset.select([0])}).save_to_disk(
        str(tmp_path / "dict"))
    assert load_records(tmp_path / "dict") == EXPECTED
    assert load_records(tmp_path / "dict", split="test") == EXPECTED[:1]
    with pytest.raises(CourseError, match=r"splits train, test but no 'eval' split"):
        load_records(tmp_path / "dict", split="eval")
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "rows.jsonl").write_text("{}")
    (tmp_path / "plain" / "notes.txt").write_text("mine")  # was the file suggested
    with pytest.raises(CourseError, match=r"not one saved with save_to_disk.*plain/rows.jsonl"):
        load_records(tmp_path / "plain")


def test_a_run_or_model_folder_given_as_data_is_called_a_model(tmp_path):
    run, model = tmp_path / "runA", tmp_path / "model"  # `course eval runA --data runA`
    for folder, held in ((run, "history.json"), (model, "config.json")):
        folder.mkdir()
        (folder / held).write_text("{}")
        (folder / "tokenizer.json").write_text("{}")
        with pytest.raises(CourseError) as info:
            load_records(folder)
        kind = "run" if folder is run else "model"
        assert str(info.value) == (f"'{folder}' is a {kind} folder (it holds {held}): a model, "
                                   f"not data; give it as the model, and a data file with "
                                   f"data='my_data.jsonl'.")
        assert info.value.cli.endswith("with --data my_data.jsonl.")


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


def test_bad_rows_of_a_csv_are_named_by_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("instruction,output\nWhat is 1+1?,2\n,3\nWhat is 2+2?,4\n")
    with pytest.raises(CourseError, match=r"d.csv row 2: 'instruction' is empty or null"):
        load_records(path)


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


def test_text_that_is_not_json_names_the_accepted_formats(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("instruction: say hi\nresponse: hi\n")
    with pytest.raises(CourseError, match=r"is not JSON .*accepted: JSON Lines.*\.parquet"):
        load_records(path)


def test_an_unknown_embedded_set_lists_the_ones_there_are():
    # It used to say "No such file or folder: 'course:nope'", as if course: were a path.
    with pytest.raises(CourseError, match=r"^There is no embedded data set 'course:nope'; the "
                                          r"course has: .*course:eval, .*course:train, "):
        load_records("course:nope")
    with pytest.raises(CourseError, match=r"'course:trian' \(did you mean 'course:train'\?\)"):
        load_records("course:trian")


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


def test_hub_dataset_offline_is_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CourseError, match=r"instead: 'course:train' to train, "
                                          r"'course:eval_styles' to evaluate\."):
        load_records("some-owner/some-dataset-not-cached")


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


@pytest.mark.parametrize(("splits", "held"), [(["train", "validation", "test"], "test"),
                                              (["train", "validation"], "validation"),
                                              (["train"], None)])
def test_a_split_folder_is_scored_on_test_else_validation(tmp_path, splits, held):
    from course_lib.formatting.records import own_held_out_split

    (tmp_path / "dataset_dict.json").write_text(json.dumps({"splits": splits}))
    assert own_held_out_split(tmp_path) == held
    assert own_held_out_split(tmp_path / "nowhere") is None


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


def test_a_csv_with_only_its_header_holds_no_rows(tmp_path):
    # Was "could not be read as csv (ValueError: Instruction "train" corresponds to no data!)".
    path = tmp_path / "d.csv"
    path.write_text("instruction,output\n\n")
    assert load_raw_rows(path) == []


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


@pytest.mark.parametrize("loaded", [[{"instruction": "Hi", "response": "hi"}],
                                    {"instruction": "Hi", "response": "hi"}])
def test_data_already_in_memory_is_not_looked_for_as_a_file(loaded):
    # Was "No such file or folder: '[{'instruction': 'Hi', ...}]'".
    with pytest.raises(CourseError, match=rf"^source must name data to load .*, not a "
                                          rf"{type(loaded).__name__}: data already in memory "
                                          rf"needs no loading; pass it on as it is\.$"):
        load_records(loaded)


def _notes_of_jsonl(tmp_path, rows):
    """conversion_notes on `rows` written to d.jsonl, one per line."""
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return conversion_notes(load_raw_rows(path))


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
